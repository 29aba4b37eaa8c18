// CloudWatchMetricOutput (on the Outbox) and its disk spool, against a scripted HttpClient behind a real
// AwsClient (which signs; one attempt per call so each scripted answer is the call's outcome), driven by
// ManualClock/ManualScheduler. The Outbox's backoff is set to 10 minutes here, so retries happen at
// flushes only, unless a test says otherwise. Every flush here carries requests the test can tell apart by the value
// of their datum ("Value=<n>"); the spool file is read back through a copy, so the output's own file
// is never opened twice.
#include "agent/sinks/cloudwatch_metric_output.h"

#include <stdlib.h>

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "agent/pipeline/durable_queue.h"
#include "common/aws/credentials_provider.h"
#include "common/http/gzip.h"
#include "tests/support/fixed_rng.h"
#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"
#include "tests/support/scripted_http_client.h"

namespace {

using tests::LogCapture;

using common::http::Request;
using common::http::Response;
using namespace std::chrono_literals;

using tests::ScriptedHttpClient;

std::string query_error(const std::string& code) {
  return "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type><Code>" +
         code + "</Code><Message>scripted</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
}
const std::string kOk =
    "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ResponseMetadata>"
    "<RequestId>r-ok</RequestId></ResponseMetadata></PutMetricDataResponse>";

// The uncompressed form body of a request as it went on the wire.
std::string form_body(const Request& r) {
  auto enc = common::http::find_header(r.headers, "Content-Encoding");
  if (enc && *enc == "gzip") return common::http::gzip_decompress(r.body, 16 << 20).value();
  return r.body;
}
bool gzipped(const Request& r) {
  auto enc = common::http::find_header(r.headers, "Content-Encoding");
  return enc && *enc == "gzip";
}

// The first datum's value ("...&MetricData.member.1.Value=7&...") tells the test's requests apart.
int tag_of(const std::string& body) {
  const std::string key = "MetricData.member.1.Value=";
  const auto at = body.find(key);
  if (at == std::string::npos) return -1;
  return std::stoi(body.substr(at + key.size()));
}
std::vector<int> tags(const std::vector<Request>& reqs, std::size_t from = 0) {
  std::vector<int> out;
  for (std::size_t i = from; i < reqs.size(); ++i) out.push_back(tag_of(form_body(reqs[i])));
  return out;
}

using tests::TempDir;

class CloudWatchMetricOutputTest : public ::testing::Test {
 protected:
  CloudWatchMetricOutputTest() {
    common::aws::RetryConfig retry;
    retry.max_attempts = 1;  // each scripted answer is the call's final outcome
    aws_ = std::make_unique<common::aws::AwsClient>(http_, creds_, scheduler_, clock_, retry, 7);
  }

  std::unique_ptr<agent::CloudWatchMetricOutput> make(std::size_t max_queued_datums = 100'000,
                                                      std::string spool_path = "default",
                                                      std::chrono::milliseconds backoff = 600s) {
    agent::AggregatorOptions ao;
    ao.interval = 60s;
    agent::FlushOptions flush;
    flush.jitter = false;
    agent::CloudWatchMetricOutput::Options o;
    common::aws::EndpointOptions eo;
    eo.override_url = "http://127.0.0.1:9";
    o.endpoint = common::aws::resolve_endpoint(common::aws::Service::kCloudWatch, "us-east-1", eo).value();
    o.max_queued_datums = max_queued_datums;
    o.spool_path = spool_path == "default" ? spool_path_ : spool_path;
    o.backoff_base = backoff;
    o.backoff_cap = std::max<std::chrono::milliseconds>(backoff, 600s);
    o.rng = &rng_;
    return std::make_unique<agent::CloudWatchMetricOutput>(clock_, scheduler_, agent::MetricAggregator(ao, {}), "TW",
                                                           flush, *aws_, std::move(o));
  }

