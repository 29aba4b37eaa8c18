// AwsClient against a scripted HttpClient, a ManualClock and a ManualScheduler: every retry decision,
// delay and correction is driven by hand, nothing sleeps.
#include "common/aws/aws_client.h"

#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <deque>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/http/gzip.h"
#include "tests/support/log_capture.h"
#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/support/scripted_http_client.h"

namespace {

using common::aws::AwsCall;
using common::aws::AwsCallError;
using common::aws::AwsCallOutcome;
using common::aws::AwsCallResult;
using common::aws::AwsClient;
using common::aws::Credentials;
using common::aws::RetryConfig;
using common::aws::Service;
using common::http::Header;
using common::http::Request;
using common::http::Response;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue";

std::string http_date(common::WallTime t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

using tests::ScriptedHttpClient;

// Forwards to a ManualScheduler and remembers every delay asked for.
class RecordingScheduler final : public common::Scheduler {
 public:
  explicit RecordingScheduler(tests::ManualScheduler& inner) : inner_(inner) {}
  common::TimerId schedule_after(std::chrono::nanoseconds delay, std::function<void()> fn) override {
    delays.push_back(delay);
    return inner_.schedule_after(delay, std::move(fn));
  }
  void cancel(common::TimerId id) override { inner_.cancel(id); }
  std::vector<std::chrono::nanoseconds> delays;

 private:
  tests::ManualScheduler& inner_;
};

// Hands out credentials from a list; invalidate() moves to the next entry.
class RotatingCredentials final : public common::aws::CredentialsProvider {
 public:
  explicit RotatingCredentials(std::vector<Credentials> creds) : creds_(std::move(creds)) {}
  void get(common::aws::CredentialsHandler done) override {
    ++gets;
    if (fail_next) {
      fail_next = false;
      return done(common::Error(common::ErrorCode::kUnavailable, "imds unreachable"));
    }
    done(creds_[std::min(index_, creds_.size() - 1)]);
  }
  void invalidate() override {
    ++invalidations;
    ++index_;
  }
  std::string name() const override { return "rotating"; }
  int gets = 0;
  int invalidations = 0;
  bool fail_next = false;

 private:
  std::vector<Credentials> creds_;
  std::size_t index_ = 0;
};

Credentials long_term(std::string akid = "AKIDEXAMPLE") { return Credentials{akid, kSecret, "", std::nullopt, "test"}; }
Credentials temporary(std::string akid, std::string token) {
  return Credentials{std::move(akid), kSecret, std::move(token), std::nullopt, "test"};
}

std::string query_error(std::string_view code, std::string_view message = "boom") {
  return "<ErrorResponse><Error><Type>Sender</Type><Code>" + std::string(code) + "</Code><Message>" +
         std::string(message) + "</Message></Error><RequestId>req-" + std::string(code) + "</RequestId></ErrorResponse>";
}

std::string header_of(const Request& r, std::string_view name) {
  auto v = common::http::find_header(r.headers, name);
  return v ? std::string(*v) : std::string();
}

AwsCall put_metric_data() {
  AwsCall c;
  c.service = Service::kCloudWatch;
  c.region = "us-east-1";
  c.endpoint = "https://monitoring.us-east-1.amazonaws.com";
  c.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  c.body = "Action=PutMetricData&Version=2010-08-01&Namespace=T&MetricData.member.1.MetricName=m&MetricData.member.1.Value=1";
  c.operation = "PutMetricData";
  return c;
}

class AwsClientTest : public ::testing::Test {
 protected:
  AwsClientTest() : manual_(clock_), scheduler_(manual_), http_(scheduler_) {}

  std::unique_ptr<AwsClient> make_client(RetryConfig cfg = {}, std::uint64_t seed = 7) {
    return std::make_unique<AwsClient>(http_, creds_, scheduler_, clock_, cfg, seed);
  }

  // Starts the call and runs the loop (clock included) for up to `horizon`.
  AwsCallOutcome run(AwsClient& client, AwsCall call, std::chrono::nanoseconds horizon = std::chrono::minutes(5)) {
    std::optional<AwsCallOutcome> out;
    int calls = 0;
    client.call(std::move(call), [&](AwsCallOutcome o) {
      ++calls;
      out = std::move(o);
    });
    EXPECT_FALSE(out.has_value()) << "done ran inline";
    manual_.advance(horizon);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(manual_.pending(), 0u);
    if (!out) return AwsCallError{};
    return std::move(*out);
  }

  // Delays of the backoff retries: everything after the initial 0 ms start that is not a loop post.
  std::vector<milliseconds> retry_delays() const {
    std::vector<milliseconds> out;
    for (auto d : scheduler_.delays) {
      if (d > std::chrono::nanoseconds(0)) out.push_back(std::chrono::duration_cast<milliseconds>(d));
    }
    return out;
  }

  tests::ManualClock clock_;
  tests::ManualScheduler manual_;
  RecordingScheduler scheduler_;
  ScriptedHttpClient http_;
  RotatingCredentials creds_{{long_term()}};
};

TEST_F(AwsClientTest, FirstTrySuccessSignsAndBuildsTheUrl) {
  auto client = make_client();
  http_.push(200, "<PutMetricDataResponse/>");
  AwsCall call = put_metric_data();
  call.path = "/";
  call.query = "a=1&b=%2F";
  const common::WallTime sent_at = clock_.wall_now();
  auto out = run(*client, call);
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(std::get<AwsCallResult>(out).attempts, 1);
  EXPECT_EQ(std::get<AwsCallResult>(out).response.body, "<PutMetricDataResponse/>");
  ASSERT_EQ(http_.requests.size(), 1u);
  const Request& r = http_.requests[0];
  EXPECT_EQ(r.url, "https://monitoring.us-east-1.amazonaws.com/?a=1&b=%2F");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.body, call.body);
  EXPECT_EQ(r.total_timeout, milliseconds(30000));
  EXPECT_EQ(header_of(r, "X-Amz-Date"), common::aws::format_amz_date(sent_at));
  const std::string auth = header_of(r, "Authorization");
  EXPECT_NE(auth.find("Credential=AKIDEXAMPLE/20231114/us-east-1/monitoring/aws4_request"), std::string::npos) << auth;
  EXPECT_EQ(header_of(r, "X-Amz-Security-Token"), "");
  EXPECT_EQ(client->stats().calls, 1u);
  EXPECT_EQ(client->stats().attempts, 1u);
  EXPECT_EQ(client->stats().retries, 0u);
  EXPECT_EQ(client->stats().failures, 0u);
  // A first-try success refunds kNoRetryIncrement, capped at the capacity.
  EXPECT_EQ(client->available_retry_quota(), common::aws::kRetryQuotaCapacity);
}

TEST_F(AwsClientTest, ThrottledThenAccepted) {
  RetryConfig cfg;
  cfg.throttling_backoff_base = milliseconds(500);
  auto client = make_client(cfg);
  http_.push(400, query_error("Throttling", "Rate exceeded"));
  http_.push(200, "ok");
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(std::get<AwsCallResult>(out).attempts, 2);
  EXPECT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(client->stats().throttled, 1u);
  EXPECT_EQ(client->stats().retries, 1u);
  auto delays = retry_delays();
  ASSERT_EQ(delays.size(), 1u);
  EXPECT_LT(delays[0], milliseconds(500));  // throttling base, attempt 1
  // The retry cost was refunded by the success after a retry.
  EXPECT_EQ(client->available_retry_quota(), common::aws::kRetryQuotaCapacity);
  // Both attempts carry their own signature.
  EXPECT_FALSE(header_of(http_.requests[1], "Authorization").empty());
}

TEST_F(AwsClientTest, ServiceUnavailableThenAccepted) {
  auto client = make_client();
  http_.push(503, query_error("ServiceUnavailable"));
  http_.push(200, "ok");
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(std::get<AwsCallResult>(out).attempts, 2);
  EXPECT_EQ(client->stats().throttled, 0u);
  EXPECT_EQ(client->stats().retries, 1u);
}

TEST_F(AwsClientTest, RetryWaitsForTheScheduledDelayAndReSigns) {
  RetryConfig cfg;
  cfg.backoff_base = milliseconds(8000);
  auto client = make_client(cfg, 1234);
  http_.push(500, query_error("InternalFailure"));
  http_.push(200, "ok");
  std::optional<AwsCallOutcome> out;
  client->call(put_metric_data(), [&](AwsCallOutcome o) { out = std::move(o); });
  manual_.advance(milliseconds(0));
  ASSERT_EQ(http_.requests.size(), 1u);
  auto delays = retry_delays();
  ASSERT_EQ(delays.size(), 1u);
  ASSERT_GT(delays[0], milliseconds(1000)) << "seed chosen for a delay spanning a signing second";
  manual_.advance(delays[0] - milliseconds(1));
  EXPECT_EQ(http_.requests.size(), 1u) << "retried before its backoff delay";
  manual_.advance(milliseconds(1));
  ASSERT_EQ(http_.requests.size(), 2u);
  ASSERT_TRUE(out.has_value());
  EXPECT_NE(header_of(http_.requests[0], "X-Amz-Date"), header_of(http_.requests[1], "X-Amz-Date"));
  EXPECT_EQ(header_of(http_.requests[1], "X-Amz-Date"), common::aws::format_amz_date(clock_.wall_now()));
}

TEST_F(AwsClientTest, ValidationErrorIsNotRetried) {
  auto client = make_client();
  http_.push(400, query_error("InvalidParameterValue", "The value NaN for parameter Value is invalid."));
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  const auto& err = std::get<AwsCallError>(out);
  EXPECT_EQ(err.attempts, 1);
  EXPECT_FALSE(err.transport);
  EXPECT_EQ(err.error.http_status, 400);
  EXPECT_EQ(err.error.code, "InvalidParameterValue");
  EXPECT_EQ(err.error.request_id, "req-InvalidParameterValue");
  EXPECT_EQ(err.to_error().code(), common::ErrorCode::kRemote);
  EXPECT_NE(err.summary.find("PutMetricData: http 400 InvalidParameterValue"), std::string::npos) << err.summary;
  EXPECT_EQ(http_.requests.size(), 1u);
  EXPECT_EQ(client->stats().failures, 1u);
  EXPECT_TRUE(retry_delays().empty());
}

TEST_F(AwsClientTest, JsonValidationExceptionIsNotRetried) {
  auto client = make_client();
  http_.push(400, R"({"__type":"com.amazonaws.logs#InvalidParameterException","message":"bad"})");
  AwsCall call = put_metric_data();
  call.service = Service::kCloudWatchLogs;
  auto out = run(*client, call);
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  EXPECT_EQ(std::get<AwsCallError>(out).error.code, "InvalidParameterException");
  EXPECT_EQ(std::get<AwsCallError>(out).attempts, 1);
}

TEST_F(AwsClientTest, RetriesAreBoundedByMaxAttempts) {
  for (int max_attempts : {1, 3, 5}) {
    http_.requests.clear();
    RetryConfig cfg;
    cfg.max_attempts = max_attempts;
    auto client = make_client(cfg);
    http_.set_default([](const Request&) -> common::Result<Response> {
      Response r;
      r.status = 503;
      r.body = query_error("ServiceUnavailable");
      return r;
    });
    auto out = run(*client, put_metric_data());
    ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
    const auto& err = std::get<AwsCallError>(out);
    EXPECT_EQ(err.attempts, max_attempts);
    EXPECT_EQ(err.error.http_status, 503);
    EXPECT_EQ(err.to_error().code(), common::ErrorCode::kUnavailable);
    EXPECT_EQ(http_.requests.size(), static_cast<std::size_t>(max_attempts));
    EXPECT_EQ(client->stats().retries, static_cast<std::uint64_t>(max_attempts - 1));
  }
}

TEST_F(AwsClientTest, EmptyRetryQuotaStopsRetryingAcrossCalls) {
  RetryConfig cfg;
  cfg.quota_capacity = 10;  // two retries' worth
  cfg.max_attempts = 5;
  auto client = make_client(cfg);
  http_.set_default([](const Request&) -> common::Result<Response> {
    Response r;
    r.status = 500;
    r.body = query_error("InternalFailure");
    return r;
  });
  auto first = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(first));
  EXPECT_EQ(std::get<AwsCallError>(first).attempts, 3);  // 2 retries drained the bucket
  EXPECT_EQ(client->available_retry_quota(), 0);
  auto second = run(*client, put_metric_data());  // shares the bucket: no retry left
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(second));
  EXPECT_EQ(std::get<AwsCallError>(second).attempts, 1);
  EXPECT_EQ(http_.requests.size(), 4u);
}

