#include "common/aws/retry.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/fixed_rng.h"

namespace {

using common::aws::AttemptOutcome;
using common::aws::AwsError;
using common::aws::RetryConfig;
using common::aws::RetryPolicy;
using std::chrono::milliseconds;

using tests::FixedRng;

AttemptOutcome http_error(long status, std::string body) {
  common::http::Response r;
  r.status = status;
  r.body = std::move(body);
  return AttemptOutcome::from_response(r);
}

AttemptOutcome throttled() {
  return http_error(400, "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>");
}

AttemptOutcome timeout() {
  return AttemptOutcome::from_transport_error(common::Error(common::ErrorCode::kTimeout, "deadline"));
}

TEST(RetryPolicyTest, BackoffCeilingDoublesUpToCap) {
  RetryConfig cfg;
  cfg.max_attempts = 100;
  RetryPolicy policy(cfg);
  FixedRng almost_one({0.999999});
  // attempt n -> ceiling min(1 s * 2^(n-1), 20 s); rand just below 1 gives just below the ceiling.
  const std::vector<long> ceilings = {1000, 2000, 4000, 8000, 16000, 20000, 20000};
  for (std::size_t i = 0; i < ceilings.size(); ++i) {
    auto d = policy.next_delay(http_error(503, ""), static_cast<int>(i + 1), almost_one);
    ASSERT_TRUE(d.has_value());
    EXPECT_LT(d->count(), ceilings[i]);
    EXPECT_GE(d->count(), ceilings[i] - 1);
  }
  auto huge = policy.next_delay(http_error(503, ""), 90, almost_one);  // no overflow at large n
  ASSERT_TRUE(huge.has_value());
  EXPECT_LE(huge->count(), 20000);
  FixedRng zero({0.0});
  EXPECT_EQ(policy.next_delay(http_error(503, ""), 3, zero), milliseconds(0));
  FixedRng half({0.5});
  EXPECT_EQ(policy.next_delay(http_error(503, ""), 3, half), milliseconds(2000));
}

TEST(RetryPolicyTest, FullJitterSpreadsOverWholeRange) {
  RetryConfig cfg;
  cfg.max_attempts = 10;
  cfg.quota_capacity = 1000000;
  RetryPolicy policy(cfg);
  common::aws::SeededRng rng(42);
  long lo = 1 << 30, hi = 0;
  double sum = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    auto d = policy.next_delay(http_error(500, ""), 3, rng);  // ceiling 4000 ms
    ASSERT_TRUE(d.has_value());
    ASSERT_GE(d->count(), 0);
    ASSERT_LT(d->count(), 4000);
    lo = std::min<long>(lo, d->count());
    hi = std::max<long>(hi, d->count());
    sum += static_cast<double>(d->count());
  }
  EXPECT_LT(lo, 200);    // reaches near 0
  EXPECT_GT(hi, 3800);   // and near the ceiling
  EXPECT_NEAR(sum / n, 2000.0, 150.0);  // uniform: mean = ceiling / 2
}

// The delivery-level backoff: full jitter over [0, min(cap, base * 2^(n-1))), reset on success.
TEST(BackoffTest, FullJitterDoublesToCapAndResets) {
  FixedRng ceiling({1.0});
  common::aws::Backoff b(milliseconds(1000), milliseconds(5000), ceiling);
  EXPECT_EQ(b.next(), milliseconds(1000));
  EXPECT_EQ(b.next(), milliseconds(2000));
  EXPECT_EQ(b.next(), milliseconds(4000));
  EXPECT_EQ(b.next(), milliseconds(5000));  // capped
  EXPECT_EQ(b.next(), milliseconds(5000));
  EXPECT_EQ(b.failures(), 5);
  b.reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.next(), milliseconds(1000));  // starts over after a success
}

