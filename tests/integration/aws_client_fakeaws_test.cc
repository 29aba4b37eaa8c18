// AwsClient over the real CurlMultiClient against tests/fakeaws (which verifies every SigV4 signature
// with botocore): one call per service is accepted; a wrong secret, a stale clock and a missing session
// token are rejected with each protocol's own code; fakeaws faults drive retries, skew correction and
// credential refresh end to end.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/aws/aws_client.h"
#include "common/event/scheduler.h"
#include "common/http/curl_multi_client.h"
#include "tests/support/fakeaws_process.h"
#include "tests/support/subprocess.h"

namespace {

using namespace std::chrono_literals;
using common::aws::AwsCall;
using common::aws::AwsCallError;
using common::aws::AwsCallOutcome;
using common::aws::AwsCallResult;
using common::aws::AwsClient;
using common::aws::Credentials;
using common::aws::RetryConfig;
using common::aws::Service;
using nlohmann::json;

constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr auto kCallTimeout = 30s;  // bound on one call (retries included), for a loaded machine

// A clock that is `offset` away from the real one (a misconfigured host).
class OffsetClock final : public common::Clock {
 public:
  explicit OffsetClock(std::chrono::seconds offset) : offset_(offset) {}
  common::WallTime wall_now() const override { return std::chrono::system_clock::now() + offset_; }
  common::SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }

 private:
  std::chrono::seconds offset_;
};

// Hands out credentials from a list; invalidate() moves to the next entry.
class ListCredentials final : public common::aws::CredentialsProvider {
 public:
  explicit ListCredentials(std::vector<Credentials> creds) : creds_(std::move(creds)) {}
  void get(common::aws::CredentialsHandler done) override { done(creds_[std::min(index_, creds_.size() - 1)]); }
  void invalidate() override { ++index_; }
  std::string name() const override { return "list"; }

 private:
  std::vector<Credentials> creds_;
  std::size_t index_ = 0;
};

Credentials creds(std::string akid = kAkid, std::string secret = kSecret, std::string token = "") {
  return Credentials{std::move(akid), std::move(secret), std::move(token), std::nullopt, "test"};
}

using tests::FakeAwsProcess;  // shared by the suite (reset before each test)

struct ServiceCase {
  std::string name;    // fakeaws service name
  std::string op;      // fakeaws operation
  std::function<AwsCall(const std::string& endpoint)> make;
  std::string wrong_secret_code;
  std::string missing_token_code;
  std::string stale_date_code;
};

AwsCall base_call(Service service, const std::string& endpoint, std::string operation) {
  AwsCall c;
  c.service = service;
  c.region = "us-east-1";
  c.endpoint = endpoint;
  c.operation = std::move(operation);
  c.timeout = 10s;
  return c;
}

AwsCall put_metric_data(const std::string& endpoint, bool with_namespace = true) {
  AwsCall c = base_call(Service::kCloudWatch, endpoint, "PutMetricData");
  c.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  c.body = std::string("Action=PutMetricData&Version=2010-08-01") + (with_namespace ? "&Namespace=Trailwatch%2FTest" : "") +
           "&MetricData.member.1.MetricName=cpu_usage_user&MetricData.member.1.Dimensions.member.1.Name=host"
           "&MetricData.member.1.Dimensions.member.1.Value=i-0123456789abcdef0&MetricData.member.1.Value=12.5"
           "&MetricData.member.1.Unit=Percent";
  return c;
}

AwsCall sns_publish(const std::string& endpoint) {
  AwsCall c = base_call(Service::kSns, endpoint, "Publish");
  c.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  c.body = "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Atw-alarms"
           "&Subject=ALARM%3A%20cpu&Message=cpu%20above%2090%25%20for%205%20minutes";
  return c;
}

AwsCall create_log_group(const std::string& endpoint) {
  AwsCall c = base_call(Service::kCloudWatchLogs, endpoint, "CreateLogGroup");
  c.headers = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Logs_20140328.CreateLogGroup"}};
  c.body = R"({"logGroupName":"/trailwatch/test"})";
  return c;
}