TEST_F(AwsClientTest, SkewLearnedFromDateAndRequestReSignedAtCorrectedTime) {
  RetryConfig cfg;
  cfg.max_attempts = 1;  // the correction is not charged to the retry budget
  auto client = make_client(cfg);
  const common::WallTime local = clock_.wall_now();
  const common::WallTime server = local + seconds(900);
  http_.push(400,
             query_error("RequestExpired", "Signature expired: 20231114T221320Z is now earlier than 20231114T222320Z"),
             {{"Date", http_date(server)}});
  http_.push(200, "ok", {{"Date", http_date(server)}});
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(std::get<AwsCallResult>(out).attempts, 2);
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(header_of(http_.requests[0], "X-Amz-Date"), common::aws::format_amz_date(local));
  EXPECT_EQ(header_of(http_.requests[1], "X-Amz-Date"), common::aws::format_amz_date(server));
  EXPECT_NE(header_of(http_.requests[1], "Authorization").find("Credential=AKIDEXAMPLE/20231114/"), std::string::npos);
  EXPECT_EQ(client->clock_offset(), seconds(900));
  EXPECT_EQ(client->stats().skew_corrections, 1u);
  EXPECT_EQ(client->stats().retries, 0u);
  EXPECT_TRUE(retry_delays().empty()) << "the correction is immediate";

  // Later calls sign with the learned offset from the start.
  http_.push(200, "ok");
  const common::WallTime later_at = clock_.wall_now();
  auto later = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(later));
  EXPECT_EQ(header_of(http_.requests[2], "X-Amz-Date"), common::aws::format_amz_date(later_at + seconds(900)));
}