TEST(BackoffTest, WaitIsTheInjectedFractionOfTheCeiling) {
  FixedRng rng({0.0, 0.25, 0.5});
  common::aws::Backoff b(milliseconds(1000), milliseconds(60000), rng);
  EXPECT_EQ(b.next(), milliseconds(0));     // full jitter may retry at once
  EXPECT_EQ(b.next(), milliseconds(500));   // 0.25 * 2000
  EXPECT_EQ(b.next(), milliseconds(2000));  // 0.5 * 4000
  EXPECT_EQ(rng.calls(), 3u);
}

TEST(BackoffTest, SameFormulaAsTheInCallRetryPolicy) {
  for (int exponent = 0; exponent < 8; ++exponent) {
    for (double unit : {0.0, 0.3, 0.7, 0.999}) {
      FixedRng r1({unit});
      FixedRng r2({unit});
      common::aws::Backoff b(common::aws::kDefaultBackoffBase, common::aws::kMaxBackoff, r1);
      std::chrono::milliseconds last{};
      for (int i = 0; i <= exponent; ++i) last = b.next();
      RetryPolicy policy(RetryConfig{.max_attempts = 100});
      AttemptOutcome no_response;
      no_response.kind = AttemptOutcome::Kind::kNoResponse;
      const auto d = policy.next_delay(no_response, exponent + 1, r2);
      ASSERT_TRUE(d.has_value());
      EXPECT_EQ(last, *d) << "exponent " << exponent << " unit " << unit;
    }
  }
}

TEST(RetryPolicyTest, MaxAttemptsStopsRetries) {
  RetryPolicy policy;  // 3 attempts in total
  FixedRng rng({0.5});
  EXPECT_TRUE(policy.next_delay(throttled(), 1, rng).has_value());
  EXPECT_TRUE(policy.next_delay(throttled(), 2, rng).has_value());
  EXPECT_FALSE(policy.next_delay(throttled(), 3, rng).has_value());
}

TEST(RetryPolicyTest, NonRetryable4xxAndLocalErrorsAndSuccess) {
  RetryPolicy policy;
  FixedRng rng({0.5});
  EXPECT_FALSE(policy.next_delay(
      http_error(400, "<ErrorResponse><Error><Code>InvalidParameterValue</Code></Error></ErrorResponse>"), 1, rng));
  EXPECT_FALSE(policy.next_delay(http_error(403, "<Error><Code>AccessDenied</Code></Error>"), 1, rng));
  EXPECT_FALSE(policy.next_delay(http_error(404, ""), 1, rng));
  EXPECT_FALSE(policy.next_delay(
      AttemptOutcome::from_transport_error(common::Error(common::ErrorCode::kCancelled, "shutdown")), 1, rng));
  common::http::Response ok;
  ok.status = 200;
  EXPECT_FALSE(policy.next_delay(AttemptOutcome::from_response(ok), 1, rng));
  EXPECT_EQ(policy.available_quota(), common::aws::kRetryQuotaCapacity);  // nothing was charged
}

TEST(RetryPolicyTest, ThrottlingAndTransportErrorsRetried) {
  RetryPolicy policy;
  FixedRng rng({0.5});
  EXPECT_EQ(policy.next_delay(throttled(), 1, rng), milliseconds(500));
  EXPECT_EQ(policy.available_quota(), 495);
  EXPECT_TRUE(policy.next_delay(http_error(429, ""), 1, rng).has_value());
  EXPECT_EQ(policy.available_quota(), 490);
  auto conn = AttemptOutcome::from_transport_error(common::Error(common::ErrorCode::kNetwork, "refused"));
  EXPECT_EQ(conn.kind, AttemptOutcome::Kind::kNoResponse);
  EXPECT_TRUE(policy.next_delay(conn, 1, rng).has_value());
  EXPECT_EQ(policy.available_quota(), 485);
  EXPECT_TRUE(policy.next_delay(timeout(), 1, rng).has_value());
  EXPECT_EQ(policy.available_quota(), 475);  // timeouts cost 10
}

