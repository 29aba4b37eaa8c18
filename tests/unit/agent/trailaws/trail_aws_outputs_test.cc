// The AWS trail outputs against a scripted HttpClient behind a real AwsClient (which signs; one attempt
// per call here so each scripted answer is the call's outcome), driven by ManualClock/ManualScheduler.
#include "agent/sinks/trail_aws_outputs.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "common/aws/credentials_provider.h"
#include "common/http/gzip.h"
#include "tests/support/fixed_rng.h"
#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/support/example_host.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"
#include "tests/support/scripted_http_client.h"

namespace {

using tests::LogCapture;

using common::http::Header;
using common::http::Request;
using common::http::Response;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kChannel = "arn:aws:cloudtrail:us-east-1:111122223333:channel/tw-channel-1";

using tests::ScriptedHttpClient;

std::string header(const Request& r, std::string_view name) {
  auto h = common::http::find_header(r.headers, name);
  return h ? std::string(*h) : std::string();
}

Response json_response(long status, const json& body, std::vector<Header> headers = {}) {
  Response r;
  r.status = status;
  r.body = body.dump();
  r.headers = std::move(headers);
  return r;
}

// An AWS JSON-protocol error.
Response json_error(long status, const std::string& code, const std::string& message = "scripted") {
  return json_response(status, {{"__type", code}, {"message", message}}, {{"x-amzn-ErrorType", code}});
}

Response s3_error(long status, const std::string& code) {
  Response r;
  r.status = status;
  r.body = "<Error><Code>" + code + "</Code><Message>scripted</Message><RequestId>R1</RequestId></Error>";
  r.headers = {{"Content-Type", "application/xml"}};
  return r;
}

agent::HostContext host() { return tests::example_host(); }

// Off EC2: no IMDS identity, so no instance id and no account.
agent::HostContext host_off_ec2() {
  agent::HostContext h = tests::example_host();
  h.instance_id.clear();
  h.account_id.clear();
  return h;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

agent::TrailRecord record(int i, int64_t time_ms = 1'700'000'000'000) {
  agent::TrailRecord r;
  r.event_id = fmt::format("00000000-0000-4000-8000-{:012d}", i);
  r.request_id = fmt::format("{}.{:03d}:{}", time_ms / 1000, time_ms % 1000, i);
  r.time_ms = time_ms;
  r.serial = static_cast<uint64_t>(i);
  r.event_name = "execve";
  r.record_type = "SYSCALL";
  r.record_types = {"SYSCALL", "EXECVE"};
  r.arch = "x86_64";
  r.exe = "/usr/bin/id";
  r.command_line = "id -u";
  r.identity.auid = 1000;
  r.identity.uid = 0;
  r.result = agent::TrailResult::kSuccess;
  r.source_ip = "10.0.1.17";
  r.instance_id = "i-0123456789abcdef0";
  r.hostname = "ip-10-0-1-17";
  r.account_id = "111122223333";
  r.region = "us-east-1";
  r.raw_lines = {fmt::format("type=SYSCALL msg=audit({}.{:03d}:{}): arch=c000003e syscall=59 success=yes", time_ms / 1000,
                             time_ms % 1000, i)};
  return r;
}

// A PutAuditEvents answer computed from the request: per id, nullopt = successful, else the error code.
ScriptedHttpClient::Reply lake_reply(std::function<std::optional<std::string>(const std::string& id)> verdict) {
  return [verdict](const Request& req) -> common::Result<Response> {
    const json body = json::parse(req.body);
    json ok = json::array();
    json failed = json::array();
    for (const auto& e : body["auditEvents"]) {
      const std::string id = e["id"];
      if (auto code = verdict(id)) {
        failed.push_back({{"id", id}, {"errorCode", *code}, {"errorMessage", "scripted " + *code}});
      } else {
        ok.push_back({{"id", id}, {"eventID", "ct-" + id}});
      }
    }
    return json_response(200, {{"successful", ok}, {"failed", failed}});
  };
}
ScriptedHttpClient::Reply lake_all_ok() {
  return lake_reply([](const std::string&) { return std::nullopt; });
}

std::vector<std::string> lake_ids(const Request& r) {
  std::vector<std::string> ids;
  const json body = json::parse(r.body);
  for (const auto& e : body["auditEvents"]) ids.push_back(e["id"]);
  return ids;
}

std::string id_of(int i) { return record(i).event_id; }

class TrailAwsOutputsTest : public ::testing::Test {
 protected:
  TrailAwsOutputsTest() {
    common::aws::RetryConfig retry;
    retry.max_attempts = 1;  // each scripted answer is the call's final outcome
    aws_ = std::make_unique<common::aws::AwsClient>(http_, creds_, scheduler_, clock_, retry, 7);
    delivery_.retry_base = 100ms;
    delivery_.retry_max_backoff = 2000ms;
    delivery_.max_retries = 3;
  }

  // Backoff jitter pinned: the waits cycle through these fractions of the full-jitter ceiling.
  tests::FixedRng rng_{{1.0, 0.5, 0.25}};
  agent::TrailAwsDeps deps(common::aws::Endpoint endpoint) {
    return agent::TrailAwsDeps{clock_, scheduler_, *aws_, std::move(endpoint), host_, dead_letters_, &rng_};
  }
  static common::aws::Endpoint endpoint(common::aws::Service service) {
    common::aws::EndpointOptions o;
    o.override_url = "http://127.0.0.1:9";
    return common::aws::resolve_endpoint(service, "us-east-1", o).value();
  }

  void wire(agent::TrailOutput& out) {
    out.set_on_delivered([this](uint64_t seq) {
      EXPECT_TRUE(acked_.insert(seq).second) << "seq " << seq << " acknowledged twice";
    });
  }
  void run() { scheduler_.advance(0ns); }
  void advance(std::chrono::nanoseconds d) { scheduler_.advance(d); }
  // Past any backoff the output may have scheduled.
  void past_backoff() { scheduler_.advance(delivery_.retry_max_backoff + 1ms); }

  std::set<uint64_t> seqs(uint64_t from, uint64_t to) {
    std::set<uint64_t> s;
    for (uint64_t i = from; i <= to; ++i) s.insert(i);
    return s;
  }

  tests::ManualClock clock_{common::WallTime(std::chrono::seconds(1'780'315'200))};  // 2026-06-01T12:00:00Z
  tests::ManualScheduler scheduler_{clock_};
  ScriptedHttpClient http_{scheduler_};
  common::aws::StaticCredentialsProvider creds_{
      common::aws::Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt, "test"}};
  std::unique_ptr<common::aws::AwsClient> aws_;
  agent::DeliveryConfig delivery_;
  agent::HostContext host_ = host();
  std::set<uint64_t> acked_;
  std::shared_ptr<agent::DeadLetterFile> dead_letters_;  // null unless a test keeps dead letters
};

// The lines of a dead-letter file, parsed.
std::vector<json> dead_letter_lines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);) lines.push_back(json::parse(line));
  return lines;
}

// ----------------------------------------------------------------------------------------------
// CloudTrail Lake

class LakeOutputTest : public TrailAwsOutputsTest {
 protected:
  std::unique_ptr<agent::CloudTrailLakeOutput> make() {
    agent::TrailSink sink;
    sink.type = agent::SinkType::kCloudTrailLake;
    sink.channel_arn = kChannel;
    auto out = std::make_unique<agent::CloudTrailLakeOutput>(deps(endpoint(common::aws::Service::kCloudTrailData)),
                                                             sink, delivery_);
    wire(*out);
    out->start();
    return out;
  }
};

TEST_F(LakeOutputTest, PartialBatchWaitsForTheLingerThenIsSentAndAcknowledged) {
  auto out = make();
  for (int i = 1; i <= 3; ++i) out->submit(static_cast<uint64_t>(i), record(i));
  EXPECT_EQ(out->pending(), 3u);
  advance(agent::kTrailBatchLinger - 1ms);
  EXPECT_TRUE(http_.requests.empty());
  http_.push(lake_all_ok());
  advance(1ms);
  ASSERT_EQ(http_.requests.size(), 1u);
  const Request& req = http_.requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://127.0.0.1:9/PutAuditEvents?channelArn=" + agent::put_audit_events_query(kChannel).substr(11));
  EXPECT_EQ(header(req, "Content-Type"), "application/json");
  EXPECT_NE(header(req, "Authorization").find("/us-east-1/cloudtrail-data/aws4_request"), std::string::npos);
  EXPECT_EQ(lake_ids(req), (std::vector<std::string>{id_of(1), id_of(2), id_of(3)}));
  // The events carry the encoder's eventData and checksum.
  const json first = json::parse(req.body)["auditEvents"][0];
  const auto expected = agent::make_lake_audit_event(record(1));
  EXPECT_EQ(first["eventData"], expected.event_data);
  EXPECT_EQ(first["eventDataChecksum"], expected.event_data_checksum);
  run();
  EXPECT_EQ(acked_, seqs(1, 3));
  EXPECT_EQ(out->pending(), 0u);
  EXPECT_EQ(out->stats().delivered, 3u);
  EXPECT_EQ(out->stats().requests_sent, 1u);
  EXPECT_EQ(out->describe(), std::string("cloudtrail_lake(") + kChannel + ")");
}

// Nothing used to say when an output recovered after an outage: one line, and a counter.
TEST_F(LakeOutputTest, RecoveryAfterFailedAttemptsIsLoggedOnceAndCounted) {
  LogCapture logs;
  auto out = make();
  out->submit(1, record(1));
  http_.push(json_error(503, "InternalFailure"));
  http_.push(json_error(503, "InternalFailure"));
  http_.push(lake_all_ok());
  advance(agent::kTrailBatchLinger);
  for (int i = 0; i < 5 && acked_.empty(); ++i) past_backoff();
  EXPECT_EQ(acked_, seqs(1, 1));
  EXPECT_EQ(out->stats().recoveries, 1u);
  EXPECT_NE(logs.text().find("delivering again after 2 failed attempt(s)"), std::string::npos) << logs.text();
  // The counters reach the periodic status line (they were counted but never shown).
  EXPECT_NE(out->status().find(": 1 delivered, 0 dead-lettered, 2 re-sent, 2 failed calls, 2 backoffs, 1 recoveries, "
                               "0 pending (0 bytes)"),
            std::string::npos)
      << out->status();
}

TEST_F(LakeOutputTest, FullBatchesGoAtOnceWithinTheApiLimit) {
  auto out = make();
  http_.set_default(lake_all_ok());
  for (int i = 1; i <= 250; ++i) out->submit(static_cast<uint64_t>(i), record(i));
  run();  // 100 went at once; what arrived meanwhile follows each answer without a linger
  ASSERT_EQ(http_.requests.size(), 3u);
  EXPECT_EQ(lake_ids(http_.requests[0]).size(), agent::kLakeMaxEventsPerRequest);
  EXPECT_EQ(lake_ids(http_.requests[1]).size(), agent::kLakeMaxEventsPerRequest);
  EXPECT_EQ(lake_ids(http_.requests[2]).size(), 50u);
  EXPECT_EQ(lake_ids(http_.requests[2]).back(), id_of(250));
  EXPECT_EQ(acked_, seqs(1, 250));
}

TEST_F(LakeOutputTest, TransientPerEventFailuresAreResentOthersDeadLettered) {
  auto out = make();
  for (int i = 1; i <= 4; ++i) out->submit(static_cast<uint64_t>(i), record(i));
  http_.push(lake_reply([](const std::string& id) -> std::optional<std::string> {
    if (id == id_of(2)) return "Throttling";
    if (id == id_of(3)) return "InvalidChecksum";
    if (id == id_of(4)) return "InternalFailure";
    return std::nullopt;
  }));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_EQ(acked_, (std::set<uint64_t>{1, 3}));  // 3 dead-lettered, acknowledged so the checkpoint moves
  EXPECT_EQ(out->stats().dead_lettered, 1u);
  EXPECT_EQ(out->pending(), 2u);
  EXPECT_TRUE(out->backing_off());
  http_.push(lake_all_ok());
  past_backoff();
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(lake_ids(http_.requests[1]), (std::vector<std::string>{id_of(2), id_of(4)}));
  EXPECT_EQ(acked_, seqs(1, 4));
  EXPECT_EQ(out->stats().delivered, 3u);
  EXPECT_EQ(out->stats().records_resent, 2u);
}

// Throttling / InternalFailure entries are what aws-wire 4.2 says to resend: a count would turn a few
// seconds of throttling into lost events (and a moved checkpoint). They are resent, past
// delivery.max_retries, after the output's capped exponential backoff with jitter.
TEST_F(LakeOutputTest, ThrottledEventIsResentPastMaxRetriesUntilAccepted) {
  auto out = make();
  const int failures = delivery_.max_retries + 6;  // 9 > max_retries (3)
  int answered = 0;
  std::vector<common::SteadyTime> sent_at;
  http_.set_default([&](const Request& req) -> common::Result<Response> {
    sent_at.push_back(clock_.steady_now());
    const int n = answered++;
    return lake_reply([n, failures](const std::string&) -> std::optional<std::string> {
      if (n >= failures) return std::nullopt;
      return n % 2 == 0 ? "Throttling" : "InternalFailure";
    })(req);
  });
  out->submit(7, record(7));
  advance(agent::kTrailBatchLinger);
  for (int i = 0; i < 30 && acked_.empty(); ++i) past_backoff();
  ASSERT_EQ(http_.requests.size(), static_cast<std::size_t>(failures + 1));
  for (const auto& r : http_.requests) EXPECT_EQ(lake_ids(r), (std::vector<std::string>{id_of(7)}));
  EXPECT_EQ(acked_, (std::set<uint64_t>{7}));
  EXPECT_EQ(out->stats().delivered, 1u);
  EXPECT_EQ(out->stats().dead_lettered, 0u);
  EXPECT_EQ(out->stats().records_resent, static_cast<std::uint64_t>(failures));
  EXPECT_EQ(out->pending(), 0u);
  // Each wait is the one backoff (full jitter): u * min(retry_base * 2^(k-1), retry_max_backoff), u the
  // pinned fractions 1, 0.5, 0.25, 1, ...
  ASSERT_EQ(sent_at.size(), static_cast<std::size_t>(failures + 1));
  const double fractions[] = {1.0, 0.5, 0.25};
  for (std::size_t k = 1; k < sent_at.size(); ++k) {
    const auto d = std::min<std::chrono::milliseconds>(delivery_.retry_base * (1 << std::min<std::size_t>(k - 1, 20)),
                                                       delivery_.retry_max_backoff);
    const auto expected =
        std::chrono::milliseconds(static_cast<std::int64_t>(fractions[(k - 1) % 3] * static_cast<double>(d.count())));
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(sent_at[k] - sent_at[k - 1]);
    EXPECT_EQ(gap, expected) << "wait " << k;
  }
  // The ceiling reaches the cap.
  EXPECT_GE(delivery_.retry_base * (1 << (sent_at.size() - 2)), delivery_.retry_max_backoff);
}

// An answer that names neither success nor failure for an id breaks the API contract: resent a bounded
// number of times (it may have been stored), then dead-lettered with a line that says so.
TEST_F(LakeOutputTest, AnEventMissingFromTheAnswerIsResentUpToMaxRetries) {
  auto out = make();
  http_.set_default([](const Request&) -> common::Result<Response> {
    return json_response(200, {{"successful", json::array()}, {"failed", json::array()}});
  });
  out->submit(7, record(7));
  advance(agent::kTrailBatchLinger);
  for (int i = 0; i < 10 && acked_.empty(); ++i) past_backoff();
  EXPECT_EQ(http_.requests.size(), static_cast<std::size_t>(delivery_.max_retries + 1));
  EXPECT_EQ(acked_, (std::set<uint64_t>{7}));
  EXPECT_EQ(out->stats().dead_lettered, 1u);
}

// Off EC2 there is no IMDS account: recipientAccountId comes from the channel ARN (the account that
// owns the channel, aws-wire 4.3), and the checksum covers that final eventData.
TEST_F(LakeOutputTest, RecipientAccountIsTheChannelOwnerOffEc2) {
  host_ = host_off_ec2();
  auto out = make();
  EXPECT_EQ(out->refused(), "");
  agent::TrailRecord r = record(1);
  r.account_id.clear();  // what map_event puts there without IMDS
  out->submit(1, r);
  http_.push(lake_all_ok());
  advance(agent::kTrailBatchLinger);
  ASSERT_EQ(http_.requests.size(), 1u);
  const json event = json::parse(http_.requests[0].body)["auditEvents"][0];
  const std::string data = event["eventData"];
  EXPECT_EQ(json::parse(data)["recipientAccountId"], "111122223333");
  EXPECT_EQ(event["eventDataChecksum"], agent::lake_event_data_checksum(data));
  run();
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
}

// On EC2 with a channel of another account (cross-account Lake), the channel's account still wins.
TEST_F(LakeOutputTest, RecipientAccountIsTheChannelOwnerNotTheInstanceAccount) {
  host_.account_id = "999988887777";
  auto out = make();
  agent::TrailRecord r = record(1);
  r.account_id = "999988887777";
  out->submit(1, r);
  http_.push(lake_all_ok());
  advance(agent::kTrailBatchLinger);
  ASSERT_EQ(http_.requests.size(), 1u);
  const json event = json::parse(http_.requests[0].body)["auditEvents"][0];
  EXPECT_EQ(json::parse(event["eventData"].get<std::string>())["recipientAccountId"], "111122223333");
  EXPECT_EQ(event["eventDataChecksum"], agent::lake_event_data_checksum(event["eventData"].get<std::string>()));
}

// A channel given by id only (no account in it) and no IMDS: nothing could be sent but InvalidRecipient.
TEST_F(LakeOutputTest, WithoutAnyAccountTheOutputIsRefusedAndKeepsItsRecords) {
  host_ = host_off_ec2();
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudTrailLake;
  sink.channel_arn = "01234567-89ab-cdef-0123-456789abcdef";
  const auto check = agent::check_trail_aws_sink(sink, host_);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code(), common::ErrorCode::kConfig);
  EXPECT_NE(check.error().message().find("recipientAccountId"), std::string::npos) << check.error().message();
  auto made = agent::make_trail_aws_output(deps(endpoint(common::aws::Service::kCloudTrailData)), sink, delivery_);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().message(), check.error().message());

  agent::CloudTrailLakeOutput out(deps(endpoint(common::aws::Service::kCloudTrailData)), sink, delivery_);
  wire(out);
  EXPECT_EQ(out.refused(), check.error().message());
  out.submit(1, record(1));
  bool done = false;
  out.flush([&] { done = true; });
  advance(10s);
  EXPECT_TRUE(done);
  EXPECT_TRUE(http_.requests.empty());
  EXPECT_TRUE(acked_.empty());
  EXPECT_EQ(out.pending(), 1u);
}