  // One flush carrying one request: `series` datums of this minute, the first with value `tag`.
  void flush_round(agent::CloudWatchMetricOutput& out, int tag, int series = 1, bool final = false) {
    std::vector<std::string> names;
    for (int i = 0; i < series; ++i) names.push_back(fmt::format("interface-{:04d}", i));
    std::vector<agent::MetricSample> samples;
    for (int i = 0; i < series; ++i) {
      agent::MetricSample s;
      s.name = "net_bytes_recv";
      s.unit = agent::Unit::kBytes;
      s.value = i == 0 ? tag : 1e6 + i;
      s.time = clock_.wall_now();
      s.dims[0] = {"interface", names[static_cast<std::size_t>(i)]};
      s.dim_count = 1;
      samples.push_back(s);
    }
    out.publish(samples, clock_.wall_now());
    bool done = false;
    if (final) {
      out.flush([&done] { done = true; });
    } else {
      scheduler_.advance(60s);  // the minute closes
      out.flush_now(false, [&done] { done = true; });
    }
    run();
    EXPECT_TRUE(done) << "round " << tag << " did not finish";
  }

  void run() {
    for (int i = 0; i < 100 && scheduler_.pending() > 0; ++i) scheduler_.advance(0ns);
  }

  // The spool's live records, read from a copy of the file: (datum count, tag) oldest first.
  std::vector<int> on_disk() {
    const std::string copy = spool_path_ + ".copy";
    std::filesystem::remove(copy);
    if (!std::filesystem::exists(spool_path_)) return {};
    std::filesystem::copy_file(spool_path_, copy);
    auto q = agent::DurableQueue::open(copy).value();
    std::vector<int> out;
    for (const auto& e : q->entries()) {
      const auto j = nlohmann::json::parse(e.data);
      out.push_back(tag_of(j.at("body").get<std::string>()));
    }
    return out;
  }

  tests::FixedRng rng_{{1.0}};  // every backoff at the ceiling of its full-jitter range
  TempDir dir_;
  std::string spool_path_ = dir_.file(std::string(agent::kMetricsSpoolFile));
  tests::ManualClock clock_{common::WallTime(std::chrono::seconds(1'780'315'200))};  // 2026-06-01T12:00:00Z
  tests::ManualScheduler scheduler_{clock_};
  ScriptedHttpClient http_{scheduler_};
  common::aws::StaticCredentialsProvider creds_{
      common::aws::Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt, "test"}};
  std::unique_ptr<common::aws::AwsClient> aws_;
};

TEST_F(CloudWatchMetricOutputTest, TheSpoolIsOpenedOnTheFirstLoopTurnNotInTheConstructor) {
  {
    auto out = make();
    EXPECT_FALSE(out->spooling());  // a runtime that fails to build never touches the file
  }
  run();
  EXPECT_FALSE(std::filesystem::exists(spool_path_));
  auto out = make();
  run();
  EXPECT_TRUE(out->spooling());
  EXPECT_TRUE(http_.requests.empty());
  EXPECT_NE(out->describe().find("spool " + spool_path_), std::string::npos) << out->describe();
}

// (1) Every request is on disk from the moment it is handed over until it is delivered; a retryable
// failure keeps it, and the next flush tries the oldest first, ending at its first failure.
TEST_F(CloudWatchMetricOutputTest, RetryableFailureIsSpooledAndDeliveryRemovesIt) {
  auto out = make();
  run();
  http_.push(503, query_error("ServiceUnavailable"));
  flush_round(*out, 1);
  EXPECT_EQ(on_disk(), (std::vector<int>{1}));
  EXPECT_EQ(out->stats().datums_spooled, 1u);
  EXPECT_EQ(out->queued_requests(), 1u);

  // Throttled (HTTP 400 Throttling) the next time: still one record (not appended twice), and the new
  // request joins it on disk without being tried against a failing endpoint.
  http_.push(400, query_error("Throttling"));
  flush_round(*out, 2);
  EXPECT_EQ(on_disk(), (std::vector<int>{1, 2}));
  EXPECT_EQ(out->stats().datums_spooled, 2u);

  http_.push_n(3, 200, kOk);
  flush_round(*out, 3);
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 1, 1, 2, 3}));
  EXPECT_EQ(on_disk(), std::vector<int>{});
  EXPECT_EQ(out->spooled_requests(), 0u);
  EXPECT_EQ(out->stats().datums_delivered, 3u);
  EXPECT_EQ(out->stats().spool_errors, 0u);
  EXPECT_EQ(out->queued_requests(), 0u);
}

