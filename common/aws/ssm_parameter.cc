#include "common/aws/ssm_parameter.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/aws/sigv4.h"

namespace common::aws {
namespace {

constexpr std::size_t kMaxCacheStem = 80;
// GetParameter: one small JSON answer; a slow Parameter Store is not worth a 30 s wait per attempt.
constexpr std::chrono::milliseconds kGetParameterTimeout{10000};

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-' || c == '/';
}

}  // namespace

std::string ssm_region_from_arn(std::string_view name) {
  // arn:<partition>:ssm:<region>:<account>:parameter/<name>
  if (!name.starts_with("arn:")) return {};
  std::string_view fields[6];
  std::string_view rest = name;
  for (int i = 0; i < 5; ++i) {
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return {};
    fields[i] = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  fields[5] = rest;
  if (fields[2] != "ssm" || !fields[5].starts_with("parameter")) return {};
  return is_valid_region(fields[3]) ? std::string(fields[3]) : std::string();
}

std::string ssm_parameter_name_problem(std::string_view name) {
  if (name.empty()) return "empty parameter name";
  if (name.size() > kSsmMaxNameLength) return "longer than 2048 characters";
  std::string_view path = name;
  if (name.starts_with("arn:")) {
    if (ssm_region_from_arn(name).empty()) {
      return "expected an ARN like arn:aws:ssm:us-east-1:123456789012:parameter/trailwatch/fleet";
    }
    path = name.substr(name.find(":parameter") + std::string_view(":parameter").size());
    if (path.empty()) return "the ARN names no parameter";
  }
  // An optional version/label selector: NAME:3 or NAME:prod.
  const std::size_t colon = path.find(':');
  std::string_view selector;
  if (colon != std::string_view::npos) {
    selector = path.substr(colon + 1);
    path = path.substr(0, colon);
    if (selector.empty() || selector.find(':') != std::string_view::npos) return "bad version or label after ':'";
  }
  if (path.empty() || !std::all_of(path.begin(), path.end(), name_char)) {
    return "a parameter name has only letters, digits and _ . - /";
  }
  if (path.find("//") != std::string_view::npos) return "empty path segment (\"//\")";
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string_view l = lower[0] == '/' ? std::string_view(lower).substr(1) : std::string_view(lower);
  if (l.starts_with("aws") || l.starts_with("ssm")) return "names starting with \"aws\" or \"ssm\" are reserved";
  return {};
}

std::string encode_get_parameter_request(std::string_view name, bool with_decryption) {
  nlohmann::json body = {{"Name", std::string(name)}, {"WithDecryption", with_decryption}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

AwsCall get_parameter_call(const Endpoint& endpoint, std::string_view name, bool with_decryption) {
  AwsCall call;
  call.service = Service::kSsm;
  call.region = endpoint.signing_region;
  call.endpoint = endpoint.url;
  call.method = "POST";
  call.path = "/";
  call.headers = {{"Content-Type", std::string(kSsmContentType)},
                  {"X-Amz-Target", std::string(kSsmGetParameterTarget)}};
  call.body = encode_get_parameter_request(name, with_decryption);
  call.timeout = kGetParameterTimeout;
  call.operation = "GetParameter";
  return call;
}

common::Result<SsmParameter> parse_get_parameter_response(std::string_view body) {
  auto bad = [](const std::string& why) {
    return common::Error(common::ErrorCode::kRemote, "GetParameter response: " + why);
  };
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  auto it = doc.find("Parameter");
  if (it == doc.end() || !it->is_object()) return bad("no \"Parameter\" object");
  const nlohmann::json& p = *it;
  SsmParameter out;
  auto str = [&p](const char* key, std::string& target) {
    auto f = p.find(key);
    if (f != p.end() && f->is_string()) target = f->get<std::string>();
  };
  auto value = p.find("Value");
  if (value == p.end() || !value->is_string()) return bad("Parameter has no string \"Value\"");
  out.value = value->get<std::string>();
  str("Name", out.name);
  str("Type", out.type);
  str("ARN", out.arn);
  if (auto v = p.find("Version"); v != p.end() && v->is_number_integer()) out.version = v->get<std::int64_t>();
  if (auto d = p.find("LastModifiedDate"); d != p.end() && d->is_number()) out.last_modified = d->get<double>();
  return out;
}

std::string ssm_cache_file_name(std::string_view name) {
  std::string stem;
  for (char c : name) {
    stem.push_back(name_char(c) && c != '/' ? c : '_');
  }
  const std::size_t first = stem.find_first_not_of("_.");
  stem = first == std::string::npos ? std::string() : stem.substr(first);
  if (stem.size() > kMaxCacheStem) stem.resize(kMaxCacheStem);
  if (stem.empty()) stem = "parameter";
  return stem + "-" + sha256_hex(name).substr(0, 8) + ".yaml";
}

}  // namespace common::aws