TEST_F(AwsClientTest, SkewBehindTheServerIsCorrectedToo) {
  auto client = make_client();
  const common::WallTime server = clock_.wall_now() - seconds(600);
  http_.push(403, "<Error><Code>RequestTimeTooSkewed</Code><Message>too skewed</Message></Error>",
             {{"Date", http_date(server)}});
  http_.push(200, "ok");
  AwsCall call = put_metric_data();
  call.service = Service::kS3;
  call.method = "PUT";
  call.path = "/bucket/key";
  auto out = run(*client, call);
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(client->clock_offset(), seconds(-600));
  EXPECT_EQ(header_of(http_.requests[1], "X-Amz-Date"), common::aws::format_amz_date(server));
}

TEST_F(AwsClientTest, InvalidSignatureWithLargeDateGapIsSkewWithSmallGapIsNotRetried) {
  auto client = make_client();
  const common::WallTime server = clock_.wall_now() + seconds(400);
  const std::string body = R"({"__type":"InvalidSignatureException","message":"Signature expired: 20231114T221320Z"})";
  http_.push(400, body, {{"Date", http_date(server)}});
  http_.push(200, "{}");
  AwsCall call = put_metric_data();
  call.service = Service::kCloudWatchLogs;
  auto out = run(*client, call);
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(client->clock_offset(), seconds(400));

  // Same code, but Date agrees with our (corrected) clock: a real signature problem, not retried.
  http_.push(400, R"({"__type":"InvalidSignatureException","message":"The request signature we calculated does not match"})",
             {{"Date", http_date(clock_.wall_now() + seconds(400))}});
  auto bad = run(*client, call);
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(bad));
  EXPECT_EQ(std::get<AwsCallError>(bad).attempts, 1);
  EXPECT_EQ(client->stats().skew_corrections, 1u);
}

