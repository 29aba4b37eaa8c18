#include "common/aws/aws_error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>

#include "common/aws/retry.h"

namespace common::aws {
namespace {

// Skew beyond this is treated as a clock problem (aws-wire.md §1.6: services allow 5 min).
constexpr std::chrono::minutes kSkewThreshold{4};

// botocore's throttling list (aws-wire.md §7) + SNS Throttled/KMSThrottling (§3.1).
constexpr std::array<std::string_view, 16> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "Throttled",
    "KMSThrottling",
};

// Standard-mode transient codes (§7) + the services' own "try again" codes (§2.5, §3.1, §6,
// sinks §1.5/§2.4).
constexpr std::array<std::string_view, 9> kTransientCodes = {
    "RequestTimeout",       "RequestTimeoutException", "PriorRequestNotComplete", "InternalFailure",
    "InternalServiceError", "InternalError",           "ServiceUnavailable",      "ServiceUnavailableException",
    "IDPCommunicationError",
};

constexpr std::array<std::string_view, 3> kSkewCodes = {"RequestTimeTooSkewed", "RequestExpired",
                                                        "RequestInTheFuture"};
constexpr std::array<std::string_view, 3> kPossibleSkewCodes = {"InvalidSignatureException", "SignatureDoesNotMatch",
                                                                "AuthFailure"};
// Refresh + retry once: ExpiredToken* (§2.5, sinks §2.4), UnrecognizedClientException (sinks
// §1.5, Logs), InvalidAccessKeyId (sinks §2.4, S3: rotated instance-role keys).
constexpr std::array<std::string_view, 4> kExpiredCredentialCodes = {"ExpiredToken", "ExpiredTokenException",
                                                                     "UnrecognizedClientException",
                                                                     "InvalidAccessKeyId"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& table, std::string_view code) {
  return std::find(table.begin(), table.end(), code) != table.end();
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Local case-insensitive header lookup (common/http's find_header lives in another library).
std::optional<std::string_view> header(const common::http::Response& r, std::string_view name) {
  for (const auto& h : r.headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Smithy's rule for JSON error type names: drop anything after ':', then anything up to the last
// '#'. "com.amazonaws.logs#ResourceNotFoundException:http://..." -> "ResourceNotFoundException".
std::string sanitize_error_type(std::string_view t) {
  t = trim(t);
  auto colon = t.find(':');
  if (colon != std::string_view::npos) t = t.substr(0, colon);
  auto hash = t.rfind('#');
  if (hash != std::string_view::npos) t = t.substr(hash + 1);
  return std::string(t);
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x110000) {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    std::optional<std::string_view> rep;
    if (ent == "lt") rep = "<";
    else if (ent == "gt") rep = ">";
    else if (ent == "amp") rep = "&";
    else if (ent == "quot") rep = "\"";
    else if (ent == "apos") rep = "'";
    if (rep) {
      out += *rep;
      i = semi;
      continue;
    }
    if (ent.size() >= 2 && ent[0] == '#') {
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      std::string digits(ent.substr(hex ? 2 : 1));
      char* end = nullptr;
      unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (!digits.empty() && end && *end == '\0') {
        append_utf8(out, cp);
        i = semi;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

std::optional<std::string> xml_tag_text(std::string_view xml, std::string_view tag) {
  std::size_t pos = 0;
  while (true) {
    auto lt = xml.find('<', pos);
    if (lt == std::string_view::npos) return std::nullopt;
    auto gt = xml.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    std::string_view open = xml.substr(lt + 1, gt - lt - 1);
    pos = gt + 1;
    if (open.empty() || open[0] == '/' || open[0] == '?' || open[0] == '!') continue;
    auto name_end = open.find_first_of(" \t\r\n/");
    std::string_view name = open.substr(0, name_end);
    std::string_view local = name.substr(name.find(':') == std::string_view::npos ? 0 : name.find(':') + 1);
    if (local != tag) continue;
    if (!open.empty() && open.back() == '/') return std::string();  // <Tag/>
    std::string close = "</" + std::string(name) + ">";
    auto end = xml.find(close, pos);
    if (end == std::string_view::npos) return std::nullopt;  // truncated document
    std::string_view inner = xml.substr(pos, end - pos);
    // CDATA sections are passed through verbatim.
    constexpr std::string_view kCdataOpen = "<![CDATA[";
    if (inner.substr(0, kCdataOpen.size()) == kCdataOpen && inner.size() >= kCdataOpen.size() + 3 &&
        inner.substr(inner.size() - 3) == "]]>") {
      return std::string(inner.substr(kCdataOpen.size(), inner.size() - kCdataOpen.size() - 3));
    }
    return decode_entities(inner);
  }
}

bool is_throttling_code(std::string_view code) { return contains(kThrottlingCodes, code); }
bool is_transient_code(std::string_view code) { return contains(kTransientCodes, code); }
bool is_clock_skew_code(std::string_view code) { return contains(kSkewCodes, code); }
bool is_possible_clock_skew_code(std::string_view code) { return contains(kPossibleSkewCodes, code); }
bool is_expired_credentials_code(std::string_view code) { return contains(kExpiredCredentialCodes, code); }
bool is_retryable_status(int s) { return s == 500 || s == 502 || s == 503 || s == 504; }

std::string AwsError::to_string() const {
  std::string s = "http " + std::to_string(http_status);
  if (!code.empty()) s += " " + code;
  if (!message.empty()) s += ": " + message;
  if (!request_id.empty()) s += " (request id " + request_id + ")";
  return s;
}

AwsError parse_aws_error(const common::http::Response& response, std::optional<common::WallTime> local_now) {
  AwsError e;
  e.http_status = static_cast<int>(response.status);
  std::string_view body = trim(response.body);

  if (!body.empty() && body.front() == '<') {
    // Query: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
    // S3:    <Error><Code/><Message/><RequestId/><HostId/></Error>
    auto error_start = body.find("<Error>");
    std::string_view scope = error_start == std::string_view::npos ? body : body.substr(error_start);
    if (auto code = xml_tag_text(scope, "Code")) e.code = std::string(trim(*code));
    if (auto msg = xml_tag_text(scope, "Message")) e.message = *msg;
    if (auto rid = xml_tag_text(body, "RequestId")) e.request_id = std::string(trim(*rid));
  } else if (!body.empty() && body.front() == '{') {
    auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      for (const char* key : {"__type", "code", "Code"}) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string()) {
          e.code = sanitize_error_type(it->get<std::string>());
          break;
        }
      }
      for (const char* key : {"message", "Message", "errorMessage"}) {
        auto it = j.find(key);
        if (it != j.end() && it->is_string()) {
          e.message = it->get<std::string>();
          break;
        }
      }
    }
  }

  // rest-json puts the code in X-Amzn-ErrorType; prefer the body's, fall back to the header.
  if (e.code.empty()) {
    if (auto t = header(response, "x-amzn-errortype")) e.code = sanitize_error_type(*t);
  }
  // awsQueryCompatible JSON: "x-amzn-query-error: <Code>;<Sender|Receiver>" carries the query-era
  // code the rest of the agent knows; it wins over the JSON __type.
  if (auto q = header(response, "x-amzn-query-error")) {
    std::string_view v = trim(*q);
    std::string_view code = v.substr(0, v.find(';'));
    if (!code.empty()) e.code = std::string(code);
  }
  if (e.request_id.empty()) {
    for (const char* name : {"x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"}) {
      if (auto rid = header(response, name)) {
        e.request_id = std::string(trim(*rid));
        break;
      }
    }
  }

  e.throttling = e.http_status == 429 || is_throttling_code(e.code);
  e.expired_credentials = is_expired_credentials_code(e.code);
  e.clock_skew = is_clock_skew_code(e.code);
  if (!e.clock_skew && local_now && is_possible_clock_skew_code(e.code)) {
    if (auto date = header(response, "date")) {
      if (auto skew = skew_from_date_header(*date, *local_now)) {
        auto abs = *skew < std::chrono::seconds(0) ? -*skew : *skew;
        e.clock_skew = abs > kSkewThreshold;
      }
    }
  }
  const bool transient = is_transient_code(e.code) || (is_retryable_status(e.http_status) && !e.clock_skew &&
                                                       !e.expired_credentials);
  e.retryable = e.throttling || transient;
  return e;
}

}  // namespace common::aws