TEST_F(LakeOutputTest, ThrottledCallKeepsTheBatchAndDeliversItOnceLater) {
  auto out = make();
  for (int i = 1; i <= 3; ++i) out->submit(static_cast<uint64_t>(i), record(i));
  http_.push(json_error(429, "ThrottlingException", "Rate exceeded"));
  http_.push(json_error(503, "InternalFailure"));
  http_.push_error(common::ErrorCode::kUnavailable);  // no response at all
  http_.push(lake_all_ok());
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_TRUE(acked_.empty());
  EXPECT_EQ(out->pending(), 3u);
  for (int i = 0; i < 3; ++i) past_backoff();
  ASSERT_EQ(http_.requests.size(), 4u);
  for (const auto& r : http_.requests) EXPECT_EQ(lake_ids(r).size(), 3u);
  EXPECT_EQ(acked_, seqs(1, 3));
  EXPECT_EQ(out->stats().requests_failed, 3u);
  EXPECT_EQ(out->stats().delivered, 3u);
  EXPECT_EQ(out->stats().dead_lettered, 0u);
}

TEST_F(LakeOutputTest, PermissionAndChannelErrorsKeepRecordsContentErrorsDeadLetterThem) {
  auto out = make();
  out->submit(1, record(1));
  http_.push(json_error(403, "AccessDeniedException"));
  http_.push(json_error(404, "ChannelNotFound"));
  http_.push(json_error(400, "ValidationException", "auditEvents too long"));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_TRUE(acked_.empty());
  EXPECT_EQ(out->pending(), 1u);
  EXPECT_TRUE(out->backing_off());
  for (int i = 0; i < 3; ++i) past_backoff();
  // A dead-lettered 403 or 404 would have ended the sending after one or two requests.
  ASSERT_EQ(http_.requests.size(), 3u);
  EXPECT_EQ(out->stats().requests_failed, 3u);
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
  EXPECT_EQ(out->stats().dead_lettered, 1u);
}