TEST_F(AwsClientTest, SkewIsCorrectedOnlyOncePerCall) {
  auto client = make_client();
  for (int i = 0; i < 3; ++i) {
    // The server keeps moving away: each reply reports a different large gap.
    http_.push(400, query_error("RequestExpired"), {{"Date", http_date(clock_.wall_now() + seconds(900 * (i + 1)))}});
  }
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  EXPECT_EQ(std::get<AwsCallError>(out).attempts, 2);
  EXPECT_EQ(std::get<AwsCallError>(out).error.code, "RequestExpired");
  EXPECT_EQ(std::get<AwsCallError>(out).to_error().code(), common::ErrorCode::kPermissionDenied);
  EXPECT_EQ(client->stats().skew_corrections, 1u);
}

TEST_F(AwsClientTest, SkewErrorWithoutUsableDateIsNotRetried) {
  auto client = make_client();
  http_.push(400, query_error("RequestExpired"));  // no Date header
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  EXPECT_EQ(std::get<AwsCallError>(out).attempts, 1);
  EXPECT_EQ(client->clock_offset(), seconds(0));
}

TEST_F(AwsClientTest, ExpiredTokenInvalidatesRefetchesAndRetriesOnce) {
  creds_ = RotatingCredentials({temporary("ASIAOLDKEY", "old-token"), temporary("ASIANEWKEY", "new-token")});
  RetryConfig cfg;
  cfg.max_attempts = 1;  // the refresh retry is not charged to the budget
  auto client = make_client(cfg);
  http_.push(403, query_error("ExpiredToken", "The security token included in the request is expired"));
  http_.push(200, "ok");
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(std::get<AwsCallResult>(out).attempts, 2);
  EXPECT_EQ(creds_.invalidations, 1);
  EXPECT_EQ(creds_.gets, 2);
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_NE(header_of(http_.requests[0], "Authorization").find("Credential=ASIAOLDKEY/"), std::string::npos);
  EXPECT_NE(header_of(http_.requests[1], "Authorization").find("Credential=ASIANEWKEY/"), std::string::npos);
  EXPECT_EQ(header_of(http_.requests[1], "X-Amz-Security-Token"), "new-token");
  EXPECT_EQ(client->stats().credential_refreshes, 1u);
}