AwsCall put_audit_events(const std::string& endpoint) {
  AwsCall c = base_call(Service::kCloudTrailData, endpoint, "PutAuditEvents");
  c.path = "/PutAuditEvents";
  c.query = "channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Achannel%2Ftw-channel-1";
  c.headers = {{"Content-Type", "application/json"}};
  const json event = {{"version", "1.0"},
                      {"userIdentity", {{"type", "LocalUser"}, {"principalId", "1000"}}},
                      {"eventSource", "auditd.trailwatch"},
                      {"eventName", "EXECVE"},
                      {"eventTime", "2024-05-01T10:00:00Z"},
                      {"UID", "a1b2c3d4-0001"},
                      {"recipientAccountId", "123456789012"}};
  c.body = json{{"auditEvents", json::array({{{"id", "evt-1"}, {"eventData", event.dump()}}})}}.dump();
  return c;
}

AwsCall s3_put_object(const std::string& endpoint) {
  AwsCall c = base_call(Service::kS3, endpoint, "PutObject");
  c.method = "PUT";
  c.path = "/tw-trail-bucket/trail/2024/05/01/host%20a/events.json";
  c.headers = {{"Content-Type", "application/json"}};
  c.body = R"({"Records":[{"eventName":"EXECVE"}]})";
  return c;
}

AwsCall sts_get_caller_identity(const std::string& endpoint) {
  AwsCall c = base_call(Service::kSts, endpoint, "GetCallerIdentity");
  c.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  c.body = "Action=GetCallerIdentity&Version=2011-06-15";
  return c;
}

// Error codes per protocol: tests/fakeaws/README.md "What it checks".
std::vector<ServiceCase> service_cases() {
  return {
      {"monitoring", "PutMetricData", [](const std::string& e) { return put_metric_data(e); }, "SignatureDoesNotMatch",
       "InvalidClientTokenId", "RequestExpired"},
      {"sns", "Publish", sns_publish, "SignatureDoesNotMatch", "InvalidClientTokenId", "RequestExpired"},
      {"logs", "CreateLogGroup", create_log_group, "InvalidSignatureException", "UnrecognizedClientException",
       "InvalidSignatureException"},
      {"cloudtrail-data", "PutAuditEvents", put_audit_events, "InvalidSignatureException",
       "UnrecognizedClientException", "InvalidSignatureException"},
      {"s3", "PutObject", s3_put_object, "SignatureDoesNotMatch", "InvalidAccessKeyId", "RequestTimeTooSkewed"},
      {"sts", "GetCallerIdentity", sts_get_caller_identity, "SignatureDoesNotMatch", "InvalidClientTokenId",
       "RequestExpired"},
  };
}

class AwsClientFakeAwsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fake_ = new FakeAwsProcess(); }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(fake_->port(), 0) << "fakeaws did not start: " << fake_->err();
    control("POST", "/_fake/reset", json::object());
  }

  RetryConfig fast_retries(int max_attempts = 3) const {
    RetryConfig cfg;
    cfg.max_attempts = max_attempts;
    cfg.backoff_base = 10ms;
    cfg.throttling_backoff_base = 10ms;
    cfg.max_backoff = 50ms;
    return cfg;
  }

  std::unique_ptr<AwsClient> client(common::aws::CredentialsProvider& provider, const common::Clock& clock,
                                    RetryConfig cfg) {
    return std::make_unique<AwsClient>(http_, provider, scheduler_, clock, cfg, 42);
  }
  std::unique_ptr<AwsClient> client(common::aws::CredentialsProvider& provider) {
    return client(provider, clock_, fast_retries());
  }

  // Runs the loop until pred() or the deadline.
  template <typename Pred>
  bool pump_until(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(20ms);
    }
    return pred();
  }

  AwsCallOutcome run(AwsClient& c, AwsCall call) {
    std::optional<AwsCallOutcome> out;
    c.call(std::move(call), [&](AwsCallOutcome o) { out = std::move(o); });
    EXPECT_TRUE(pump_until([&] { return out.has_value(); }, kCallTimeout)) << "call did not finish";
    if (!out) return AwsCallError{};
    return std::move(*out);
  }

  // Unsigned JSON control request to fakeaws on its own connection pool (so the AWS client's first
  // request of a test always opens a fresh connection).
  json control(const std::string& method, const std::string& path, const json& body = nullptr) {
    common::http::Request req;
    req.method = method;
    req.url = fake_->endpoint() + path;
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers = {{"Content-Type", "application/json"}};
    }
    std::optional<common::Result<common::http::Response>> out;
    control_http_.send(std::move(req), [&](common::Result<common::http::Response> r) { out = std::move(r); });
    EXPECT_TRUE(pump_until([&] { return out.has_value(); }, 10s));
    if (!out || !out->ok()) {
      ADD_FAILURE() << "control " << path << " failed";
      return json();
    }
    EXPECT_EQ((*out)->status, 200) << path << ": " << (*out)->body;
    return json::parse((*out)->body, nullptr, false);
  }

  void add_fault(const json& fault) { control("POST", "/_fake/faults", fault); }

  std::vector<json> records(const std::string& service) {
    json r = control("GET", "/_fake/requests?service=" + service);
    std::vector<json> out;
    if (r.contains("requests")) {
      for (const auto& rec : r["requests"]) out.push_back(rec);
    }
    return out;
  }

  static FakeAwsProcess* fake_;
  boost::asio::io_context io_;
  common::AsioScheduler scheduler_{io_};
  common::http::CurlMultiClient control_http_{io_, {}};
  common::http::CurlMultiClient http_{io_, {}};
  common::SystemClock clock_;
  common::aws::StaticCredentialsProvider good_{creds()};
};

FakeAwsProcess* AwsClientFakeAwsTest::fake_ = nullptr;

const AwsCallResult* ok(const AwsCallOutcome& o) { return std::get_if<AwsCallResult>(&o); }
const AwsCallError* failed(const AwsCallOutcome& o) { return std::get_if<AwsCallError>(&o); }
std::string describe(const AwsCallOutcome& o) {
  if (auto* e = failed(o)) return e->summary;
  return "HTTP " + std::to_string(std::get<AwsCallResult>(o).response.status);
}

TEST_F(AwsClientFakeAwsTest, EachServiceAcceptsOurSignature) {
  for (const auto& sc : service_cases()) {
    SCOPED_TRACE(sc.name);
    auto c = client(good_);
    auto out = run(*c, sc.make(fake_->endpoint()));
    ASSERT_TRUE(ok(out)) << describe(out);
    EXPECT_EQ(ok(out)->response.status, 200);
    EXPECT_EQ(ok(out)->attempts, 1);
    auto recs = records(sc.name);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_TRUE(recs[0]["accepted"].get<bool>()) << recs[0].dump();
    EXPECT_EQ(recs[0]["operation"], sc.op);
    EXPECT_EQ(recs[0]["access_key_id"], kAkid);
    if (sc.name == "cloudtrail-data") {
      const json body = json::parse(ok(out)->response.body);
      EXPECT_EQ(body["successful"].size(), 1u) << body.dump();
      EXPECT_EQ(body["failed"].size(), 0u) << body.dump();
    }
    if (sc.name == "s3") {
      EXPECT_EQ(recs[0]["data"]["key"], "trail/2024/05/01/host a/events.json");
    }
  }
}

TEST_F(AwsClientFakeAwsTest, TemporaryCredentialsWithTheirTokenAreAccepted) {
  control("POST", "/_fake/credentials",
          {{"add", json::array({{{"access_key_id", "ASIATWTEMP0001"},
                                 {"secret_access_key", "tempSecretKeyForTrailwatchTests0001"},
                                 {"session_token", "IQoJb3JpZ2luX2VjEXAMPLETOKEN"}}})}});
  common::aws::StaticCredentialsProvider temp(
      creds("ASIATWTEMP0001", "tempSecretKeyForTrailwatchTests0001", "IQoJb3JpZ2luX2VjEXAMPLETOKEN"));
  for (const auto& sc : service_cases()) {
    SCOPED_TRACE(sc.name);
    auto c = client(temp);
    auto out = run(*c, sc.make(fake_->endpoint()));
    ASSERT_TRUE(ok(out)) << describe(out);
    auto recs = records(sc.name);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_TRUE(recs[0]["accepted"].get<bool>()) << recs[0].dump();
    EXPECT_EQ(recs[0]["access_key_id"], "ASIATWTEMP0001");
    EXPECT_EQ(recs[0]["session_token"], true);  // the record says whether a token was sent
  }
}