TEST_F(LakeOutputTest, FlushSendsAtOnceAndReturnsWhenDeliveredOrFailed) {
  auto out = make();
  out->submit(1, record(1));
  out->submit(2, record(2));
  bool done = false;
  http_.push(lake_all_ok());
  out->flush([&] { done = true; });
  EXPECT_FALSE(done);
  run();  // no linger
  EXPECT_TRUE(done);
  EXPECT_EQ(acked_, seqs(1, 2));

  // Endpoint down: flush returns after the failed attempt, the records stay pending.
  out->submit(3, record(3));
  http_.push(json_error(503, "InternalFailure"));
  bool done2 = false;
  out->flush([&] { done2 = true; });
  run();
  EXPECT_TRUE(done2);
  EXPECT_EQ(out->pending(), 1u);
  EXPECT_EQ(acked_, seqs(1, 2));

  // A flush during a backoff tries again at once.
  http_.push(lake_all_ok());
  bool done3 = false;
  out->flush([&] { done3 = true; });
  run();
  EXPECT_TRUE(done3);
  EXPECT_EQ(acked_, seqs(1, 3));

  bool done4 = false;  // nothing pending: still called, later
  out->flush([&] { done4 = true; });
  EXPECT_FALSE(done4);
  run();
  EXPECT_TRUE(done4);
}