TEST_F(AwsClientTest, ExpiredTokenTwiceFailsAfterOneRefresh) {
  creds_ = RotatingCredentials({temporary("ASIAOLDKEY", "t1"), temporary("ASIANEWKEY", "t2")});
  auto client = make_client();
  http_.push(400, R"({"__type":"ExpiredTokenException","message":"expired"})");
  http_.push(400, R"({"__type":"ExpiredTokenException","message":"expired"})");
  AwsCall call = put_metric_data();
  call.service = Service::kCloudWatchLogs;
  auto out = run(*client, call);
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  EXPECT_EQ(std::get<AwsCallError>(out).attempts, 2);
  EXPECT_EQ(creds_.invalidations, 1);
}

TEST_F(AwsClientTest, InvalidClientTokenIdRefreshesOnlyTemporaryCredentials) {
  {
    auto client = make_client();  // long-term keys: a wrong key id is a configuration problem
    http_.push(403, query_error("InvalidClientTokenId"));
    auto out = run(*client, put_metric_data());
    ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
    EXPECT_EQ(std::get<AwsCallError>(out).attempts, 1);
    EXPECT_EQ(creds_.invalidations, 0);
  }
  creds_ = RotatingCredentials({temporary("ASIAROTATED", "t1"), temporary("ASIACURRENT", "t2")});
  auto client = make_client();
  http_.push(403, query_error("InvalidClientTokenId"));
  http_.push(200, "ok");
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(creds_.invalidations, 1);
}

TEST_F(AwsClientTest, BackoffDelaysStayWithinFullJitterBounds) {
  RetryConfig cfg;
  cfg.max_attempts = 8;
  cfg.backoff_base = milliseconds(100);
  cfg.max_backoff = milliseconds(1000);
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    scheduler_.delays.clear();
    auto client = make_client(cfg, seed);
    http_.set_default([](const Request&) -> common::Result<Response> {
      Response r;
      r.status = 502;
      return r;
    });
    auto out = run(*client, put_metric_data());
    ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
    ASSERT_EQ(std::get<AwsCallError>(out).attempts, 8);
    // Every delay requested from the scheduler after a failed attempt (7 of them; a 0 ms draw is
    // legal, so count them from the posts: one per retry after the start).
    std::vector<std::chrono::nanoseconds> retries;
    // delays[0] is the start post; then per attempt: the response post (0) and the retry delay.
    for (std::size_t i = 2; i < scheduler_.delays.size(); i += 2) retries.push_back(scheduler_.delays[i]);
    ASSERT_EQ(retries.size(), 7u);
    std::set<std::int64_t> distinct;
    for (std::size_t k = 0; k < retries.size(); ++k) {
      const auto ceiling = std::min(milliseconds(100) * (1 << k), milliseconds(1000));
      EXPECT_GE(retries[k], std::chrono::nanoseconds(0));
      EXPECT_LT(retries[k], ceiling) << "retry " << k + 1 << " seed " << seed;
      distinct.insert(retries[k].count());
    }
    EXPECT_GT(distinct.size(), 3u) << "no jitter";
  }
}