TEST_F(AwsClientFakeAwsTest, WrongSecretIsRejectedAndNotRetried) {
  common::aws::StaticCredentialsProvider wrong(creds(kAkid, "not-the-secret-key-for-AKIDEXAMPLE"));
  for (const auto& sc : service_cases()) {
    SCOPED_TRACE(sc.name);
    auto c = client(wrong);
    auto out = run(*c, sc.make(fake_->endpoint()));
    ASSERT_TRUE(failed(out)) << describe(out);
    EXPECT_EQ(failed(out)->error.code, sc.wrong_secret_code) << failed(out)->summary;
    EXPECT_EQ(failed(out)->attempts, 1);
    EXPECT_FALSE(failed(out)->transport);
    auto recs = records(sc.name);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_FALSE(recs[0]["accepted"].get<bool>());
    EXPECT_EQ(recs[0]["error_code"], sc.wrong_secret_code);
  }
}

TEST_F(AwsClientFakeAwsTest, MissingSessionTokenIsRejected) {
  control("POST", "/_fake/credentials",
          {{"add", json::array({{{"access_key_id", "ASIATWTEMP0002"},
                                 {"secret_access_key", "tempSecretKeyForTrailwatchTests0002"},
                                 {"session_token", "IQoJb3JpZ2luX2VjEXAMPLETOKEN2"}}})}});
  // The token is left out: the key is temporary, so every service refuses it.
  common::aws::StaticCredentialsProvider no_token(creds("ASIATWTEMP0002", "tempSecretKeyForTrailwatchTests0002"));
  for (const auto& sc : service_cases()) {
    SCOPED_TRACE(sc.name);
    auto c = client(no_token);
    auto out = run(*c, sc.make(fake_->endpoint()));
    ASSERT_TRUE(failed(out)) << describe(out);
    EXPECT_EQ(failed(out)->error.code, sc.missing_token_code) << failed(out)->summary;
    // UnrecognizedClientException / InvalidAccessKeyId earn one refresh-and-retry; the static
    // provider hands out the same keys, so the second attempt fails the same way.
    const bool refresh_code = sc.missing_token_code != "InvalidClientTokenId";
    EXPECT_EQ(failed(out)->attempts, refresh_code ? 2 : 1);
    EXPECT_EQ(c->stats().credential_refreshes, refresh_code ? 1u : 0u);
    auto recs = records(sc.name);
    ASSERT_EQ(recs.size(), static_cast<std::size_t>(failed(out)->attempts));
    for (const auto& r : recs) {
      EXPECT_FALSE(r["accepted"].get<bool>());
      EXPECT_EQ(r["error_code"], sc.missing_token_code);
    }
  }
}

TEST_F(AwsClientFakeAwsTest, StaleClockIsRejectedThenCorrectedFromDate) {
  // 20 minutes behind: beyond every service's window (S3 allows 15 min, the others 5).
  OffsetClock stale(-1200s);
  for (const auto& sc : service_cases()) {
    SCOPED_TRACE(sc.name);
    auto c = client(good_, stale, fast_retries(1));  // the correction is not charged to the budget
    auto out = run(*c, sc.make(fake_->endpoint()));
    ASSERT_TRUE(ok(out)) << describe(out);
    EXPECT_EQ(ok(out)->attempts, 2);
    EXPECT_EQ(c->stats().skew_corrections, 1u);
    EXPECT_NEAR(static_cast<double>(c->clock_offset().count()), 1200.0, 5.0);
    auto recs = records(sc.name);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_FALSE(recs[0]["accepted"].get<bool>());
    EXPECT_EQ(recs[0]["error_code"], sc.stale_date_code);
    EXPECT_TRUE(recs[1]["accepted"].get<bool>()) << recs[1].dump();
  }
}