// HTTP 429 is transient for every output (the one table): kept, not dropped (it was dropped before).
TEST_F(CloudWatchMetricOutputTest, Http429IsRetriedNotDropped) {
  auto out = make();
  run();
  http_.push(429, query_error("TooManyRequestsException"));
  flush_round(*out, 1);
  EXPECT_EQ(out->stats().datums_rejected, 0u);
  EXPECT_EQ(on_disk(), (std::vector<int>{1}));
  http_.push_n(2, 200, kOk);
  flush_round(*out, 2);  // the kept request first, then the new one
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 1, 2}));
  EXPECT_EQ(out->stats().datums_delivered, 2u);
}

// Between flushes the Outbox retries on its backoff, and says when delivery fails and when it recovers.
TEST_F(CloudWatchMetricOutputTest, RetriesOnTheBackoffBetweenFlushesAndLogsOutageAndRecovery) {
  LogCapture log;
  auto out = make(100'000, "default", 1s);
  run();
  http_.push(503, query_error("ServiceUnavailable"));
  http_.push(503, query_error("ServiceUnavailable"));
  http_.push(200, kOk);
  flush_round(*out, 1);
  EXPECT_EQ(http_.requests.size(), 1u);
  scheduler_.advance(1s);  // first backoff: 1 s at its ceiling
  run();
  EXPECT_EQ(http_.requests.size(), 2u);
  scheduler_.advance(2s);  // then 2 s
  run();
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 1, 1}));
  EXPECT_EQ(out->stats().datums_delivered, 1u);
  EXPECT_EQ(on_disk(), std::vector<int>{});
  const std::string text = log.text();
  EXPECT_NE(text.find("delivery failing (PutMetricData:"), std::string::npos) << text;
  EXPECT_NE(text.find("delivering again after 3 s of failures"), std::string::npos) << text;
  ASSERT_NE(out->outbox_stats(), nullptr);
  EXPECT_EQ(out->outbox_stats()->outages, 1u);
  EXPECT_EQ(out->outbox_stats()->recoveries, 1u);
}

// (2) The final flush during an outage spools everything, never-attempted requests included; the next
// instance on the same file sends them first, in order, exactly once, then new data.
TEST_F(CloudWatchMetricOutputTest, FinalFlushInAnOutageSpoolsAllAndTheNextStartSendsThemFirstOnce) {
  std::string first_body;  // request 1 as first sent (uncompressed)
  {
    LogCapture log;
    auto out = make();
    run();
    http_.set_default(503, query_error("ServiceUnavailable"));
    flush_round(*out, 1);
    flush_round(*out, 2, 150);  // > 10 KB: gzipped on the wire
    flush_round(*out, 3);
    // Each flush tries the oldest request and stops at its failure.
    ASSERT_EQ(tags(http_.requests), (std::vector<int>{1, 1, 1}));
    first_body = form_body(http_.requests[0]);
    const std::size_t before = http_.requests.size();
    // Stop: request 4 (this minute, never attempted) is on disk with the rest; the last attempt ends at
    // its first failure instead of trying all four against a failing endpoint.
    flush_round(*out, 4, 1, /*final=*/true);
    ASSERT_EQ(http_.requests.size(), before + 1);
    EXPECT_EQ(on_disk(), (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(out->stats().datums_spooled, 1u + 150u + 1u + 1u);
    EXPECT_NE(log.text().find("153 datum(s) in 4 request(s) not delivered before stopping; spooled in " + spool_path_),
              std::string::npos)
        << log.text();
    EXPECT_EQ(log.text().find("lost"), std::string::npos) << log.text();
  }
  http_.requests.clear();
  http_.set_default(200, kOk);
  {
    LogCapture log;
    auto out = make();
    EXPECT_TRUE(http_.requests.empty());
    run();  // the first loop turn: restored and sent, before any flush
    ASSERT_EQ(tags(http_.requests), (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(form_body(http_.requests[0]), first_body);
    EXPECT_TRUE(gzipped(http_.requests[1])) << "the same gzip rule as a fresh request";
    EXPECT_FALSE(gzipped(http_.requests[0]));
    EXPECT_EQ(out->stats().datums_restored, 153u);
    EXPECT_EQ(out->stats().datums_delivered, 153u);
    EXPECT_EQ(on_disk(), std::vector<int>{});
    EXPECT_NE(log.text().find("153 datum(s) in 4 request(s) restored from " + spool_path_), std::string::npos)
        << log.text();
    flush_round(*out, 5);
    EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 2, 3, 4, 5}));
    flush_round(*out, 6, 1, /*final=*/true);  // delivered at once: nothing left behind
    EXPECT_EQ(on_disk(), std::vector<int>{});
  }
  auto again = make();
  run();
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 2, 3, 4, 5, 6})) << "nothing is sent twice";
  EXPECT_EQ(again->stats().datums_restored, 0u);
}