TEST_F(LakeOutputTest, BacklogIsBoundedByPendingNotByDropping) {
  delivery_.max_queue_records = 5;
  auto out = make();
  http_.push(json_error(503, "InternalFailure"));
  for (int i = 1; i <= 8; ++i) out->submit(static_cast<uint64_t>(i), record(i));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_TRUE(out->backlog_full());
  EXPECT_EQ(out->pending(), 8u);  // nothing dropped
  http_.set_default(lake_all_ok());
  past_backoff();
  EXPECT_FALSE(out->backlog_full());
  EXPECT_EQ(acked_, seqs(1, 8));
}

TEST_F(LakeOutputTest, DestroyedWithACallInFlightIgnoresTheAnswer) {
  auto out = make();
  out->submit(1, record(1));
  http_.push(lake_all_ok());
  out->flush([] {});  // the call starts now; its answer comes on a later turn
  out.reset();
  run();
  EXPECT_EQ(http_.requests.size(), 1u);
  EXPECT_TRUE(acked_.empty());
}

// ----------------------------------------------------------------------------------------------
// CloudWatch Logs

class LogsOutputTest : public TrailAwsOutputsTest {
 protected:
  std::unique_ptr<agent::CloudWatchLogsOutput> make(bool create = true) {
    agent::TrailSink sink;
    sink.type = agent::SinkType::kCloudWatchLogs;
    sink.log_group = "/trailwatch/{region}/audit";
    sink.log_stream = "{instance_id}";
    sink.create = create;
    auto out = std::make_unique<agent::CloudWatchLogsOutput>(deps(endpoint(common::aws::Service::kCloudWatchLogs)),
                                                             sink, delivery_);
    wire(*out);
    out->start();
    return out;
  }
  static std::string target(const Request& r) { return header(r, "X-Amz-Target"); }
};

TEST_F(LogsOutputTest, ChronologicalBatchesWithTheJson11HeadersAndNoSequenceToken) {
  auto out = make();
  EXPECT_EQ(out->log_group(), "/trailwatch/us-east-1/audit");
  EXPECT_EQ(out->log_stream(), "i-0123456789abcdef0");
  const int64_t t0 = 1'780'315'000'000;
  out->submit(10, record(10, t0 + 3000));
  out->submit(11, record(11, t0 + 1000));
  out->submit(12, record(12, t0 + 2000));
  http_.push(200, R"({"nextSequenceToken":"4903"})");
  advance(agent::kTrailBatchLinger);
  ASSERT_EQ(http_.requests.size(), 1u);
  const Request& req = http_.requests[0];
  EXPECT_EQ(req.url, "http://127.0.0.1:9/");
  EXPECT_EQ(target(req), "Logs_20140328.PutLogEvents");
  EXPECT_EQ(header(req, "Content-Type"), "application/x-amz-json-1.1");
  const json body = json::parse(req.body);
  EXPECT_EQ(body["logGroupName"], "/trailwatch/us-east-1/audit");
  EXPECT_EQ(body["logStreamName"], "i-0123456789abcdef0");
  EXPECT_FALSE(body.contains("sequenceToken"));
  ASSERT_EQ(body["logEvents"].size(), 3u);
  EXPECT_EQ(body["logEvents"][0]["timestamp"], t0 + 1000);
  EXPECT_EQ(body["logEvents"][1]["timestamp"], t0 + 2000);
  EXPECT_EQ(body["logEvents"][2]["timestamp"], t0 + 3000);
  EXPECT_EQ(json::parse(body["logEvents"][0]["message"].get<std::string>())["eventID"], id_of(11));
  run();
  EXPECT_EQ(acked_, seqs(10, 12));
  EXPECT_EQ(out->stats().delivered, 3u);
}

