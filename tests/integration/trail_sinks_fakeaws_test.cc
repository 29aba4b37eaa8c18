// The three AWS trail outputs over the real AwsClient + CurlMultiClient against tests/fakeaws (every
// signature checked by botocore): each delivers records the fake stores, Logs creates its missing group
// and stream, Lake resends events the fake failed one by one, S3 files land in CloudTrail's key layout
// and gunzip to {"Records":[...]} with a Content-MD5 the fake checks, throttling followed by success
// delivers every record once (per-event Lake throttling too, past delivery.max_retries), and Lake's
// recipientAccountId is the channel's account also off EC2.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "agent/sinks/trail_aws_outputs.h"
#include "common/aws/aws_client.h"
#include "common/aws/credentials_provider.h"
#include "common/event/scheduler.h"
#include "common/http/curl_multi_client.h"
#include "common/http/gzip.h"
#include "tests/support/fakeaws_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/example_host.h"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kChannel = "arn:aws:cloudtrail:us-east-1:111122223333:channel/tw-channel-1";
constexpr auto kDeliveryTimeout = 60s;  // bound for a loaded machine

using tests::FakeAwsProcess;  // shared by the suite (reset before each test)

agent::HostContext host() { return tests::example_host(); }

// The tests' "now" (set once per test so a record's time depends only on its number and age).
int64_t g_now_ms = 0;

// A record stamped `age` before now, plus i ms (the fake refuses log events older than 14 days).
agent::TrailRecord record(int i, std::chrono::milliseconds age = 1min) {
  const int64_t t = g_now_ms - age.count() + i;
  agent::TrailRecord r;
  r.event_id = fmt::format("5e1b0c2a-0000-4000-8000-{:012d}", i);
  r.request_id = fmt::format("{}.{:03d}:{}", t / 1000, t % 1000, 4700 + i);
  r.time_ms = t;
  r.serial = static_cast<uint64_t>(4700 + i);
  r.event_name = "execve";
  r.record_type = "SYSCALL";
  r.record_types = {"SYSCALL", "EXECVE", "PROCTITLE"};
  r.arch = "x86_64";
  r.syscall = 59;
  r.exe = "/usr/bin/id";
  r.comm = "id";
  r.command_line = "id -u";
  r.identity.auid = 1000;
  r.identity.uid = 1000;
  r.identity.auid_name = "alice";
  r.result = agent::TrailResult::kSuccess;
  r.exit_code = 0;
  r.source_ip = "10.0.1.17";
  r.instance_id = "i-0123456789abcdef0";
  r.hostname = "ip-10-0-1-17";
  r.account_id = "111122223333";
  r.region = "us-east-1";
  r.raw_lines = {fmt::format("type=SYSCALL msg=audit({}.{:03d}:{}): arch=c000003e syscall=59 success=yes exit=0",
                             t / 1000, t % 1000, 4700 + i)};
  return r;
}

class TrailSinksFakeAwsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fake_ = new FakeAwsProcess(); }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(fake_->port(), 0) << "fakeaws did not start: " << fake_->err();
    control("POST", "/_fake/reset", json::object());
    g_now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    common::aws::RetryConfig retry;
    retry.max_attempts = 2;
    retry.backoff_base = 10ms;
    retry.throttling_backoff_base = 10ms;
    retry.max_backoff = 50ms;
    aws_ = std::make_unique<common::aws::AwsClient>(http_, creds_, scheduler_, clock_, retry, 42);
    delivery_.retry_base = 20ms;
    delivery_.retry_max_backoff = 200ms;
    delivery_.max_retries = 3;
  }
  void TearDown() override { aws_.reset(); }

  agent::TrailAwsDeps deps(common::aws::Service service) {
    common::aws::EndpointOptions o;
    o.override_url = fake_->endpoint();
    return agent::TrailAwsDeps{clock_, scheduler_, *aws_,
                               common::aws::resolve_endpoint(service, "us-east-1", o).value(), host_};
  }

  void wire(agent::TrailOutput& out) {
    out.set_on_delivered([this](uint64_t seq) {
      EXPECT_TRUE(acked_.insert(seq).second) << "seq " << seq << " acknowledged twice";
    });
  }

  template <typename Pred>
  bool pump_until(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(20ms);
    }
    return pred();
  }

  // Flushes and waits until every submitted record is acknowledged (flushing again after failures).
  bool deliver_all(agent::TrailOutput& out) {
    return pump_until(
        [&] {
          if (out.pending() == 0) return true;
          if (!flushing_) {
            flushing_ = true;
            out.flush([this] { flushing_ = false; });
          }
          return false;
        },
        kDeliveryTimeout);
  }

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
  std::string control_raw(const std::string& path) {
    common::http::Request req;
    req.url = fake_->endpoint() + path;
    std::optional<common::Result<common::http::Response>> out;
    control_http_.send(std::move(req), [&](common::Result<common::http::Response> r) { out = std::move(r); });
    EXPECT_TRUE(pump_until([&] { return out.has_value(); }, 10s));
    if (!out || !out->ok()) return {};
    EXPECT_EQ((*out)->status, 200) << path;
    return (*out)->body;
  }

  std::vector<json> records(const std::string& service, const std::string& operation = "") {
    json r = control("GET", "/_fake/requests?service=" + service + (operation.empty() ? "" : "&operation=" + operation));
    std::vector<json> out;
    if (r.contains("requests")) {
      for (const auto& rec : r["requests"]) out.push_back(rec);
    }
    return out;
  }

  std::set<uint64_t> seqs(uint64_t from, uint64_t to) {
    std::set<uint64_t> s;
    for (uint64_t i = from; i <= to; ++i) s.insert(i);
    return s;
  }

  static FakeAwsProcess* fake_;
  boost::asio::io_context io_;
  common::AsioScheduler scheduler_{io_};
  common::http::CurlMultiClient control_http_{io_, {}};
  common::http::CurlMultiClient http_{io_, {}};
  common::SystemClock clock_;
  common::aws::StaticCredentialsProvider creds_{
      common::aws::Credentials{kAkid, kSecret, "", std::nullopt, "test"}};
  std::unique_ptr<common::aws::AwsClient> aws_;
  agent::DeliveryConfig delivery_;
  agent::HostContext host_ = host();
  std::set<uint64_t> acked_;
  bool flushing_ = false;
};