// A SIGHUP reload flushes the old output and destroys it before the loop turns again: the old one must
// not send (its answer would be lost, and the new one re-sends from the spool), so nothing goes twice.
TEST_F(CloudWatchMetricOutputTest, AnOutputReplacedRightAfterItsFinalFlushLeavesTheSendingToTheNextOne) {
  http_.set_default(200, kOk);
  {
    auto old = make();
    run();
    flush_round(*old, 1);
    std::vector<agent::MetricSample> samples(1);
    samples[0].name = "net_bytes_recv";
    samples[0].unit = agent::Unit::kBytes;
    samples[0].value = 2;
    samples[0].time = clock_.wall_now();
    old->publish(samples, clock_.wall_now());
    old->flush([] {});
    EXPECT_EQ(on_disk(), (std::vector<int>{2}));
  }  // replaced before the loop runs
  auto next = make();
  run();
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 2}));
  EXPECT_EQ(on_disk(), std::vector<int>{});
}

// A restored request that arrives while a flush is already due still goes first.
TEST_F(CloudWatchMetricOutputTest, RestoredRequestsGoBeforeAFlushThatComesFirst) {
  {
    auto out = make();
    run();
    http_.set_default(503, query_error("ServiceUnavailable"));
    flush_round(*out, 1);
  }
  http_.set_default(200, kOk);
  const std::size_t before = http_.requests.size();
  auto out = make();
  flush_round(*out, 2);  // deliver() before the first loop turn opens the spool itself
  EXPECT_EQ(tags(http_.requests, before), (std::vector<int>{1, 2}));
  EXPECT_EQ(on_disk(), std::vector<int>{});
}

// (3) A spooled request the service rejects (a client error, e.g. datapoints older than two weeks) is
// removed with an error line; it is not sent again.
TEST_F(CloudWatchMetricOutputTest, ClientErrorOnASpooledRequestRemovesIt) {
  {
    auto out = make();
    run();
    http_.push(503, query_error("ServiceUnavailable"));
    flush_round(*out, 1);
    ASSERT_EQ(on_disk(), (std::vector<int>{1}));
  }
  LogCapture log;
  http_.push(400, query_error("InvalidParameterValue"));
  auto out = make();
  run();
  EXPECT_EQ(out->stats().datums_rejected, 1u);
  EXPECT_EQ(on_disk(), std::vector<int>{});
  EXPECT_NE(log.text().find("1 item(s) refused for good (PutMetricData:"), std::string::npos) << log.text();
  http_.push(200, kOk);
  flush_round(*out, 2);
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 1, 2}));
}