// The config checks the templates; an odd hostname coming in through {hostname} is logged once, when
// the output is built, as an error that names the expanded name and what is wrong with it.
TEST_F(LogsOutputTest, AnInvalidExpandedNameIsLoggedOnce) {
  host_ = host_off_ec2();
  host_.hostname = "web server*1";
  LogCapture logs;
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudWatchLogs;
  sink.log_group = "/trailwatch/{hostname}";
  sink.log_stream = "{instance_id}";  // off EC2: the hostname; ':' and '*' become '_'
  auto out = std::make_unique<agent::CloudWatchLogsOutput>(deps(endpoint(common::aws::Service::kCloudWatchLogs)),
                                                           sink, delivery_);
  wire(*out);
  EXPECT_EQ(out->log_group(), "/trailwatch/web server*1");
  EXPECT_EQ(out->log_stream(), "web server_1");
  http_.set_default([](const Request&) -> common::Result<Response> {
    return json_error(400, "InvalidParameterException", "1 validation error detected");
  });
  for (int i = 1; i <= 3; ++i) {
    out->submit(static_cast<uint64_t>(i), record(i));
    advance(agent::kTrailBatchLinger);
  }
  const std::string text = logs.text();
  EXPECT_EQ(count_of(text, "log group name \"/trailwatch/web server*1\" (from \"/trailwatch/{hostname}\") is not "
                           "valid for CloudWatch Logs: character ' ' at position 16 is not allowed"),
            1u)
      << text;
  EXPECT_EQ(count_of(text, "log stream name"), 0u) << text;  // spaces are fine in a stream name

  LogCapture quiet;  // a valid expansion says nothing
  host_ = host();
  auto fine = std::make_unique<agent::CloudWatchLogsOutput>(deps(endpoint(common::aws::Service::kCloudWatchLogs)),
                                                            sink, delivery_);
  EXPECT_EQ(count_of(quiet.text(), "is not valid for CloudWatch Logs"), 0u) << quiet.text();
}

TEST_F(LogsOutputTest, MissingGroupAndStreamAreCreatedThenThePutIsResent) {
  auto out = make();
  out->submit(1, record(1));
  http_.push(json_error(400, "ResourceNotFoundException", "The specified log group does not exist."));
  http_.push(json_error(400, "ResourceNotFoundException", "The specified log group does not exist."));
  http_.push(200, "");  // CreateLogGroup
  http_.push(200, "");  // CreateLogStream
  http_.push(200, "{}");
  advance(agent::kTrailBatchLinger);
  run();
  ASSERT_EQ(http_.requests.size(), 5u);
  std::vector<std::string> targets;
  for (const auto& r : http_.requests) targets.push_back(target(r));
  EXPECT_EQ(targets, (std::vector<std::string>{"Logs_20140328.PutLogEvents", "Logs_20140328.CreateLogStream",
                                               "Logs_20140328.CreateLogGroup", "Logs_20140328.CreateLogStream",
                                               "Logs_20140328.PutLogEvents"}));
  EXPECT_EQ(json::parse(http_.requests[2].body), json({{"logGroupName", "/trailwatch/us-east-1/audit"}}));
  EXPECT_EQ(json::parse(http_.requests[3].body),
            json({{"logGroupName", "/trailwatch/us-east-1/audit"}, {"logStreamName", "i-0123456789abcdef0"}}));
  EXPECT_EQ(http_.requests[4].body, http_.requests[0].body);
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
  EXPECT_EQ(out->groups_created(), 1u);
  EXPECT_EQ(out->streams_created(), 1u);
}

TEST_F(LogsOutputTest, StreamAlreadyExistingCountsAsCreated) {
  auto out = make();
  out->submit(1, record(1));
  http_.push(json_error(400, "ResourceNotFoundException"));
  http_.push(json_error(400, "ResourceAlreadyExistsException"));
  http_.push(200, "{}");
  advance(agent::kTrailBatchLinger);
  run();
  ASSERT_EQ(http_.requests.size(), 3u);
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
  EXPECT_EQ(out->streams_created(), 0u);
}

TEST_F(LogsOutputTest, WithoutCreateAMissingStreamKeepsTheRecords) {
  auto out = make(/*create=*/false);
  out->submit(1, record(1));
  http_.push(json_error(400, "ResourceNotFoundException"));
  advance(agent::kTrailBatchLinger);
  run();
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_TRUE(acked_.empty());
  EXPECT_TRUE(out->backing_off());
  http_.push(200, "{}");  // an operator created it meanwhile
  past_backoff();
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(target(http_.requests[1]), "Logs_20140328.PutLogEvents");
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
}

TEST_F(LogsOutputTest, RejectedEventsAreDeadLetteredByTheirSortedIndex) {
  auto out = make();
  const int64_t t0 = 1'780'315'000'000;
  // Submitted out of order; the body (and the rejection indexes) are in timestamp order.
  const int64_t offsets[] = {4000, 0, 2000, 1000, 3000};
  for (int i = 0; i < 5; ++i) out->submit(static_cast<uint64_t>(i + 1), record(i + 1, t0 + offsets[i]));
  http_.push(200, R"({"rejectedLogEventsInfo":{"tooOldLogEventEndIndex":1,"tooNewLogEventStartIndex":4}})");
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_EQ(acked_, seqs(1, 5));  // all acknowledged, none resent
  EXPECT_EQ(out->stats().dead_lettered, 2u);
  EXPECT_EQ(out->stats().delivered, 3u);
  EXPECT_EQ(http_.requests.size(), 1u);
}

TEST_F(LogsOutputTest, ThrottlingAndTransportFailuresDeliverEverythingOnce) {
  auto out = make();
  for (int i = 1; i <= 4; ++i) out->submit(static_cast<uint64_t>(i), record(i, 1'780'315'000'000 + i));
  http_.push(json_error(400, "ThrottlingException", "Rate exceeded"));
  http_.push_error(common::ErrorCode::kTimeout);
  http_.push(200, "{}");
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_TRUE(acked_.empty());
  past_backoff();
  past_backoff();
  ASSERT_EQ(http_.requests.size(), 3u);
  EXPECT_EQ(http_.requests[2].body, http_.requests[0].body);
  EXPECT_EQ(acked_, seqs(1, 4));
  EXPECT_EQ(out->stats().delivered, 4u);
}