FakeAwsProcess* TrailSinksFakeAwsTest::fake_ = nullptr;

TEST_F(TrailSinksFakeAwsTest, LakeDeliversAndResendsEventsFailedOneByOne) {
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudTrailLake;
  sink.channel_arn = kChannel;
  agent::CloudTrailLakeOutput out(deps(common::aws::Service::kCloudTrailData), sink, delivery_);
  wire(out);
  out.start();
  control("POST", "/_fake/faults", {{"type", "throttle"}, {"service", "cloudtrail-data"}, {"per_event", true}});
  for (int i = 1; i <= 5; ++i) out.submit(static_cast<uint64_t>(i), record(i));
  ASSERT_TRUE(deliver_all(out)) << "pending " << out.pending();
  EXPECT_EQ(acked_, seqs(1, 5));
  EXPECT_EQ(out.stats().delivered, 5u);
  EXPECT_EQ(out.stats().dead_lettered, 0u);

  const auto recs = records("cloudtrail-data", "PutAuditEvents");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["data"]["failed"].size(), 5u) << recs[0].dump();  // the per-event throttle
  EXPECT_TRUE(recs[1]["accepted"].get<bool>()) << recs[1].dump();
  EXPECT_EQ(recs[1]["data"]["successful"].size(), 5u) << recs[1].dump();
  EXPECT_EQ(recs[1]["data"]["failed"].size(), 0u);
  EXPECT_EQ(recs[1]["data"]["channelArn"], kChannel);
  std::set<std::string> ids;
  for (const auto& e : recs[1]["data"]["auditEvents"]) ids.insert(e["id"].get<std::string>());
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids.count(record(3).event_id), 1u);
  EXPECT_EQ(recs[1]["data"]["auditEvents"][0]["eventData"]["recipientAccountId"], "111122223333");
}

// Throttling of single events that outlasts delivery.max_retries: still delivered, nothing dead-lettered.
TEST_F(TrailSinksFakeAwsTest, LakeEventsThrottledLongerThanMaxRetriesAreStillDelivered) {
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudTrailLake;
  sink.channel_arn = kChannel;
  agent::CloudTrailLakeOutput out(deps(common::aws::Service::kCloudTrailData), sink, delivery_);
  wire(out);
  const int throttled = delivery_.max_retries + 3;
  control("POST", "/_fake/faults",
          {{"type", "throttle"}, {"service", "cloudtrail-data"}, {"per_event", true}, {"count", throttled}});
  for (int i = 1; i <= 3; ++i) out.submit(static_cast<uint64_t>(i), record(i));
  ASSERT_TRUE(deliver_all(out)) << "pending " << out.pending();
  EXPECT_EQ(acked_, seqs(1, 3));
  EXPECT_EQ(out.stats().delivered, 3u);
  EXPECT_EQ(out.stats().dead_lettered, 0u);
  const auto recs = records("cloudtrail-data", "PutAuditEvents");
  ASSERT_EQ(recs.size(), static_cast<std::size_t>(throttled + 1));
  for (int i = 0; i < throttled; ++i) EXPECT_EQ(recs[i]["data"]["failed"].size(), 3u) << recs[i].dump();
  EXPECT_EQ(recs.back()["data"]["successful"].size(), 3u) << recs.back().dump();
}