TEST_F(AwsClientTest, ConnectionFailuresAndTimeoutsAreRetried) {
  auto client = make_client();
  http_.push_error(common::ErrorCode::kNetwork);
  http_.push_error(common::ErrorCode::kTimeout);
  http_.push(200, "ok");
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(std::get<AwsCallResult>(out).attempts, 3);
  // 5 (network) + 10 (timeout) taken, 5 refunded by the success after a retry.
  EXPECT_EQ(client->available_retry_quota(), common::aws::kRetryQuotaCapacity - 10);
}

// A timeout leaves it unknown whether the service stored the request: the re-send is logged and counted.
TEST_F(AwsClientTest, ReSendAfterATimeoutIsLoggedAndCounted) {
  tests::LogCapture log;
  auto client = make_client();
  http_.push_error(common::ErrorCode::kTimeout);
  http_.push(200, "ok");
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  EXPECT_EQ(client->stats().timeouts, 1u);
  EXPECT_EQ(client->stats().resent_after_timeout, 1u);
  const std::string text = log.text();
  EXPECT_NE(text.find("PutMetricData: no answer within"), std::string::npos) << text;
  EXPECT_NE(text.find("may already hold the first copy"), std::string::npos) << text;
}

TEST_F(AwsClientTest, PersistentNetworkFailureIsReportedAsTransport) {
  auto client = make_client();
  http_.set_default([](const Request&) -> common::Result<Response> {
    return common::Error(common::ErrorCode::kNetwork, "connection refused");
  });
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  const auto& err = std::get<AwsCallError>(out);
  EXPECT_TRUE(err.transport);
  EXPECT_EQ(err.error.code, "NetworkError");
  EXPECT_EQ(err.error.http_status, 0);
  EXPECT_EQ(err.attempts, 3);
  EXPECT_EQ(err.to_error().code(), common::ErrorCode::kNetwork);
}

TEST_F(AwsClientTest, CancelledAndLocalErrorsAreNotRetried) {
  auto client = make_client();
  http_.push_error(common::ErrorCode::kCancelled);
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  EXPECT_EQ(std::get<AwsCallError>(out).error.code, "RequestCancelled");
  EXPECT_EQ(std::get<AwsCallError>(out).attempts, 1);
  EXPECT_EQ(std::get<AwsCallError>(out).to_error().code(), common::ErrorCode::kCancelled);
}