TEST_F(LogsOutputTest, InvalidParameterDeadLettersTheBatchAndMovesOn) {
  auto out = make();
  out->submit(1, record(1));
  http_.push(json_error(400, "InvalidParameterException", "Log events in a single PutLogEvents request must be in "
                                                          "chronological order."));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
  EXPECT_EQ(out->stats().dead_lettered, 1u);
  EXPECT_FALSE(out->backing_off());
}

// ----------------------------------------------------------------------------------------------
// S3

class S3OutputTest : public TrailAwsOutputsTest {
 protected:
  agent::TrailSink sink() {
    agent::TrailSink s;
    s.type = agent::SinkType::kS3;
    s.bucket = "tw-trail-bucket";
    s.prefix = "audit";
    s.interval = agent::Millis(60'000);
    s.sse = agent::S3Encryption::kAwsKms;
    s.kms_key_id = "alias/trail";
    return s;
  }
  std::unique_ptr<agent::S3TrailOutput> make(const agent::TrailSink& s,
                                             common::aws::Endpoint ep = endpoint(common::aws::Service::kS3)) {
    auto out = std::make_unique<agent::S3TrailOutput>(deps(std::move(ep)), s, delivery_);
    wire(*out);
    out->start();
    return out;
  }
  static json records_of(const Request& r) {
    auto text = common::http::gzip_decompress(r.body, 64 * 1024 * 1024);
    EXPECT_TRUE(text.ok());
    return text.ok() ? json::parse(*text) : json();
  }
};

TEST_F(S3OutputTest, FileRollsAfterTheIntervalAndIsPutInCloudTrailLayout) {
  auto out = make(sink());
  out->submit(1, record(1));
  advance(30s);
  out->submit(2, record(2));
  advance(29s);
  EXPECT_TRUE(http_.requests.empty());
  http_.push([this](const Request&) -> common::Result<Response> {
    EXPECT_TRUE(acked_.empty());  // nothing acknowledged before the PUT succeeded
    return Response{200, {}, ""};
  });
  advance(1s);
  ASSERT_EQ(http_.requests.size(), 1u);
  const Request& req = http_.requests[0];
  EXPECT_EQ(req.method, "PUT");
  // Path-style on an overridden endpoint; delivery time 12:01 UTC.
  const std::string prefix =
      "http://127.0.0.1:9/tw-trail-bucket/audit/AWSLogs/111122223333/CloudTrail/us-east-1/2026/06/01/"
      "111122223333_CloudTrail_us-east-1_20260601T1201Z_";
  EXPECT_EQ(req.url.substr(0, prefix.size()), prefix) << req.url;
  EXPECT_EQ(req.url.size(), prefix.size() + agent::kCloudTrailUniqueStringLength + 8);
  EXPECT_EQ(req.url.substr(req.url.size() - 8), ".json.gz");
  EXPECT_EQ(header(req, "Content-Type"), "application/json");
  EXPECT_EQ(header(req, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(req, "If-None-Match"), "*");
  EXPECT_EQ(header(req, "x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(header(req, "x-amz-server-side-encryption-aws-kms-key-id"), "alias/trail");
  EXPECT_EQ(header(req, "x-amz-content-sha256"), common::aws::sha256_hex(req.body));
  const json file = records_of(req);
  ASSERT_EQ(file["Records"].size(), 2u);
  EXPECT_EQ(file["Records"][0]["eventID"], id_of(1));
  EXPECT_EQ(file["Records"][1]["eventID"], id_of(2));
  run();
  EXPECT_EQ(acked_, seqs(1, 2));
  EXPECT_EQ(out->objects_put(), 1u);
  EXPECT_EQ(out->describe(), "s3(s3://tw-trail-bucket/audit)");
}

TEST_F(S3OutputTest, FileRollsWhenTheNextRecordWouldExceedTheSize) {
  agent::TrailSink s = sink();
  const std::size_t one = agent::render_cloudtrail_event(record(1)).size();
  s.max_object_size = 2 * one + 40;  // two records fit, three do not
  auto out = make(s);
  http_.set_default([](const Request&) -> common::Result<Response> { return Response{200, {}, ""}; });
  for (int i = 1; i <= 3; ++i) out->submit(static_cast<uint64_t>(i), record(i));
  run();
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_EQ(records_of(http_.requests[0])["Records"].size(), 2u);
  EXPECT_EQ(acked_, seqs(1, 2));
  EXPECT_EQ(out->pending(), 1u);  // the third waits in the open file
  bool done = false;
  out->flush([&] { done = true; });
  run();
  EXPECT_TRUE(done);
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(records_of(http_.requests[1])["Records"][0]["eventID"], id_of(3));
  EXPECT_EQ(acked_, seqs(1, 3));
  EXPECT_NE(http_.requests[0].url, http_.requests[1].url);
}

TEST_F(S3OutputTest, SlowDownKeepsTheObjectAndA412OnResendMeansStored) {
  auto out = make(sink());
  out->submit(1, record(1));
  http_.push(s3_error(503, "SlowDown"));
  http_.push(s3_error(412, "PreconditionFailed"));  // the first PUT had landed after all
  advance(60s);
  run();
  EXPECT_TRUE(acked_.empty());
  EXPECT_EQ(out->queued_objects(), 1u);
  past_backoff();
  ASSERT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(http_.requests[1].url, http_.requests[0].url);  // same deterministic key
  EXPECT_EQ(http_.requests[1].body, http_.requests[0].body);
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
  EXPECT_EQ(out->queued_objects(), 0u);
}

TEST_F(S3OutputTest, AccessDeniedKeepsRetryingContentErrorsAreBounded) {
  auto out = make(sink());
  out->submit(1, record(1));
  for (int i = 0; i < 6; ++i) http_.push(s3_error(403, "AccessDenied"));
  http_.set_default([](const Request&) -> common::Result<Response> { return s3_error(400, "InvalidDigest"); });
  advance(60s);
  run();
  EXPECT_TRUE(acked_.empty());
  for (int i = 0; i < 20 && acked_.empty(); ++i) past_backoff();
  // Permission errors never count; the refused object is resent max_retries times, then dead-lettered.
  EXPECT_EQ(http_.requests.size(), 6u + static_cast<std::size_t>(delivery_.max_retries) + 1u);
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
  EXPECT_EQ(out->stats().dead_lettered, 1u);
}

TEST_F(S3OutputTest, VirtualHostedOnTheDefaultEndpoint) {
  auto ep = common::aws::resolve_endpoint(common::aws::Service::kS3, "us-east-1").value();
  auto out = make(sink(), ep);
  out->submit(1, record(1));
  http_.push(200, "");
  bool done = false;
  out->flush([&] { done = true; });
  run();
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_EQ(http_.requests[0].url.rfind("https://tw-trail-bucket.s3.us-east-1.amazonaws.com/audit/AWSLogs/", 0), 0u)
      << http_.requests[0].url;
  EXPECT_TRUE(done);
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
}

TEST_F(S3OutputTest, EmptyOutputPutsNothing) {
  auto out = make(sink());
  advance(10min);
  bool done = false;
  out->flush([&] { done = true; });
  run();
  EXPECT_TRUE(done);
  EXPECT_TRUE(http_.requests.empty());
}

// Object Lock buckets refuse a PutObject without Content-MD5 (or an x-amz-checksum-*): it is sent, is
// base64(MD5(body)) and is signed.
TEST_F(S3OutputTest, PutCarriesASignedContentMd5OfTheBody) {
  auto out = make(sink());
  out->submit(1, record(1));
  http_.push(200, "");
  out->flush([] {});
  run();
  ASSERT_EQ(http_.requests.size(), 1u);
  const Request& req = http_.requests[0];
  EXPECT_EQ(header(req, "Content-MD5"), agent::s3_content_md5(req.body));
  EXPECT_EQ(header(req, "Content-MD5").size(), 24u);
  const std::string auth = header(req, "Authorization");
  EXPECT_NE(auth.find(";content-md5;"), std::string::npos) << auth;
}

// Off EC2 with no account_id in the sink, the keys would be AWSLogs//CloudTrail/...: refused, with the
// error make_trail_aws_output gives the start-up code.
TEST_F(S3OutputTest, WithoutAnAccountIdTheOutputIsRefused) {
  host_ = host_off_ec2();
  const agent::TrailSink s = sink();
  const auto check = agent::check_trail_aws_sink(s, host_);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code(), common::ErrorCode::kConfig);
  EXPECT_EQ(check.error().message(),
            "trail sink s3 (bucket tw-trail-bucket): no AWS account id for the object keys "
            "(AWSLogs/<account>/CloudTrail/...): set account_id on the sink, or run on EC2 with IMDS reachable "
            "(aws.imds)");
  auto made = agent::make_trail_aws_output(deps(endpoint(common::aws::Service::kS3)), s, delivery_);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().message(), check.error().message());

  LogCapture logs;
  auto out = make(s);
  EXPECT_EQ(out->refused(), check.error().message());
  EXPECT_NE(logs.text().find(check.error().message()), std::string::npos) << logs.text();
  out->submit(1, record(1));
  advance(2min);  // past the roll interval
  bool done = false;
  out->flush([&] { done = true; });
  run();
  EXPECT_TRUE(done);  // a shutdown is not held up
  EXPECT_TRUE(http_.requests.empty());
  EXPECT_TRUE(acked_.empty());  // kept: the checkpoint does not move past them
  EXPECT_EQ(out->pending(), 1u);
}

TEST_F(S3OutputTest, AccountIdFromTheSinkOrIdentityMakesItWork) {
  host_ = host_off_ec2();
  agent::TrailSink s = sink();
  s.account_id = "444455556666";
  ASSERT_TRUE(agent::check_trail_aws_sink(s, host_).ok());
  auto made = agent::make_trail_aws_output(deps(endpoint(common::aws::Service::kS3)), s, delivery_);
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  auto& out = **made;
  wire(out);
  out.start();
  out.submit(1, record(1));
  http_.push(200, "");
  out.flush([] {});
  run();
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_NE(http_.requests[0].url.find("/audit/AWSLogs/444455556666/CloudTrail/us-east-1/"), std::string::npos)
      << http_.requests[0].url;
  EXPECT_EQ(acked_, (std::set<uint64_t>{1}));
  EXPECT_TRUE(agent::check_trail_aws_sink(sink(), host()).ok());  // IMDS account, no account_id
}

TEST(TrailAwsOutputFactory, CloudWatchLogsNeedsNoAccountAndLocalIsNotAnAwsOutput) {
  agent::TrailSink logs;
  logs.type = agent::SinkType::kCloudWatchLogs;
  logs.log_group = "/trailwatch/audit";
  EXPECT_TRUE(agent::check_trail_aws_sink(logs, host_off_ec2()).ok());
  agent::TrailSink local;
  EXPECT_FALSE(agent::check_trail_aws_sink(local, host()).ok());
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Dead letters kept in <spool_dir>/dead-letter.jsonl

class DeadLetterTest : public TrailAwsOutputsTest {
 protected:
  void keep_dead_letters(std::string dir, uint64_t max_bytes = 1024 * 1024) {
    dead_letters_ = std::make_shared<agent::DeadLetterFile>(clock_, std::move(dir), max_bytes);
  }
  std::string file() const { return dead_letters_->path(); }

  tests::TempDir tmp_;
};

TEST_F(DeadLetterTest, ALakeEventRefusedForGoodIsOneLineWithItsEventDataAndReason) {
  keep_dead_letters(tmp_.file("spool"));  // created on the first line
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudTrailLake;
  sink.channel_arn = kChannel;
  agent::CloudTrailLakeOutput out(deps(endpoint(common::aws::Service::kCloudTrailData)), sink, delivery_);
  wire(out);
  LogCapture log;
  for (int i = 1; i <= 3; ++i) out.submit(static_cast<uint64_t>(i), record(i));
  http_.push(lake_reply([](const std::string& id) -> std::optional<std::string> {
    if (id == id_of(2)) return "InvalidChecksum";
    return std::nullopt;
  }));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_EQ(acked_, seqs(1, 3));  // unchanged: the dead letter is acknowledged
  EXPECT_EQ(out.stats().dead_lettered, 1u);
  EXPECT_EQ(out.stats().delivered, 2u);

  EXPECT_EQ(file(), tmp_.file("spool") + "/dead-letter.jsonl");
  const auto lines = dead_letter_lines(file());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["time"], "2026-06-01T12:00:01.000Z");
  EXPECT_EQ(lines[0]["sink"], out.describe());
  EXPECT_EQ(lines[0]["reason"], "PutAuditEvents failed[] InvalidChecksum: scripted InvalidChecksum");
  EXPECT_EQ(lines[0]["event"], json::parse(agent::make_lake_audit_event(record(2), "111122223333").event_data));
  EXPECT_EQ(dead_letters_->stats().written, 1u);
  EXPECT_NE(log.text().find("copied to " + file()), std::string::npos) << log.text();
  const auto perms = std::filesystem::status(tmp_.file("spool")).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms(0750));
}

TEST_F(DeadLetterTest, ALogsBatchRejectedWithInvalidParameterIsOneLinePerEvent) {
  keep_dead_letters(tmp_.path());
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudWatchLogs;
  sink.log_group = "/trailwatch/audit";
  sink.log_stream = "{instance_id}";
  agent::CloudWatchLogsOutput out(deps(endpoint(common::aws::Service::kCloudWatchLogs)), sink, delivery_);
  wire(out);
  for (int i = 1; i <= 3; ++i) out.submit(static_cast<uint64_t>(i), record(i, 1'700'000'000'000 + i));
  http_.push(json_error(400, "InvalidParameterException", "bad event"));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_EQ(acked_, seqs(1, 3));
  EXPECT_EQ(out.stats().dead_lettered, 3u);
  const auto lines = dead_letter_lines(file());
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 1; i <= 3; ++i) {
    const json& line = lines[static_cast<std::size_t>(i - 1)];
    EXPECT_EQ(line["sink"], out.describe());
    EXPECT_NE(line["reason"].get<std::string>().find("InvalidParameterException"), std::string::npos) << line;
    EXPECT_EQ(line["event"], json::parse(agent::make_log_event(record(i, 1'700'000'000'000 + i)).message));
    EXPECT_EQ(line["event"]["eventID"], id_of(i));
  }
}

