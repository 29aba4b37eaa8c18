// AwsClient: the one path every AWS call takes. Per attempt it fetches credentials, signs (SigV4, at
// the skew-corrected time), sends through the HttpClient and classifies the answer; then it retries
// the standard-mode way (RetryPolicy: full-jitter backoff, a retry quota shared by every call on this
// client), fixes clock skew and expired credentials with one immediate extra attempt each, and calls
// back once with the response or the final error.
// Spec: shared/spec/aws-wire.md §1.6 (skew), §2.4 (gzip), §7 (retries).
//
// Threading: event-loop thread only (the HttpClient, Scheduler and CredentialsProvider all call back
// there). Nothing blocks; backoff delays are Scheduler timers.
// Lifetime: destroying the client cancels its pending backoff timers; handlers of calls still in flight
// are then dropped (never called), so owners destroy sinks before the client and the client before
// the HttpClient.
// Secrets: credentials, signatures and tokens are never logged nor copied into errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

#include "common/aws/aws_error.h"
#include "common/aws/credentials_provider.h"
#include "common/aws/endpoints.h"
#include "common/aws/error_class.h"
#include "common/aws/retry.h"
#include "common/aws/sigv4.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/http/http_types.h"
#include "common/log/log.h"
#include "common/result/result.h"

namespace common::aws {

// Beyond this gap between the server's Date and our signing time a skew error is worth a correction
// (aws-wire.md §1.6: services allow 5 minutes; SDKs correct above 4).
constexpr std::chrono::minutes kClockSkewCorrectionThreshold{4};

// What a sink asks for.
struct AwsCall {
  Service service = Service::kCloudWatch;
  std::string region;    // signing region
  std::string endpoint;  // scheme://host[:port], already resolved (resolve_endpoint) by the caller
  std::string method = "POST";
  std::string path = "/";  // raw, already encoded (S3: encoded once, signed as is)
  std::string query;       // raw, already encoded, without '?'
  std::vector<common::http::Header> headers;  // content-type, x-amz-target, ...
  std::string body;
  bool gzip_body = false;  // compress once (Content-Encoding: gzip) before signing (§2.4)
  std::chrono::milliseconds timeout{30000};  // per attempt
  std::string operation;  // for logs and errors: "PutMetricData"
};

// A POST of a query-protocol API (CloudWatch, SNS, STS): form body, "/" path, the endpoint's signing
// region. `body` is the encoded form ("Action=PutMetricData&...").
AwsCall query_protocol_call(Service service, const Endpoint& endpoint, std::string operation, std::string body);

// A 2xx response.
struct AwsCallResult {
  common::http::Response response;
  int attempts = 0;  // HTTP requests sent, corrections included
};

// The final failure: an AWS error response, or a transport/credential failure mapped into AwsError
// (http_status 0, code "NetworkError" / "RequestTimeout" / "RequestCancelled" / "LocalError" /
// "CredentialsUnavailable").
struct AwsCallError {
  AwsError error;
  int attempts = 0;
  std::string summary;  // "PutMetricData: http 400 InvalidParameterValue: ... after 1 attempt(s)"
  bool transport = false;  // no HTTP response (or no credentials): error.http_status is 0
  common::ErrorCode transport_code = common::ErrorCode::kInternal;  // meaningful when transport

  // kThrottled for throttling, kUnavailable for 5xx/transient codes, the transport's code when no
  // response arrived, kPermissionDenied for credential problems, else kRemote.
  common::Error to_error() const;
};

// The one delivery rule (common/aws/error_class.h) applied to a failed call: transport_code says
// which TransportFailure it was (kTimeout; kNetwork/kUnavailable: no response; kNotFound,
// kPermissionDenied, kConfig: no credentials; anything else: local).
TransportFailure transport_failure_of(const AwsCallError& error);
DeliveryClass classify(const AwsCallError& error);

using AwsCallOutcome = std::variant<AwsCallResult, AwsCallError>;
using AwsCallHandler = std::function<void(AwsCallOutcome)>;

class AwsClient {
 public:
  struct Stats {
    std::uint64_t calls = 0;                 // call() invocations
    std::uint64_t attempts = 0;              // HTTP requests sent
    std::uint64_t retries = 0;               // backoff retries (quota-charged)
    std::uint64_t throttled = 0;             // responses classified as throttling
    std::uint64_t skew_corrections = 0;      // clock offset changed + immediate re-sign
    std::uint64_t credential_refreshes = 0;  // provider.invalidate() + refetch + retry
    std::uint64_t failures = 0;              // calls that ended with AwsCallError
    std::uint64_t timeouts = 0;              // attempts with no answer within the call's timeout
    std::uint64_t resent_after_timeout = 0;  // of those, sent again (the service may hold the first copy)
  };

  // seed: for the backoff jitter (SeededRng).
  AwsClient(common::http::HttpClient& http, CredentialsProvider& credentials, common::Scheduler& scheduler,
            const common::Clock& clock, RetryConfig retry = {}, std::uint64_t seed = 0);
  ~AwsClient();
  AwsClient(const AwsClient&) = delete;
  AwsClient& operator=(const AwsClient&) = delete;

  // Runs the call with retries; done runs exactly once, on the loop, never inline.
  void call(AwsCall call, AwsCallHandler done);

  const Stats& stats() const { return stats_; }
  // Learned server time minus local wall time; added to the clock when signing.
  std::chrono::seconds clock_offset() const { return offset_; }
  int available_retry_quota() const { return policy_.available_quota(); }

 private:
  struct CallState;
  void start_attempt(const std::shared_ptr<CallState>& st);
  void send_attempt(const std::shared_ptr<CallState>& st, Credentials creds);
  void on_response(const std::shared_ptr<CallState>& st, common::Result<common::http::Response> r);
  void retry_after(const std::shared_ptr<CallState>& st, std::chrono::milliseconds delay);
  void succeed(const std::shared_ptr<CallState>& st, common::http::Response response);
  void fail(const std::shared_ptr<CallState>& st, AwsCallError error);
  void deliver(const std::shared_ptr<CallState>& st, AwsCallOutcome outcome);

  common::http::HttpClient& http_;
  CredentialsProvider& credentials_;
  common::Scheduler& scheduler_;
  const common::Clock& clock_;
  RetryPolicy policy_;
  SeededRng rng_;
  SigV4Signer signer_;
  common::log::RateLimiter log_limiter_;
  std::chrono::seconds offset_{0};
  Stats stats_;
  std::shared_ptr<bool> alive_;  // callbacks hold a weak_ptr: expired = the client is gone
  std::unordered_set<common::TimerId> timers_;
};

}  // namespace common::aws
