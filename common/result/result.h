// Result<T>: a value or an Error, shaped like std::expected (C++23) so it can be swapped later.
// Error carries a code, a message and an optional cause, printed as a chain:
//   "publish failed <- http 403: AuthorizationError".
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace common {

enum class ErrorCode {
  kInvalidArgument,   // the caller passed something malformed
  kNotFound,          // file, key, resource missing
  kPermissionDenied,  // EACCES and friends
  kIo,                // read/write/stat failed
  kParse,             // bytes that do not follow the format
  kConfig,            // configuration is invalid
  kNetwork,           // connection, DNS, TLS
  kTimeout,           // a deadline passed
  kThrottled,         // the remote side asked us to slow down
  kRemote,            // the remote side rejected the request
  kUnavailable,       // a dependency is not there now, try later
  kCancelled,         // shutdown or superseded
  kInternal,          // a bug
};

std::string_view to_string(ErrorCode code) noexcept;

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const Error* cause() const noexcept { return cause_.get(); }

  // Returns a new error that says what we were doing, with this one as its cause.
  Error wrap(std::string context) const& {
    Error outer(code_, std::move(context));
    outer.cause_ = std::make_shared<Error>(*this);
    return outer;
  }
  Error wrap(ErrorCode code, std::string context) const& {
    Error outer = wrap(std::move(context));
    outer.code_ = code;
    return outer;
  }

  // "outer <- inner <- innermost".
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::shared_ptr<const Error> cause_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  template <typename U = T,
            typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                        !std::is_same_v<std::decay_t<U>, Error> &&
                                        !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : data_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}      // NOLINT

  bool ok() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  bool has_value() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(data_); }
  const T& value() const& { assert(ok()); return std::get<0>(data_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(data_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(data_)); }

  template <typename U>
  T value_or(U&& fallback) const& { return ok() ? value() : static_cast<T>(std::forward<U>(fallback)); }

 private:
  std::variant<T, Error> data_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  bool has_value() const noexcept { return ok(); }
  void value() const { assert(ok()); }
  const Error& error() const& { assert(!ok()); return *error_; }
  Error&& error() && { assert(!ok()); return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace common

// Propagates an error from an expression returning Result<...>; use inside functions returning Result.
#define TW_TRY(expr)                                  \
  do {                                                \
    auto tw_try_result_ = (expr);                     \
    if (!tw_try_result_.ok()) return std::move(tw_try_result_).error(); \
  } while (0)
