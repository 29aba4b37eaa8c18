#include "common/aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <utility>

namespace common::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayloadPrefix = "UNSIGNED-PAYLOAD";
constexpr std::string_view kStreamingPrefix = "STREAMING-";

// Fetched once: implicit fetching on every call costs measurable time in OpenSSL 3.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

using Digest = std::array<unsigned char, 32>;

Digest sha256_raw(std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr);
  return out;
}

std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n * 2, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[p[i] >> 4];
    s[2 * i + 1] = kHex[p[i] & 0x0f];
  }
  return s;
}

std::string_view as_view(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes %XX; a '%' not followed by two hex digits stays literal. '+' stays '+'
// (our callers never form-encode query strings; botocore does the same).
std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trim, and collapse every whitespace run (including folded line breaks) to one space.
std::string canonical_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

struct ParsedUrl {
  std::string scheme;
  std::string host_header;  // host[:port], port only when non-default
  std::string path;         // raw, as sent; may be empty
  std::string query;        // raw, without '?'
};

common::Result<ParsedUrl> parse_url(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return common::Error(common::ErrorCode::kInvalidArgument,
                         "sigv4: bad request url \"" + std::string(url) + "\": " + std::string(why));
  };
  ParsedUrl out;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return bad("no scheme");
  out.scheme = lower(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = url.substr(scheme_end + 3);
  auto frag = rest.find('#');
  if (frag != std::string_view::npos) rest = rest.substr(0, frag);
  auto auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view path_query = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.empty()) return bad("no host");
  if (authority.find('@') != std::string_view::npos) return bad("userinfo is not allowed");

  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after IPv6 literal");
      port = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return bad("no host");
  for (char c : port) {
    if (c < '0' || c > '9') return bad("port is not a number");
  }
  std::string_view default_port = out.scheme == "https" ? "443" : "80";
  out.host_header = lower(host);
  if (!port.empty() && port != default_port) {
    out.host_header += ':';
    out.host_header += port;
  }
  auto q = path_query.find('?');
  out.path = std::string(path_query.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(path_query.substr(q + 1));
  return out;
}

// Non-S3 canonical URI: RFC 3986 dot-segment removal, "//" collapse, then each segment
// URI-encoded (so an already-encoded '%' becomes %25: AWS's "encode twice").
std::string canonical_uri_normalized(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    bool last = j == path.size();
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = true;
    } else if (seg == ".") {
      trailing_slash = true;
    } else if (seg.empty()) {
      trailing_slash = true;  // only matters when this is the last piece
    } else {
      segments.push_back(seg);
      trailing_slash = false;
    }
    if (last) break;
    i = j + 1;
  }
  std::string out;
  for (std::string_view seg : segments) {
    out += '/';
    out += uri_encode(seg, true);
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

// S3 canonical URI: the path as sent, encoded once. Valid %XX escapes already present are kept
// (hex upper-cased) so a pre-encoded key is not encoded a second time; '/' is kept.
std::string canonical_uri_s3(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size() + 8);
  for (std::size_t i = 0; i < path.size(); ++i) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c == '%' && i + 2 < path.size() && hex_value(path[i + 1]) >= 0 &&
        hex_value(path[i + 2]) >= 0) {
      out += '%';
      out += kHex[hex_value(path[i + 1])];
      out += kHex[hex_value(path[i + 2])];
      i += 2;
    } else if (is_unreserved(c) || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  if (out.empty() || out.front() != '/') out.insert(out.begin(), '/');
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t i = 0;
  while (i <= query.size()) {
    std::size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view part = query.substr(i, j - i);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string_view name = part.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
      params.emplace_back(uri_encode(percent_decode(name), true), uri_encode(percent_decode(value), true));
    }
    if (j == query.size()) break;
    i = j + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

bool is_unsigned_header(std::string_view lower_name) {
  return lower_name == "user-agent" || lower_name == "expect" || lower_name == "transfer-encoding" ||
         lower_name == "connection" || lower_name == "authorization";
}

void remove_header(std::vector<common::http::Header>& headers, std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const common::http::Header& h) { return iequals(h.name, name); }),
                headers.end());
}