TEST_F(AwsClientFakeAwsTest, ServerClockSkewFaultIsCorrected) {
  add_fault({{"type", "skew"}, {"skew_seconds", 900}});
  auto c = client(good_);
  auto out = run(*c, put_metric_data(fake_->endpoint()));
  ASSERT_TRUE(ok(out)) << describe(out);
  EXPECT_EQ(ok(out)->attempts, 2);
  EXPECT_NEAR(static_cast<double>(c->clock_offset().count()), 900.0, 5.0);
  auto recs = records("monitoring");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["error_code"], "RequestExpired");
  EXPECT_TRUE(recs[1]["accepted"].get<bool>());

  // The next call signs with the learned offset from its first attempt.
  auto again = run(*c, sns_publish(fake_->endpoint()));
  ASSERT_TRUE(ok(again)) << describe(again);
  EXPECT_EQ(ok(again)->attempts, 1);
}

TEST_F(AwsClientFakeAwsTest, ThrottledThenAcceptedForEveryService) {
  for (const auto& sc : service_cases()) {
    SCOPED_TRACE(sc.name);
    add_fault({{"type", "throttle"}, {"service", sc.name}, {"count", 1}});
    auto c = client(good_);
    auto out = run(*c, sc.make(fake_->endpoint()));
    ASSERT_TRUE(ok(out)) << describe(out);
    EXPECT_EQ(ok(out)->attempts, 2);
    EXPECT_EQ(c->stats().throttled, 1u);
    EXPECT_EQ(c->stats().retries, 1u);
    auto recs = records(sc.name);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_FALSE(recs[0]["accepted"].get<bool>());
    EXPECT_TRUE(recs[1]["accepted"].get<bool>());
  }
}

TEST_F(AwsClientFakeAwsTest, ServerErrorThenAccepted) {
  add_fault({{"type", "error"}, {"service", "monitoring"}, {"status", 503}, {"count", 1}});
  add_fault({{"type", "error"}, {"service", "logs"}, {"status", 500}, {"count", 1}});
  auto c = client(good_);
  auto out = run(*c, put_metric_data(fake_->endpoint()));
  ASSERT_TRUE(ok(out)) << describe(out);
  EXPECT_EQ(ok(out)->attempts, 2);
  auto logs = run(*c, create_log_group(fake_->endpoint()));
  ASSERT_TRUE(ok(logs)) << describe(logs);
  EXPECT_EQ(ok(logs)->attempts, 2);
  EXPECT_EQ(records("monitoring")[0]["status"], 503);
  EXPECT_EQ(records("logs")[0]["status"], 500);
}

TEST_F(AwsClientFakeAwsTest, ClientErrorIsNotRetried) {
  auto c = client(good_);
  auto out = run(*c, put_metric_data(fake_->endpoint(), /*with_namespace=*/false));
  ASSERT_TRUE(failed(out)) << describe(out);
  EXPECT_EQ(failed(out)->error.http_status, 400);
  EXPECT_EQ(failed(out)->error.code, "MissingParameter");
  EXPECT_FALSE(failed(out)->error.request_id.empty());
  EXPECT_EQ(failed(out)->attempts, 1);
  EXPECT_EQ(records("monitoring").size(), 1u);

  // Logs: a duplicate group is a 400 ResourceAlreadyExistsException, also final.
  ASSERT_TRUE(ok(run(*c, create_log_group(fake_->endpoint()))));
  auto dup = run(*c, create_log_group(fake_->endpoint()));
  ASSERT_TRUE(failed(dup)) << describe(dup);
  EXPECT_EQ(failed(dup)->error.code, "ResourceAlreadyExistsException");
  EXPECT_EQ(failed(dup)->attempts, 1);
}

