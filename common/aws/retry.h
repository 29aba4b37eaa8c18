// AWS SDK "standard" retry mode, pure: the caller owns timers and asks how long to wait.
// Numbers: shared/spec/aws-wire.md §7 and
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "common/aws/aws_error.h"
#include "common/clock/clock.h"
#include "common/http/http_types.h"
#include "common/result/result.h"

namespace common::aws {

// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html (AWS_MAX_ATTEMPTS,
// total attempts including the first).
constexpr int kDefaultMaxAttempts = 3;
// botocore standard mode: delay = rand[0,1) * min(base * 2^(attempt-1), cap), base 1 s, cap 20 s.
constexpr std::chrono::milliseconds kDefaultBackoffBase{1000};
constexpr std::chrono::milliseconds kMaxBackoff{20000};
// Retry quota (token bucket): 500 capacity, a retry costs 5 (10 after a timeout), a first-try
// success refunds 1, a success after a retry refunds the retry's cost.
constexpr int kRetryQuotaCapacity = 500;
constexpr int kRetryCost = 5;
constexpr int kTimeoutRetryCost = 10;
constexpr int kNoRetryIncrement = 1;

// Injectable randomness for jitter.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual double next_unit() = 0;  // uniform in [0, 1)
};

// Production source: a seeded Mersenne Twister (jitter needs spread, not secrecy).
class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::uint64_t seed) : engine_(seed) {}
  double next_unit() override { return dist_(engine_); }

 private:
  std::mt19937_64 engine_;
  std::uniform_real_distribution<double> dist_{0.0, 1.0};
};

// The one backoff formula ("full jitter"): rand[0,1) * min(cap, base * 2^exponent), in whole ms.
// RetryPolicy (in-call retries) and Backoff (delivery-level retries) both use it.
std::chrono::milliseconds full_jitter(std::chrono::milliseconds base, std::chrono::milliseconds cap, int exponent,
                                      double unit);

// Delivery-level backoff: the wait before sending again after the n-th consecutive failure,
// full jitter between 0 and min(cap, base * 2^(n-1)); reset() after a success. The random source
// is injected so tests can pin the waits. Not synchronized (event-loop thread).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, Rng& rng)
      : base_(base), cap_(cap), rng_(&rng) {}
  std::chrono::milliseconds next();          // counts one more failure and returns its wait
  void reset() { failures_ = 0; }            // after a success
  int failures() const { return failures_; } // consecutive failures since the last reset
  std::chrono::milliseconds base() const { return base_; }
  std::chrono::milliseconds cap() const { return cap_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  Rng* rng_;
  int failures_ = 0;
};

struct AttemptOutcome {
  enum class Kind {
    kSuccess,     // 2xx
    kHttpError,   // a response with an error status; see error
    kNoResponse,  // connect/DNS/TLS failure or reset: retryable
    kTimeout,     // no response within the deadline: retryable, costs kTimeoutRetryCost
    kLocalError,  // cancelled, response too large, bad request: never retried
  };
  Kind kind = Kind::kSuccess;
  std::optional<AwsError> error;  // set for kHttpError
  // The caller has fixed what a clock-skew or expired-credentials error asked for (stored a new
  // clock offset / refreshed credentials) since this attempt: retry it once, at once.
  bool corrected = false;

  static AttemptOutcome from_transport_error(const common::Error& error);
  static AttemptOutcome from_response(const common::http::Response& response,
                                      std::optional<common::WallTime> local_now = std::nullopt);
};

struct RetryConfig {
  int max_attempts = kDefaultMaxAttempts;
  std::chrono::milliseconds backoff_base = kDefaultBackoffBase;
  std::chrono::milliseconds throttling_backoff_base = kDefaultBackoffBase;  // js-v3 uses 500 ms
  std::chrono::milliseconds max_backoff = kMaxBackoff;
  int quota_capacity = kRetryQuotaCapacity;
  int retry_cost = kRetryCost;
  int timeout_retry_cost = kTimeoutRetryCost;
  int no_retry_increment = kNoRetryIncrement;
};

// One per client (the quota is shared by all requests of that client). Not synchronized: use it
// from the event-loop thread only.
class RetryPolicy {
 public:
  explicit RetryPolicy(RetryConfig config = {});

  // attempt = 1-based number of the attempt that just failed. Returns how long to wait before the
  // next attempt, or nullopt to give up: success, non-retryable error, max attempts reached, or
  // the retry quota is empty. A granted backoff retry takes its cost from the quota.
  std::optional<std::chrono::milliseconds> next_delay(const AttemptOutcome& outcome, int attempt, Rng& rng);

  // Call once per request that finally succeeded. was_retry: it took more than one attempt
  // (refunds retry_cost; a timeout retry's extra cost is not refunded), else refunds
  // no_retry_increment. Never exceeds capacity.
  void on_success(bool was_retry);

  int available_quota() const { return quota_; }
  const RetryConfig& config() const { return config_; }

 private:
  RetryConfig config_;
  int quota_;
};

// Parses an HTTP date (RFC 1123, "Sun, 30 Aug 2015 12:36:05 GMT"; the weekday is optional).
std::optional<common::WallTime> parse_http_date(std::string_view rfc1123);

// server time (from a response's Date header) minus local_now, in whole seconds; nullopt if the
// header does not parse. Sign with local time + this offset once it exceeds the skew threshold.
std::optional<std::chrono::seconds> skew_from_date_header(std::string_view rfc1123, common::WallTime local_now);

}  // namespace common::aws