const common::http::Header* find_local(const std::vector<common::http::Header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return &h;
  }
  return nullptr;
}

bool valid_scope_part(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return !is_space(c) && c != '/'; });
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  Digest d = sha256_raw(data);
  return to_hex(d.data(), d.size());
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int len = 0;
  HMAC(sha256_md(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &len);
  return out;
}

std::array<unsigned char, 32> derive_signing_key(std::string_view secret, std::string_view date,
                                                 std::string_view region, std::string_view service) {
  std::string k_secret = "AWS4";
  k_secret += secret;
  Digest k_date = hmac_sha256(k_secret, date);
  std::fill(k_secret.begin(), k_secret.end(), '\0');
  Digest k_region = hmac_sha256(as_view(k_date), region);
  Digest k_service = hmac_sha256(as_view(k_region), service);
  return hmac_sha256(as_view(k_service), "aws4_request");
}

std::string uri_encode(std::string_view in, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

std::string format_amz_date(common::WallTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[20];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Signer::Key SigV4Signer::signing_key(std::string_view secret, std::string_view date, std::string_view region,
                                          std::string_view service) {
  Key secret_hash = sha256_raw(secret);
  std::string scope;
  scope.reserve(date.size() + region.size() + service.size() + 2);
  scope.append(date).append("/").append(region).append("/").append(service);

  std::lock_guard<std::mutex> lock(mu_);
  ++tick_;
  for (auto& e : cache_) {
    if (e.secret_hash == secret_hash && e.scope == scope) {
      e.last_used = tick_;
      return e.signing_key;
    }
  }
  ++derivations_;
  Key key = derive_signing_key(secret, date, region, service);
  if (cache_.size() >= kKeyCacheCapacity) {
    auto oldest = std::min_element(cache_.begin(), cache_.end(),
                                   [](const CacheEntry& a, const CacheEntry& b) { return a.last_used < b.last_used; });
    cache_.erase(oldest);
  }
  cache_.push_back(CacheEntry{secret_hash, std::move(scope), key, tick_});
  return key;
}

std::uint64_t SigV4Signer::key_derivations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return derivations_;
}

void SigV4Signer::clear_key_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

common::Status SigV4Signer::sign(common::http::Request& req, const Credentials& creds, const SigningParams& p,
                                 SigningDebug* debug) {
  using common::Error;
  using common::ErrorCode;
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return Error(ErrorCode::kInvalidArgument, "sigv4: credentials have no access key id or secret key");
  }
  if (!valid_scope_part(creds.access_key_id)) {
    return Error(ErrorCode::kInvalidArgument, "sigv4: access key id contains '/' or whitespace");
  }
  if (!valid_scope_part(p.region)) {
    return Error(ErrorCode::kInvalidArgument, "sigv4: bad signing region \"" + p.region + "\"");
  }
  if (!valid_scope_part(p.service)) {
    return Error(ErrorCode::kInvalidArgument, "sigv4: bad signing service \"" + p.service + "\"");
  }
  if (req.method.empty()) return Error(ErrorCode::kInvalidArgument, "sigv4: request has no method");
  auto url = parse_url(req.url);
  if (!url.ok()) return std::move(url).error();

  // Re-signing (every retry attempt) must not sign or send stale values.
  remove_header(req.headers, "authorization");
  remove_header(req.headers, "x-amz-date");
  remove_header(req.headers, "x-amz-security-token");

  const std::string amz_date = format_amz_date(p.time);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  req.headers.push_back({"X-Amz-Date", amz_date});
  const bool has_token = !creds.session_token.empty();
  if (has_token && !p.session_token_after_signing) {
    req.headers.push_back({"X-Amz-Security-Token", creds.session_token});
  }

  if (!p.precomputed_payload_hash.empty() &&
      (p.precomputed_payload_hash.size() != 64 ||
       !std::all_of(p.precomputed_payload_hash.begin(), p.precomputed_payload_hash.end(),
                    [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))) {
    return Error(ErrorCode::kInvalidArgument, "sigv4: precomputed payload hash is not 64 lowercase hex digits");
  }
  const auto body_hash = [&] {
    return p.precomputed_payload_hash.empty() ? sha256_hex(req.body) : p.precomputed_payload_hash;
  };
  std::string payload_hash;
  if (p.s3_path_rules || p.sign_body_hash_header) {
    const auto* existing = find_local(req.headers, "x-amz-content-sha256");
    std::string_view v = existing ? std::string_view(existing->value) : std::string_view{};
    if (existing && (v.substr(0, kUnsignedPayloadPrefix.size()) == kUnsignedPayloadPrefix ||
                     v.substr(0, kStreamingPrefix.size()) == kStreamingPrefix)) {
      payload_hash = std::string(v);  // caller chose a special payload mode: sign it as given
    } else {
      payload_hash = body_hash();
      remove_header(req.headers, "x-amz-content-sha256");
      req.headers.push_back({"x-amz-content-sha256", payload_hash});
    }
  } else {
    payload_hash = body_hash();
  }

  // name -> values in the order sent; std::map keeps names sorted.
  std::map<std::string, std::vector<std::string>> signed_headers;
  for (const auto& h : req.headers) {
    std::string name = lower(h.name);
    if (is_unsigned_header(name)) continue;
    signed_headers[std::move(name)].push_back(canonical_header_value(h.value));
  }
  if (signed_headers.find("host") == signed_headers.end()) {
    signed_headers["host"].push_back(url->host_header);
  }

  std::string canonical_headers;
  std::string signed_names;
  for (const auto& [name, values] : signed_headers) {
    canonical_headers += name;
    canonical_headers += ':';
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) canonical_headers += ',';
      canonical_headers += values[i];
    }
    canonical_headers += '\n';
    if (!signed_names.empty()) signed_names += ';';
    signed_names += name;
  }

  std::string canonical_request;
  canonical_request.reserve(256 + canonical_headers.size() + url->path.size() + url->query.size());
  canonical_request += req.method;
  canonical_request += '\n';
  canonical_request += p.s3_path_rules ? canonical_uri_s3(url->path) : canonical_uri_normalized(url->path);
  canonical_request += '\n';
  canonical_request += canonical_query(url->query);
  canonical_request += '\n';
  canonical_request += canonical_headers;
  canonical_request += '\n';
  canonical_request += signed_names;
  canonical_request += '\n';
  canonical_request += payload_hash;

  std::string scope;
  scope.append(date).append("/").append(p.region).append("/").append(p.service).append("/aws4_request");

  std::string string_to_sign;
  string_to_sign.reserve(160);
  string_to_sign.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  string_to_sign += sha256_hex(canonical_request);

  Key key = signing_key(creds.secret_access_key, date, p.region, p.service);
  Digest sig = hmac_sha256(as_view(key), string_to_sign);

  std::string authorization;
  authorization.reserve(200 + signed_names.size());
  authorization.append(kAlgorithm)
      .append(" Credential=")
      .append(creds.access_key_id)
      .append("/")
      .append(scope)
      .append(", SignedHeaders=")
      .append(signed_names)
      .append(", Signature=")
      .append(to_hex(sig.data(), sig.size()));
  req.headers.push_back({"Authorization", authorization});
  if (has_token && p.session_token_after_signing) {
    req.headers.push_back({"X-Amz-Security-Token", creds.session_token});
  }

  if (debug) {
    debug->canonical_request = std::move(canonical_request);
    debug->string_to_sign = std::move(string_to_sign);
    debug->authorization = std::move(authorization);
  }
  return {};
}

}  // namespace common::aws