TEST_F(DeadLetterTest, RefusedS3ObjectIsOneLinePerRecordWithTheRecordJson) {
  keep_dead_letters(tmp_.path());
  agent::TrailSink sink;
  sink.type = agent::SinkType::kS3;
  sink.bucket = "tw-trail-bucket";
  sink.interval = agent::Millis(60'000);
  agent::S3TrailOutput out(deps(endpoint(common::aws::Service::kS3)), sink, delivery_);
  wire(out);
  out.start();
  out.submit(1, record(1));
  out.submit(2, record(2));
  http_.set_default([](const Request&) -> common::Result<Response> { return s3_error(400, "InvalidArgument"); });
  advance(60s);
  for (int i = 0; i <= delivery_.max_retries; ++i) past_backoff();
  EXPECT_EQ(acked_, seqs(1, 2));
  EXPECT_EQ(out.stats().dead_lettered, 2u);
  const json sent = json::parse(*common::http::gzip_decompress(http_.requests.back().body, 1 << 20));
  const auto lines = dead_letter_lines(file());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"], sent["Records"][0]);
  EXPECT_EQ(lines[1]["event"], sent["Records"][1]);
  EXPECT_EQ(lines[1]["event"]["eventID"], id_of(2));
  EXPECT_NE(lines[0]["reason"].get<std::string>().find("InvalidArgument"), std::string::npos) << lines[0];
}

TEST_F(DeadLetterTest, SizeCapStopsWritingCountsAndWarnsOnce) {
  keep_dead_letters(tmp_.path());
  const std::string event = R"({"eventID":"e","n":1})";
  ASSERT_TRUE(dead_letters_->write("s", "r", event));
  const uint64_t line = dead_letters_->stats().bytes;
  // Room for two lines and a half.
  dead_letters_ = std::make_shared<agent::DeadLetterFile>(clock_, tmp_.path(), line * 5 / 2);
  LogCapture log;
  EXPECT_TRUE(dead_letters_->write("s", "r", event));  // the file already holds one line
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(dead_letters_->write("s", "r", event));
  EXPECT_EQ(dead_letters_->stats().written, 1u);
  EXPECT_EQ(dead_letters_->stats().dropped, 4u);
  EXPECT_EQ(dead_letter_lines(file()).size(), 2u);
  EXPECT_LE(std::filesystem::file_size(file()), line * 5 / 2);
  EXPECT_EQ(count_of(log.text(), "delivery.max_spool_size"), 1u) << log.text();
}

TEST_F(DeadLetterTest, OutputsStillAcknowledgeWhenTheFileIsFull) {
  keep_dead_letters(tmp_.path(), 10);  // not even one line fits
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudWatchLogs;
  sink.log_group = "/trailwatch/audit";
  sink.log_stream = "s";
  agent::CloudWatchLogsOutput out(deps(endpoint(common::aws::Service::kCloudWatchLogs)), sink, delivery_);
  wire(out);
  for (int i = 1; i <= 2; ++i) out.submit(static_cast<uint64_t>(i), record(i));
  http_.push(json_error(400, "InvalidParameterException", "bad event"));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_EQ(acked_, seqs(1, 2));
  EXPECT_EQ(out.stats().dead_lettered, 2u);
  EXPECT_EQ(dead_letters_->stats().dropped, 2u);
  EXPECT_EQ(dead_letters_->stats().written, 0u);
}

TEST_F(DeadLetterTest, AnUnopenableDirWarnsOnceAndTheOutputAcknowledgesAsBefore) {
  tmp_.write("not-a-dir", "x");
  keep_dead_letters(tmp_.file("not-a-dir") + "/spool");  // cannot be created, even as root
  agent::TrailSink sink;
  sink.type = agent::SinkType::kCloudTrailLake;
  sink.channel_arn = kChannel;
  agent::CloudTrailLakeOutput out(deps(endpoint(common::aws::Service::kCloudTrailData)), sink, delivery_);
  wire(out);
  LogCapture log;
  for (int i = 1; i <= 3; ++i) out.submit(static_cast<uint64_t>(i), record(i));
  http_.push(json_error(400, "ValidationException", "bad"));
  advance(agent::kTrailBatchLinger);
  run();
  EXPECT_EQ(acked_, seqs(1, 3));
  EXPECT_EQ(out.stats().dead_lettered, 3u);
  EXPECT_FALSE(out.backing_off());
  EXPECT_EQ(dead_letters_->stats().failed, 3u);
  EXPECT_EQ(count_of(log.text(), "dead-letter file " + file()), 1u) << log.text();
}

TEST_F(DeadLetterTest, TextThatIsNotJsonIsKeptAsAString) {
  keep_dead_letters(tmp_.path());
  const std::string cut = R"({"eventID":"e","requestParameters":{"command":"ab)";  // a truncated Logs message
  ASSERT_TRUE(dead_letters_->write("cloudwatch_logs(g, stream s)", "X: y", cut));
  ASSERT_TRUE(dead_letters_->write("s", "r", "{\"a\":\n1}"));  // JSON, but it would break the line
  const auto lines = dead_letter_lines(file());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event_text"], cut);
  EXPECT_FALSE(lines[0].contains("event"));
  EXPECT_EQ(lines[1]["event_text"], "{\"a\":\n1}");
}
