// IMDS discovery retry: the backoff schedule (pure), and DiscoveryRetry on a ManualScheduler with a
// real ImdsClient behind a ScriptedHttpClient that answers the token request with HTTP 429 first.
#include "agent/app/host_discovery.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/support/log_capture.h"
#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/support/scripted_http_client.h"

namespace {

using agent::discovery_retry_delay;
using agent::DiscoveryRetry;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

class FixedRng final : public common::aws::Rng {
 public:
  explicit FixedRng(std::vector<double> values) : values_(std::move(values)) {}
  double next_unit() override { return values_[i_++ % values_.size()]; }

 private:
  std::vector<double> values_;
  std::size_t i_ = 0;
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(DiscoveryRetryDelay, FullJitterFromOneSecondCappedAtFiveMinutes) {
  EXPECT_EQ(discovery_retry_delay(0, 0.5), milliseconds(500));
  EXPECT_EQ(discovery_retry_delay(1, 0.5), milliseconds(1000));
  EXPECT_EQ(discovery_retry_delay(3, 0.5), milliseconds(4000));
  EXPECT_EQ(discovery_retry_delay(8, 0.5), milliseconds(128000));
  EXPECT_EQ(discovery_retry_delay(9, 0.5), milliseconds(150000));  // 512 s > cap 300 s
  EXPECT_EQ(discovery_retry_delay(1000, 0.5), milliseconds(150000));
  EXPECT_EQ(discovery_retry_delay(1000, 0.999999), milliseconds(299999));
  EXPECT_EQ(discovery_retry_delay(5, 0.0), milliseconds(0));
  EXPECT_EQ(discovery_retry_delay(2, 0.25, milliseconds(100), milliseconds(300)), milliseconds(75));
}

constexpr const char* kDocument =
    R"({"instanceId":"i-0123456789abcdef0","region":"eu-west-1","accountId":"123456789012",)"
    R"("instanceType":"t3.micro","imageId":"ami-0abc","privateIp":"10.0.0.5"})";

struct DiscoveryRetryTest : ::testing::Test {
  tests::ManualClock clock;
  tests::ManualScheduler scheduler{clock};
  tests::ScriptedHttpClient http{scheduler};
  common::aws::ImdsClient imds{http, clock, [] {
                                 common::aws::ImdsOptions o;
                                 o.endpoint = "http://imds.test";
                                 o.retries = 1;  // two token PUTs per question
                                 return o;
                               }()};
  FixedRng rng{{0.5}};
  std::vector<std::string> found;
  std::optional<common::Error> first;