// (4) The queue cap (delivery.max_queue_records, in datums) drops the oldest request from the spool too,
// both while running and when a larger spool is read back under a smaller cap.
TEST_F(CloudWatchMetricOutputTest, QueueCapDropsTheOldestFromTheSpoolToo) {
  {
    auto out = make(2);
    run();
    http_.set_default(503, query_error("ServiceUnavailable"));
    flush_round(*out, 1);
    flush_round(*out, 2);
    EXPECT_EQ(on_disk(), (std::vector<int>{1, 2}));
    flush_round(*out, 3);  // 3 datums > 2: request 1 goes
    EXPECT_EQ(on_disk(), (std::vector<int>{2, 3}));
    EXPECT_EQ(out->stats().datums_overflowed, 1u);
    EXPECT_EQ(out->queued_requests(), 2u);
  }
  http_.set_default(200, kOk);
  const std::size_t before = http_.requests.size();
  auto out = make(1);
  run();
  EXPECT_EQ(out->stats().datums_restored, 2u);
  EXPECT_EQ(out->stats().datums_overflowed, 1u);
  EXPECT_EQ(tags(http_.requests, before), (std::vector<int>{3}));
  EXPECT_EQ(on_disk(), std::vector<int>{});
}

// (5) A spool that cannot be opened: a clear warning, and the output works as before, in memory.
TEST_F(CloudWatchMetricOutputTest, UnopenableSpoolWarnsAndKeepsRequestsInMemory) {
  LogCapture log;
  const std::string bad = dir_.file("no-such-dir/metrics-spool.jsonl");
  auto out = make(100'000, bad);
  run();
  EXPECT_FALSE(out->spooling());
  EXPECT_NE(log.text().find("cannot open the spool"), std::string::npos) << log.text();
  EXPECT_NE(log.text().find(bad), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("kept in memory only"), std::string::npos) << log.text();

  http_.push(503, query_error("ServiceUnavailable"));
  flush_round(*out, 1);
  EXPECT_EQ(out->queued_requests(), 1u);
  http_.push_n(2, 200, kOk);
  flush_round(*out, 2);
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 1, 2}));
  EXPECT_EQ(out->stats().datums_delivered, 2u);
  EXPECT_EQ(out->stats().datums_spooled, 0u);

  http_.push(503, query_error("ServiceUnavailable"));
  flush_round(*out, 3, 1, /*final=*/true);
  EXPECT_NE(log.text().find("1 datum(s) in 1 request(s) could not be delivered before stopping and are lost (the "
                            "spool could not be opened)"),
            std::string::npos)
      << log.text();
  EXPECT_FALSE(std::filesystem::exists(bad));
}

// Unreadable lines (DurableQueue's count) and records that are not spooled requests are skipped and
// counted; the good records are still sent.
TEST_F(CloudWatchMetricOutputTest, UnreadableSpoolLinesAndRecordsAreSkippedAndCounted) {
  {
    auto out = make();
    run();
    http_.push(503, query_error("ServiceUnavailable"));
    flush_round(*out, 1);
  }
  {
    auto q = agent::DurableQueue::open(spool_path_).value();
    ASSERT_TRUE(q->append(R"({"datums":1,"body":"Action=Publish&Message=x"})").ok());
    ASSERT_TRUE(q->append("not json").ok());
  }
  {
    std::ofstream f(spool_path_, std::ios::app);
    f << "{\"id\":99,\"da\n";  // a torn line
  }
  LogCapture log;
  http_.set_default(200, kOk);
  auto out = make();
  run();
  EXPECT_EQ(out->stats().spool_skipped, 3u);
  EXPECT_EQ(out->stats().datums_restored, 1u);
  EXPECT_EQ(tags(http_.requests), (std::vector<int>{1, 1}));
  EXPECT_EQ(on_disk(), std::vector<int>{});
  EXPECT_NE(log.text().find("3 unreadable line(s) or record(s) skipped"), std::string::npos) << log.text();
}

}  // namespace
