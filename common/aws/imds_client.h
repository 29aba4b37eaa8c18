// ImdsClient: the EC2 instance metadata service (IMDSv2), asynchronous on the event loop.
// Spec: shared/spec/aws-wire.md §5;
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
//
// - A session token (PUT /latest/api/token) is fetched once, shared by concurrent callers, and
//   refreshed a minute before its TTL runs out; a GET answered 401 drops it and retries once.
// - IMDSv1 (GETs without a token) only when allow_imdsv1 and the token PUT is refused (403/404/405).
// - Off EC2, the first contact fails fast (connection refused, or the 1 s attempt timeout); the client
//   then answers "no IMDS" at once for `unavailable_cache` instead of probing again on every call.
// - Hop-limit trap: when the token PUT times out but a GET to the same host answers, the PUT reply is
//   being dropped (the hop limit, in a container): that is logged as a warning with the fix.
//
// Threading: all calls on the loop thread; handlers run on it exactly once: inline only for an answer
// known without I/O (disabled, cached "no IMDS"). Handlers still pending when the client is destroyed are
// dropped, not called.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/aws/sigv4.h"
#include "common/clock/clock.h"
#include "common/http/http_types.h"
#include "common/result/result.h"

namespace common::aws {

// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
inline constexpr std::chrono::seconds kImdsMaxTokenTtl{21600};
// How long the hop-limit probe GET may take after a token PUT timed out (IMDS answers in
// milliseconds; this keeps a non-EC2 start under 2 s with the default 1 s attempt timeout).
inline constexpr std::chrono::milliseconds kImdsHopProbeTimeout{500};
// Refresh the token this long before its TTL ends.
inline constexpr std::chrono::seconds kImdsTokenRefreshMargin{60};

struct ImdsOptions {
  std::string endpoint = "http://169.254.169.254";  // final value (config / AWS_EC2_METADATA_SERVICE_ENDPOINT)
  bool enabled = true;                                // false: every call fails with kUnavailable
  bool allow_imdsv1 = false;
  std::chrono::milliseconds attempt_timeout{1000};    // per HTTP attempt (connect + response)
  int retries = 1;  // extra attempts for 5xx/429 answers of a reachable IMDS (never for "nothing there")
  std::chrono::seconds token_ttl = kImdsMaxTokenTtl;
  std::chrono::seconds unavailable_cache{300};        // remember "no IMDS" this long
};

struct InstanceIdentity {
  std::string instance_id;
  std::string region;
  std::string availability_zone;
  std::string instance_type;
  std::string image_id;  // AMI id
  std::string account_id;
  std::string private_ip;
  std::string hostname;  // from meta-data/hostname (not part of the document)
};

// Parses /latest/dynamic/instance-identity/document (hostname left empty).
[[nodiscard]] common::Result<InstanceIdentity> parse_instance_identity(std::string_view json);

// Parses the role credentials document ({"Code":"Success","AccessKeyId",...,"Expiration"}).
// Code other than Success -> kRemote with the document's Message (never key material).
[[nodiscard]] common::Result<Credentials> parse_imds_credentials(std::string_view json);

class ImdsClient {
 public:
  template <typename T>
  using Handler = std::function<void(common::Result<T>)>;

  ImdsClient(common::http::HttpClient& http, const common::Clock& clock, ImdsOptions options);
  ~ImdsClient();
  ImdsClient(const ImdsClient&) = delete;
  ImdsClient& operator=(const ImdsClient&) = delete;

  // GET <endpoint><path> (path starts with "/latest/"). 404 -> kNotFound; "no IMDS" -> kUnavailable.
  void get(std::string path, Handler<std::string> done);
  void instance_identity(Handler<InstanceIdentity> done);
  // Name of the instance profile's role (first line of iam/security-credentials/); kNotFound = no role.
  void role_name(Handler<std::string> done);
  // The role's credentials (role discovered first); source = "imds role <name>".
  void role_credentials(Handler<Credentials> done);
  // Instance tags (needs "Allow tags in metadata"); kNotFound when not enabled.
  void instance_tags(Handler<std::vector<std::pair<std::string, std::string>>> done);

  // The cached "no IMDS" conclusion, if any (message says why: refused, timed out, hop limit, disabled).
  std::optional<common::Error> unavailable() const;
  // The last hop-limit diagnosis logged, empty if none (for status output and tests).
  const std::string& hop_limit_warning() const { return hop_warning_; }
  const ImdsOptions& options() const { return options_; }

 private:
  struct State;
  enum class Mode { kUnknown, kV2, kV1 };
  using TokenHandler = std::function<void(common::Result<std::optional<std::string>>)>;

  void with_token(TokenHandler done);
  void fetch_token(int attempt);
  void token_done(common::Result<std::optional<std::string>> result);
  void probe_hop_limit(common::Error put_error);
  void get_attempt(std::string path, int attempt, bool retried_401, Handler<std::string> done);
  void mark_unavailable(common::Error error);
  common::http::Request make_request(std::string method, const std::string& path) const;

  common::http::HttpClient& http_;
  const common::Clock& clock_;
  ImdsOptions options_;
  std::shared_ptr<State> state_;  // handlers hold a weak_ptr: expired = client destroyed
  Mode mode_ = Mode::kUnknown;
  std::string token_;
  common::SteadyTime token_refresh_at_{};
  bool token_in_flight_ = false;
  std::vector<TokenHandler> token_waiters_;
  std::optional<common::Error> unavailable_;
  common::SteadyTime unavailable_until_{};
  std::string hop_warning_;
};

}  // namespace common::aws