TEST_F(AwsClientTest, CredentialFailureEndsTheCallWithoutSending) {
  auto client = make_client();
  creds_.fail_next = true;
  auto out = run(*client, put_metric_data());
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  const auto& err = std::get<AwsCallError>(out);
  EXPECT_EQ(err.error.code, "CredentialsUnavailable");
  EXPECT_EQ(err.attempts, 0);
  EXPECT_TRUE(err.transport);
  EXPECT_EQ(err.to_error().code(), common::ErrorCode::kUnavailable);
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(AwsClientTest, GzipBodyIsCompressedOnceAndSignedAsSent) {
  auto client = make_client();
  http_.push(500, query_error("InternalFailure"));
  http_.push(200, "ok");
  AwsCall call = put_metric_data();
  call.service = Service::kS3;  // S3 exposes the signed payload hash in x-amz-content-sha256
  call.method = "PUT";
  call.path = "/bucket/key.json.gz";
  const std::string original(20000, 'x');
  call.body = original;
  call.gzip_body = true;
  call.headers.push_back({"content-encoding", "identity"});  // replaced, not duplicated
  auto out = run(*client, call);
  ASSERT_TRUE(std::holds_alternative<AwsCallResult>(out));
  ASSERT_EQ(http_.requests.size(), 2u);
  for (const Request& r : http_.requests) {
    EXPECT_LT(r.body.size(), original.size());
    auto plain = common::http::gzip_decompress(r.body, 1 << 20);
    ASSERT_TRUE(plain.ok());
    EXPECT_EQ(*plain, original);
    EXPECT_EQ(header_of(r, "Content-Encoding"), "gzip");
    int encodings = 0;
    for (const auto& h : r.headers) encodings += (h.name == "Content-Encoding" || h.name == "content-encoding") ? 1 : 0;
    EXPECT_EQ(encodings, 1);
    EXPECT_EQ(header_of(r, "x-amz-content-sha256"), common::aws::sha256_hex(r.body));
    EXPECT_NE(header_of(r, "Authorization").find("content-encoding"), std::string::npos);
  }
  EXPECT_EQ(http_.requests[0].body, http_.requests[1].body);
}

TEST_F(AwsClientTest, FailureLogNamesTheCallButNoSecrets) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  creds_ = RotatingCredentials({temporary("ASIAOLDKEY", kToken), temporary("ASIANEWKEY", kToken)});
  auto client = make_client();
  http_.push(403, query_error("ExpiredToken", "The security token included in the request is expired"));
  http_.push(403, query_error("AccessDenied", "User is not authorized to perform: cloudwatch:PutMetricData"));
  auto out = run(*client, put_metric_data());
  logger->sinks().pop_back();
  ASSERT_TRUE(std::holds_alternative<AwsCallError>(out));
  const std::string text = log.str();
  EXPECT_NE(text.find("PutMetricData"), std::string::npos) << text;
  EXPECT_NE(text.find("AccessDenied"), std::string::npos) << text;
  EXPECT_NE(text.find("req-AccessDenied"), std::string::npos) << text;
  EXPECT_NE(text.find("attempts 2"), std::string::npos) << text;
  EXPECT_EQ(text.find(kSecret), std::string::npos);
  EXPECT_EQ(text.find(kToken), std::string::npos);
  const std::string auth = header_of(http_.requests[1], "Authorization");
  const std::string signature = auth.substr(auth.find("Signature=") + 10);
  ASSERT_EQ(signature.size(), 64u);
  EXPECT_EQ(text.find(signature), std::string::npos);
  EXPECT_EQ(std::get<AwsCallError>(out).summary.find(signature), std::string::npos);
}

TEST_F(AwsClientTest, DestroyingTheClientDropsPendingRetries) {
  auto client = make_client();
  http_.push(503, query_error("ServiceUnavailable"));
  bool called = false;
  client->call(put_metric_data(), [&](AwsCallOutcome) { called = true; });
  manual_.advance(milliseconds(0));  // first attempt answered, retry timer pending
  ASSERT_EQ(http_.requests.size(), 1u);
  ASSERT_EQ(manual_.pending(), 1u);
  client.reset();
  EXPECT_EQ(manual_.pending(), 0u) << "backoff timer not cancelled";
  manual_.advance(std::chrono::minutes(1));
  EXPECT_FALSE(called);
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(AwsClientTest, ConcurrentCallsEachGetTheirOwnOutcome) {
  auto client = make_client();
  http_.push(200, "first");
  http_.push(400, query_error("InvalidParameterValue"));
  std::vector<std::string> seen;
  client->call(put_metric_data(), [&](AwsCallOutcome o) {
    seen.push_back(std::holds_alternative<AwsCallResult>(o) ? std::get<AwsCallResult>(o).response.body : "error");
  });
  client->call(put_metric_data(), [&](AwsCallOutcome o) {
    seen.push_back(std::holds_alternative<AwsCallError>(o) ? std::get<AwsCallError>(o).error.code : "ok");
  });
  manual_.advance(std::chrono::minutes(1));
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "InvalidParameterValue"}));
  EXPECT_EQ(client->stats().calls, 2u);
  EXPECT_EQ(client->stats().failures, 1u);
}

}  // namespace
