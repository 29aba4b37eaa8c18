#include "common/result/result.h"

namespace common {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kIo: return "i/o error";
    case ErrorCode::kParse: return "parse error";
    case ErrorCode::kConfig: return "config error";
    case ErrorCode::kNetwork: return "network error";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kThrottled: return "throttled";
    case ErrorCode::kRemote: return "rejected by remote";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out = message_;
  for (const Error* c = cause(); c != nullptr; c = c->cause()) {
    out += " <- ";
    out += c->message();
  }
  return out;
}

}  // namespace common