TEST(RetryPolicyTest, ThrottlingBaseIsConfigurable) {
  RetryConfig cfg;
  cfg.throttling_backoff_base = milliseconds(500);
  RetryPolicy policy(cfg);
  FixedRng rng({0.5});
  EXPECT_EQ(policy.next_delay(throttled(), 2, rng), milliseconds(500));     // 0.5 * 500 * 2
  EXPECT_EQ(policy.next_delay(http_error(500, ""), 2, rng), milliseconds(1000));  // 0.5 * 1000 * 2
}

TEST(RetryPolicyTest, QuotaExhaustionStopsRetriesAndSuccessRefills) {
  RetryPolicy policy;
  FixedRng rng({0.1});
  int granted = 0;
  while (policy.next_delay(timeout(), 1, rng)) ++granted;
  EXPECT_EQ(granted, 50);  // 500 / 10
  EXPECT_EQ(policy.available_quota(), 0);
  EXPECT_FALSE(policy.next_delay(throttled(), 1, rng).has_value());
  policy.on_success(false);
  EXPECT_EQ(policy.available_quota(), 1);
  EXPECT_FALSE(policy.next_delay(throttled(), 1, rng).has_value());  // 1 < cost 5
  for (int i = 0; i < 4; ++i) policy.on_success(false);
  EXPECT_TRUE(policy.next_delay(throttled(), 1, rng).has_value());
  EXPECT_EQ(policy.available_quota(), 0);
  policy.on_success(true);
  EXPECT_EQ(policy.available_quota(), 5);
  for (int i = 0; i < 1000; ++i) policy.on_success(true);
  EXPECT_EQ(policy.available_quota(), common::aws::kRetryQuotaCapacity);  // capped
}

TEST(RetryPolicyTest, SkewAndExpiredCredentialsRetryOnlyAfterCorrection) {
  RetryPolicy policy;
  FixedRng rng({0.5});
  auto skew = http_error(403, "<Error><Code>RequestTimeTooSkewed</Code></Error>");
  EXPECT_FALSE(policy.next_delay(skew, 1, rng).has_value());
  skew.corrected = true;
  EXPECT_EQ(policy.next_delay(skew, 1, rng), milliseconds(0));
  EXPECT_FALSE(policy.next_delay(skew, 3, rng).has_value());  // still bounded by max attempts
  auto expired = http_error(400, R"({"__type":"ExpiredTokenException"})");
  EXPECT_FALSE(policy.next_delay(expired, 1, rng).has_value());
  expired.corrected = true;
  EXPECT_EQ(policy.next_delay(expired, 1, rng), milliseconds(0));
  EXPECT_EQ(policy.available_quota(), common::aws::kRetryQuotaCapacity);
}

TEST(ClockSkewTest, FromDateHeader) {
  const auto local = *common::aws::parse_http_date("Sun, 30 Aug 2015 12:36:05 GMT");
  EXPECT_EQ(std::chrono::system_clock::to_time_t(local), 1440938165);
  EXPECT_EQ(common::aws::skew_from_date_header("Sun, 30 Aug 2015 12:41:05 GMT", local), std::chrono::seconds(300));
  EXPECT_EQ(common::aws::skew_from_date_header("30 Aug 2015 12:35:05 GMT", local), std::chrono::seconds(-60));
  EXPECT_EQ(common::aws::skew_from_date_header("Sun, 30 Aug 2015 12:36:05 GMT", local + milliseconds(400)),
            std::chrono::seconds(0));
  for (const char* bad : {"", "yesterday", "Sun, 30 Foo 2015 12:36:05 GMT", "Sun, 30 Aug 2015 12:36 GMT",
                          "Sun, 30 Aug 2015 25:36:05 GMT", "Sun, 30 Aug 2015 12:36:05 PST"}) {
    EXPECT_FALSE(common::aws::skew_from_date_header(bad, local).has_value()) << bad;
  }
}

}  // namespace