  DiscoveryRetry::Probe probe() {
    return [this](auto done) { imds.instance_identity(std::move(done)); };
  }
  void throttle_once() { http.push_n(2, 429, ""); }  // one question: both token attempts throttled
  void answer() {
    http.push(200, "TOKEN", {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
    http.push(200, kDocument);
    http.push(200, "ip-10-0-0-5.eu-west-1.compute.internal");
  }
  // The question asked at start (AwsContext::initialize): throttled.
  void fail_at_start() {
    throttle_once();
    imds.instance_identity([this](common::Result<common::aws::InstanceIdentity> r) {
      ASSERT_FALSE(r.ok());
      first = r.error();
    });
    scheduler.advance(0ms);
    ASSERT_TRUE(first.has_value());
  }
};

TEST_F(DiscoveryRetryTest, ThrottledAtStartRetriesWithBackoffUntilImdsAnswersAndLogsEachOnce) {
  fail_at_start();
  EXPECT_NE(first->to_string().find("http 429"), std::string::npos) << first->to_string();
  tests::LogCapture log;
  DiscoveryRetry retry(scheduler, rng, probe(),
                       [this](const common::aws::InstanceIdentity& id) { found.push_back(id.instance_id); });
  retry.start(*first);
  EXPECT_TRUE(retry.waiting());
  EXPECT_EQ(retry.last_delay(), 500ms);  // 0.5 * 1 s

  throttle_once();  // retry 1 (after 0.5 s): throttled again
  throttle_once();  // retry 2 (after 0.5 * 2 s): throttled again
  answer();         // retry 3 (after 0.5 * 4 s): answers
  scheduler.advance(499ms);
  EXPECT_EQ(retry.retries(), 0);
  scheduler.advance(1ms);
  EXPECT_EQ(retry.retries(), 1);
  EXPECT_EQ(retry.last_delay(), 1000ms);
  scheduler.advance(1000ms);
  EXPECT_EQ(retry.retries(), 2);
  EXPECT_EQ(retry.last_delay(), 2000ms);
  EXPECT_TRUE(found.empty());
  scheduler.advance(2000ms);
  EXPECT_EQ(retry.retries(), 3);
  ASSERT_EQ(found, std::vector<std::string>{"i-0123456789abcdef0"});
  EXPECT_FALSE(retry.waiting());
  EXPECT_EQ(http.requests.size(), 2u + 2u + 2u + 3u) << "start, two throttled retries, the answer";
  EXPECT_EQ(http.scripted(), 0u);

  // Nothing more is asked once it answered.
  scheduler.advance(std::chrono::hours(1));
  EXPECT_EQ(scheduler.pending(), 0u);
  EXPECT_EQ(found.size(), 1u);

  const std::string text = log.text();
  EXPECT_EQ(count(text, "no instance metadata"), 1u) << text;
  EXPECT_NE(text.find("http 429"), std::string::npos) << text;
  EXPECT_EQ(count(text, "instance metadata answered after 3 retries"), 1u) << text;
  EXPECT_NE(text.find("i-0123456789abcdef0"), std::string::npos) << text;
}

TEST_F(DiscoveryRetryTest, FoundRunsOnALaterTurnNotInsideTheProbeCallback) {
  bool in_probe = false;
  DiscoveryRetry retry(
      scheduler, rng,
      [&](auto done) {
        in_probe = true;
        common::aws::InstanceIdentity id;
        id.instance_id = "i-1";
        done(id);  // answers inline
        in_probe = false;
      },
      [&](const common::aws::InstanceIdentity& id) {
        EXPECT_FALSE(in_probe);
        found.push_back(id.instance_id);
      });
  retry.start(common::Error(common::ErrorCode::kUnavailable, "IMDS session token request: http 429"));
  scheduler.advance(500ms);
  EXPECT_EQ(found, std::vector<std::string>{"i-1"});
}

TEST_F(DiscoveryRetryTest, DelaysGrowToTheCapAndStayThere) {
  FixedRng top{{0.999999}};
  int probes = 0;
  DiscoveryRetry retry(
      scheduler, top,
      [&](auto done) {
        ++probes;
        done(common::Error(common::ErrorCode::kUnavailable, "no IMDS"));
      },
      [&](const common::aws::InstanceIdentity&) { ADD_FAILURE() << "IMDS never answers here"; });
  retry.start(common::Error(common::ErrorCode::kUnavailable, "no IMDS"));
  std::vector<milliseconds> delays{retry.last_delay()};
  for (int i = 0; i < 12; ++i) {
    scheduler.advance(retry.last_delay());
    delays.push_back(retry.last_delay());
  }
  EXPECT_EQ(probes, 12);
  EXPECT_EQ(delays[0], 999ms);
  EXPECT_EQ(delays[1], 1999ms);
  EXPECT_EQ(delays[8], 255999ms);
  EXPECT_EQ(delays[9], 299999ms);
  EXPECT_EQ(delays[12], 299999ms);
}

TEST_F(DiscoveryRetryTest, DestroyedWhileAProbeIsInFlightIgnoresTheAnswer) {
  std::function<void(DiscoveryRetry::Answer)> pending;
  {
    DiscoveryRetry retry(
        scheduler, rng, [&](auto done) { pending = std::move(done); },
        [&](const common::aws::InstanceIdentity& id) { found.push_back(id.instance_id); });
    retry.start(common::Error(common::ErrorCode::kUnavailable, "x"));
    scheduler.advance(500ms);
    ASSERT_TRUE(pending);
  }
  common::aws::InstanceIdentity id;
  id.instance_id = "i-late";
  pending(id);
  scheduler.advance(1s);
  EXPECT_TRUE(found.empty());
  EXPECT_EQ(scheduler.pending(), 0u);
}

}  // namespace