// Off EC2 (no IMDS account) the channel ARN's account is the recipient; the fake checks it owns the
// channel (InvalidRecipient otherwise) and that the checksum matches the eventData.
TEST_F(TrailSinksFakeAwsTest, LakeOffEc2SendsTheChannelsAccountAsRecipient) {
  host_.account_id.clear();
  host_.instance_id.clear();
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudTrailLake;
  sink.channel_arn = kChannel;
  agent::CloudTrailLakeOutput out(deps(common::aws::Service::kCloudTrailData), sink, delivery_);
  wire(out);
  for (int i = 1; i <= 2; ++i) {
    agent::TrailRecord r = record(i);
    r.account_id.clear();
    r.instance_id.clear();
    out.submit(static_cast<uint64_t>(i), r);
  }
  ASSERT_TRUE(deliver_all(out));
  EXPECT_EQ(out.stats().delivered, 2u);
  EXPECT_EQ(out.stats().dead_lettered, 0u);
  const auto recs = records("cloudtrail-data", "PutAuditEvents");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["data"]["auditEvents"][0]["eventData"]["recipientAccountId"], "111122223333");
}

// A failed[] code that is final (here InvalidRecipient: a channel given by id, so no account from its
// ARN, and an identity whose account is not 12 digits) is dead-lettered after one request, not resent.
TEST_F(TrailSinksFakeAwsTest, LakeEventsRefusedForGoodAreDeadLetteredNotResent) {
  host_.account_id = "not-an-account";
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudTrailLake;
  sink.channel_arn = "tw-channel-1";
  agent::CloudTrailLakeOutput out(deps(common::aws::Service::kCloudTrailData), sink, delivery_);
  wire(out);
  out.submit(1, record(1));
  out.submit(2, record(2));
  ASSERT_TRUE(deliver_all(out));
  EXPECT_EQ(acked_, seqs(1, 2));
  EXPECT_EQ(out.stats().delivered, 0u);
  EXPECT_EQ(out.stats().dead_lettered, 2u);
  const auto recs = records("cloudtrail-data", "PutAuditEvents");
  ASSERT_EQ(recs.size(), 1u);  // not resent
  EXPECT_EQ(recs[0]["data"]["failed"][0]["errorCode"], "InvalidRecipient") << recs[0].dump();
}

TEST_F(TrailSinksFakeAwsTest, LogsCreatesTheMissingGroupAndStreamAndDelivers) {
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudWatchLogs;
  sink.log_group = "/trailwatch/{region}/audit";
  sink.log_stream = "{instance_id}";
  sink.create = true;
  agent::CloudWatchLogsOutput out(deps(common::aws::Service::kCloudWatchLogs), sink, delivery_);
  wire(out);
  out.start();
  // Out of order on purpose: the put must be chronological.
  for (int i = 1; i <= 4; ++i) out.submit(static_cast<uint64_t>(i), record(10 - i));
  ASSERT_TRUE(deliver_all(out)) << "pending " << out.pending();
  EXPECT_EQ(acked_, seqs(1, 4));
  EXPECT_EQ(out.groups_created(), 1u);
  EXPECT_EQ(out.streams_created(), 1u);

  const json state = control("GET", "/_fake/state");
  const json& events = state["log_groups"]["/trailwatch/us-east-1/audit"]["i-0123456789abcdef0"]["events"];
  ASSERT_EQ(events.size(), 4u) << state.dump();
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_LE(events[i - 1]["timestamp"], events[i]["timestamp"]);
  EXPECT_EQ(json::parse(events[0]["message"].get<std::string>())["eventID"], record(6).event_id);
  for (const auto& r : records("logs")) EXPECT_NE(r["error_code"], "InvalidSignatureException") << r.dump();
}

TEST_F(TrailSinksFakeAwsTest, LogsEventsTooOldAreDeadLetteredTheRestStored) {
  control("POST", "/_fake/config", {{"log_groups", {{"/trailwatch/audit", json::array({"host-a"})}}}});
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudWatchLogs;
  sink.log_group = "/trailwatch/audit";
  sink.log_stream = "host-a";
  agent::CloudWatchLogsOutput out(deps(common::aws::Service::kCloudWatchLogs), sink, delivery_);
  wire(out);
  out.submit(1, record(1, std::chrono::hours(24 * 15)));  // older than 14 days
  out.submit(2, record(2));
  out.submit(3, record(3));
  ASSERT_TRUE(deliver_all(out));
  EXPECT_EQ(acked_, seqs(1, 3));
  EXPECT_EQ(out.stats().dead_lettered, 1u);
  EXPECT_EQ(out.stats().delivered, 2u);
  EXPECT_EQ(out.groups_created(), 0u);
  const json state = control("GET", "/_fake/state");
  EXPECT_EQ(state["log_groups"]["/trailwatch/audit"]["host-a"]["events"].size(), 2u) << state.dump();
}