TEST_F(AwsClientFakeAwsTest, PersistentServerErrorStopsAtMaxAttempts) {
  for (int max_attempts : {1, 4}) {
    SCOPED_TRACE(max_attempts);
    control("DELETE", "/_fake/faults");
    control("POST", "/_fake/reset", json::object());
    add_fault({{"type", "error"}, {"service", "monitoring"}, {"status", 503}, {"count", nullptr}});
    auto c = client(good_, clock_, fast_retries(max_attempts));
    auto out = run(*c, put_metric_data(fake_->endpoint()));
    ASSERT_TRUE(failed(out)) << describe(out);
    EXPECT_EQ(failed(out)->attempts, max_attempts);
    EXPECT_EQ(failed(out)->error.http_status, 503);
    EXPECT_EQ(records("monitoring").size(), static_cast<std::size_t>(max_attempts));
  }
}

TEST_F(AwsClientFakeAwsTest, DroppedConnectionIsRetried) {
  add_fault({{"type", "drop"}, {"service", "monitoring"}, {"count", 1}});
  auto c = client(good_);
  auto out = run(*c, put_metric_data(fake_->endpoint()));
  ASSERT_TRUE(ok(out)) << describe(out);
  EXPECT_EQ(ok(out)->attempts, 2);
  auto recs = records("monitoring");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["error_code"], "fault:drop");
  EXPECT_TRUE(recs[1]["accepted"].get<bool>());
}

TEST_F(AwsClientFakeAwsTest, ServiceDownEndsWithNetworkErrorAfterMaxAttempts) {
  add_fault({{"type", "down"}, {"service", "sns"}});
  auto c = client(good_);
  auto out = run(*c, sns_publish(fake_->endpoint()));
  ASSERT_TRUE(failed(out)) << describe(out);
  EXPECT_TRUE(failed(out)->transport);
  EXPECT_EQ(failed(out)->error.code, "NetworkError");
  EXPECT_EQ(failed(out)->to_error().code(), common::ErrorCode::kNetwork);
  EXPECT_EQ(failed(out)->attempts, 3);
}

TEST_F(AwsClientFakeAwsTest, ExpiredCredentialsAreRefreshedOnce) {
  control("POST", "/_fake/credentials",
          {{"add", json::array({{{"access_key_id", "ASIATWOLD00001"},
                                 {"secret_access_key", "oldSecretKeyForTrailwatchTests00001"},
                                 {"session_token", "old-session-token"}},
                                {{"access_key_id", "ASIATWNEW00001"},
                                 {"secret_access_key", "newSecretKeyForTrailwatchTests00001"},
                                 {"session_token", "new-session-token"}}})},
           {"expire", json::array({"ASIATWOLD00001"})}});
  ListCredentials rotating({creds("ASIATWOLD00001", "oldSecretKeyForTrailwatchTests00001", "old-session-token"),
                            creds("ASIATWNEW00001", "newSecretKeyForTrailwatchTests00001", "new-session-token")});
  auto c = client(rotating, clock_, fast_retries(1));
  auto out = run(*c, put_metric_data(fake_->endpoint()));
  ASSERT_TRUE(ok(out)) << describe(out);
  EXPECT_EQ(ok(out)->attempts, 2);
  EXPECT_EQ(c->stats().credential_refreshes, 1u);
  auto recs = records("monitoring");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["error_code"], "ExpiredToken");
  EXPECT_EQ(recs[1]["access_key_id"], "ASIATWNEW00001");
  EXPECT_TRUE(recs[1]["accepted"].get<bool>());
}

TEST_F(AwsClientFakeAwsTest, GzipPutMetricDataIsAccepted) {
  auto c = client(good_);
  AwsCall call = put_metric_data(fake_->endpoint());
  call.gzip_body = true;
  auto out = run(*c, call);
  ASSERT_TRUE(ok(out)) << describe(out);
  auto recs = records("monitoring");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_TRUE(recs[0]["accepted"].get<bool>());
  EXPECT_EQ(recs[0]["content_encoding"], "gzip");
  ASSERT_EQ(recs[0]["data"]["datums"].size(), 1u);
  EXPECT_EQ(recs[0]["data"]["datums"][0]["MetricName"], "cpu_usage_user");
  EXPECT_EQ(recs[0]["data"]["Namespace"], "Trailwatch/Test");
}

}  // namespace