TEST_F(TrailSinksFakeAwsTest, ThrottlingThenSuccessDeliversEveryRecordOnce) {
  control("POST", "/_fake/config", {{"log_groups", {{"/trailwatch/audit", json::array({"host-a"})}}}});
  // More throttles than the AwsClient's two attempts: the output itself must keep and resend.
  control("POST", "/_fake/faults", {{"type", "throttle"}, {"service", "logs"}, {"count", 5}});
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudWatchLogs;
  sink.log_group = "/trailwatch/audit";
  sink.log_stream = "host-a";
  sink.create = false;
  agent::CloudWatchLogsOutput out(deps(common::aws::Service::kCloudWatchLogs), sink, delivery_);
  wire(out);
  for (int i = 1; i <= 20; ++i) out.submit(static_cast<uint64_t>(i), record(i));
  ASSERT_TRUE(deliver_all(out)) << "pending " << out.pending();
  EXPECT_EQ(acked_, seqs(1, 20));
  EXPECT_GE(out.stats().requests_failed, 2u);
  const json state = control("GET", "/_fake/state");
  const json& events = state["log_groups"]["/trailwatch/audit"]["host-a"]["events"];
  ASSERT_EQ(events.size(), 20u);  // each exactly once
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(json::parse(e["message"].get<std::string>())["eventID"].get<std::string>());
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(TrailSinksFakeAwsTest, S3ObjectLandsInCloudTrailLayoutAndGunzipsToRecords) {
  // SlowDown first: the output keeps the file and puts it once.
  control("POST", "/_fake/faults", {{"type", "throttle"}, {"service", "s3"}, {"count", 2}});
  agent::TrailSink sink;
  sink.type = agent::SinkType::kS3;
  sink.bucket = "tw-trail-bucket";
  sink.prefix = "audit";
  sink.sse = agent::S3Encryption::kAes256;
  agent::S3TrailOutput out(deps(common::aws::Service::kS3), sink, delivery_);
  wire(out);
  out.start();
  for (int i = 1; i <= 3; ++i) out.submit(static_cast<uint64_t>(i), record(i));
  ASSERT_TRUE(deliver_all(out)) << "pending " << out.pending();
  EXPECT_EQ(acked_, seqs(1, 3));
  ASSERT_EQ(out.recent_keys().size(), 1u);
  const std::string key = out.recent_keys().front();
  EXPECT_EQ(key.rfind("audit/AWSLogs/111122223333/CloudTrail/us-east-1/", 0), 0u) << key;
  EXPECT_NE(key.find("/111122223333_CloudTrail_us-east-1_"), std::string::npos) << key;
  EXPECT_EQ(key.substr(key.size() - 8), ".json.gz");

  const auto puts = records("s3", "PutObject");
  std::size_t accepted = 0;
  for (const auto& r : puts) {
    if (!r["accepted"].get<bool>()) continue;
    ++accepted;
    EXPECT_EQ(r["data"]["key"], key);
    EXPECT_EQ(r["data"]["addressing"], "path");
    EXPECT_EQ(r["data"]["headers"]["content-encoding"], "gzip");
    EXPECT_EQ(r["data"]["headers"]["content-type"], "application/json");
    // Checked by the fake (400 BadDigest on a mismatch), so an accepted PUT had the right one.
    EXPECT_EQ(r["data"]["headers"]["content-md5"].get<std::string>().size(), 24u) << r.dump();
  }
  EXPECT_EQ(accepted, 1u);
  EXPECT_EQ(records("s3").size(), 3u);  // two SlowDown (the AwsClient's two attempts), then the one PUT
  EXPECT_EQ(out.stats().requests_failed, 1u);
  const std::string stored = control_raw("/_fake/s3/tw-trail-bucket/" + key);
  auto text = common::http::gzip_decompress(stored, 16 * 1024 * 1024);
  ASSERT_TRUE(text.ok()) << text.error().to_string();
  EXPECT_EQ(records("s3", "PutObject").back()["data"]["headers"]["content-md5"], agent::s3_content_md5(stored));
  const json file = json::parse(*text);
  ASSERT_EQ(file["Records"].size(), 3u);
  EXPECT_EQ(file["Records"][0]["eventID"], record(1).event_id);
  EXPECT_EQ(file["Records"][2]["eventID"], record(3).event_id);
  EXPECT_EQ(file["Records"][0]["eventVersion"], "1.11");
}

}  // namespace
