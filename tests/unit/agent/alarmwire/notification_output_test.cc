#include "agent/sinks/notification_output.h"

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/fixed_rng.h"
#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/unit/agent/alarmwire/alarmwire_test_util.h"

namespace {

using namespace std::chrono_literals;
using agent::PublishResult;
using agent::QueuedNotification;
using agent::SnsNotificationOutput;

constexpr const char* kTopicA = "arn:aws:sns:us-east-1:123456789012:a";
constexpr const char* kTopicB = "arn:aws:sns:us-east-1:123456789012:b";

QueuedNotification note(const std::string& alarm, std::uint64_t id, const std::string& topic, common::WallTime t) {
  QueuedNotification n;
  n.alarm_name = alarm;
  n.transition_id = id;
  n.topic_arn = topic;
  n.subject = "ALARM: \"" + alarm + "\"";
  n.message = "{\"AlarmName\":\"" + alarm + "\",\"id\":" + std::to_string(id) + "}";
  n.attributes = {{"AlarmName", "String", alarm}};
  n.state_change_time = t;
  return n;
}

struct Delivered {
  std::string alarm;
  std::uint64_t id;
  std::size_t queued_on_disk;  // records in the queue file when the callback ran
  bool operator==(const Delivered&) const = default;
};

// Records in a queue file not marked done (read without opening a DurableQueue, which may rewrite it).
std::size_t live_records(const std::string& text) {
  std::set<std::uint64_t> ids;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const auto j = nlohmann::json::parse(text.substr(pos, nl - pos));
    if (j.contains("done")) {
      ids.erase(j["done"].get<std::uint64_t>());
    } else {
      ids.insert(j["id"].get<std::uint64_t>());
    }
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return ids.size();
}

class NotificationOutputTest : public ::testing::Test {
 protected:
  void open_output(SnsNotificationOutput::Options options = {}) {
    auto q = agent::DurableQueue::open(dir_.file("notifications.jsonl"));
    ASSERT_TRUE(q.ok()) << q.error().to_string();
    queue_ = std::move(*q);
    output_ = std::make_unique<SnsNotificationOutput>(clock_, scheduler_, queue_.get(), &publisher_, nullptr, options);
    output_->set_on_delivered([this](const std::string& alarm, std::uint64_t id) {
      delivered_.push_back({alarm, id, live_records(tests::read_file(dir_.file("notifications.jsonl")))});
    });
  }
  void restart() {
    output_.reset();
    queue_.reset();
    open_output();
  }
  std::vector<std::string> sent_topics_and_ids() const {
    std::vector<std::string> out;
    for (const auto& r : publisher_.requests) {
      out.push_back(r.topic_arn.substr(r.topic_arn.rfind(':') + 1) + "/" + nlohmann::json::parse(r.message)["id"].dump());
    }
    return out;
  }

  tests::TempDir dir_;
  tests::ManualClock clock_;
  tests::ManualScheduler scheduler_{clock_};
  tests::ScriptedPublisher publisher_{scheduler_};
  std::unique_ptr<agent::DurableQueue> queue_;
  std::unique_ptr<SnsNotificationOutput> output_;
  std::vector<Delivered> delivered_;
};

TEST_F(NotificationOutputTest, OldestFirstAndOneAtATimePerTopic) {
  open_output();
  const auto t = clock_.wall_now();
  ASSERT_TRUE(output_->enqueue({note("x", 1, kTopicA, t)}).ok());
  ASSERT_TRUE(output_->enqueue({note("x", 2, kTopicA, t)}).ok());
  ASSERT_TRUE(output_->enqueue({note("y", 1, kTopicB, t)}).ok());
  ASSERT_TRUE(output_->enqueue({note("x", 3, kTopicA, t)}).ok());
  EXPECT_TRUE(publisher_.requests.empty());  // not started yet
  output_->start();
  // The oldest of each topic, and nothing else, is in flight.
  EXPECT_EQ(sent_topics_and_ids(), (std::vector<std::string>{"a/1", "b/1"}));
  EXPECT_EQ(publisher_.in_flight, 2);
  scheduler_.advance(0ms);
  EXPECT_EQ(sent_topics_and_ids(), (std::vector<std::string>{"a/1", "b/1", "a/2", "a/3"}));
  EXPECT_EQ(publisher_.in_flight, 0);
  EXPECT_EQ(delivered_, (std::vector<Delivered>{{"x", 1, 4}, {"y", 1, 3}, {"x", 2, 2}, {"x", 3, 1}}));
  EXPECT_EQ(output_->queued_count(), 0u);
  EXPECT_EQ(output_->stats().delivered, 4u);
  restart();
  EXPECT_EQ(output_->queued_count(), 0u);  // nothing left on disk
}

TEST_F(NotificationOutputTest, RetryWaitIsJitteredWithinTheCeilingAndResetsAfterDelivery) {
  SnsNotificationOutput::Options options;
  options.initial_backoff = 1s;
  options.max_backoff = 8s;
  tests::FixedRng half({0.5});
  options.rng = &half;
  open_output(options);
  output_->start();
  publisher_.set_down(true);
  ASSERT_TRUE(output_->enqueue({note("cpu", 1, kTopicA, clock_.wall_now())}).ok());
  scheduler_.advance(0ms);
  ASSERT_EQ(publisher_.requests.size(), 1u);
  scheduler_.advance(499ms);
  EXPECT_EQ(publisher_.requests.size(), 1u);
  scheduler_.advance(1ms);  // 0.5 * 1 s
  EXPECT_EQ(publisher_.requests.size(), 2u);
  scheduler_.advance(1s);  // 0.5 * 2 s
  EXPECT_EQ(publisher_.requests.size(), 3u);
  publisher_.set_down(false);
  scheduler_.advance(2s);  // 0.5 * 4 s: delivered
  EXPECT_EQ(output_->stats().delivered, 1u);
  // After a success the next outage starts again at the base.
  publisher_.set_down(true);
  ASSERT_TRUE(output_->enqueue({note("cpu", 2, kTopicA, clock_.wall_now())}).ok());
  scheduler_.advance(0ms);
  const auto sent = publisher_.requests.size();
  scheduler_.advance(500ms);
  EXPECT_EQ(publisher_.requests.size(), sent + 1);
}

TEST_F(NotificationOutputTest, KeepsRetryingWhileUnreachableThenDeliversInOrderMarkedDelayed) {
  SnsNotificationOutput::Options options;
  options.initial_backoff = 1s;
  options.max_backoff = 8s;
  tests::FixedRng ceiling({1.0});  // every wait at the top of its full-jitter range
  options.rng = &ceiling;
  open_output(options);
  output_->start();
  publisher_.set_down(true);
  const auto t0 = clock_.wall_now();
  ASSERT_TRUE(output_->enqueue({note("cpu", 1, kTopicA, t0)}).ok());
  scheduler_.advance(0ms);
  EXPECT_EQ(publisher_.requests.size(), 1u);
  ASSERT_TRUE(output_->enqueue({note("cpu", 2, kTopicA, t0 + 5s)}).ok());
  EXPECT_EQ(publisher_.requests.size(), 1u);  // the topic waits for its oldest
  // The ceiling of the backoff doubles: retries at +1, +3 (2), +7 (4), then every 8 s.
  scheduler_.advance(999ms);
  EXPECT_EQ(publisher_.requests.size(), 1u);
  scheduler_.advance(1ms);
  EXPECT_EQ(publisher_.requests.size(), 2u);
  scheduler_.advance(2s);
  EXPECT_EQ(publisher_.requests.size(), 3u);
  scheduler_.advance(4s);
  EXPECT_EQ(publisher_.requests.size(), 4u);
  scheduler_.advance(8s);
  EXPECT_EQ(publisher_.requests.size(), 5u);
  scheduler_.advance(64s);
  EXPECT_EQ(publisher_.requests.size(), 13u);
  for (const auto& r : publisher_.requests) EXPECT_EQ(nlohmann::json::parse(r.message)["id"], 1);
  EXPECT_TRUE(delivered_.empty());
  EXPECT_EQ(output_->queued_count(), 2u);
  EXPECT_EQ(output_->stats().failed_attempts, 13u);

  publisher_.set_down(false);
  publisher_.requests.clear();
  scheduler_.advance(8s);
  ASSERT_EQ(sent_topics_and_ids(), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(delivered_, (std::vector<Delivered>{{"cpu", 1, 2}, {"cpu", 2, 1}}));
  // Sent about 89 s after the state change: marked as delayed, with the delay.
  const auto& attrs = publisher_.requests[0].attributes;
  ASSERT_EQ(attrs.size(), 3u);
  EXPECT_EQ(attrs[1].name, "trailwatch.delayed");
  EXPECT_EQ(attrs[2].name, "trailwatch.delay_seconds");
  EXPECT_EQ(attrs[2].value, std::to_string(std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now() - t0).count()));
  EXPECT_EQ(output_->stats().delayed, 2u);
}

TEST_F(NotificationOutputTest, ClientErrorsAreDroppedWithoutBlockingTheQueue) {
  open_output();
  output_->start();
  publisher_.script(PublishResult::kRejected);
  const auto t = clock_.wall_now();
  ASSERT_TRUE(output_->enqueue({note("x", 1, kTopicA, t)}).ok());
  ASSERT_TRUE(output_->enqueue({note("x", 2, kTopicA, t)}).ok());
  scheduler_.advance(0ms);
  EXPECT_EQ(sent_topics_and_ids(), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(output_->stats().rejected, 1u);
  EXPECT_EQ(output_->stats().delivered, 1u);
  EXPECT_EQ(output_->queued_count(), 0u);
  // A dropped notification is finished too: it is not re-sent after a restart.
  EXPECT_EQ(delivered_.size(), 2u);
}

TEST_F(NotificationOutputTest, UnencodableRecordIsDroppedNotSent) {
  open_output();
  output_->start();
  auto bad = note("x", 1, kTopicA, clock_.wall_now());
  bad.subject = std::string(200, 's');
  ASSERT_TRUE(output_->enqueue({bad, note("x", 2, kTopicB, clock_.wall_now())}).ok());
  scheduler_.advance(0ms);
  EXPECT_EQ(sent_topics_and_ids(), (std::vector<std::string>{"b/2"}));
  EXPECT_EQ(output_->stats().rejected, 1u);
  EXPECT_EQ(output_->queued_count(), 0u);
}

TEST_F(NotificationOutputTest, TransitionIsDeliveredWhenAllItsTopicsAreAndBeforeItsRecordIsRemoved) {
  open_output();
  output_->start();
  publisher_.script(PublishResult::kDelivered);
  publisher_.script(PublishResult::kRetry);
  const auto t = clock_.wall_now();
  ASSERT_TRUE(output_->enqueue({note("x", 1, kTopicA, t), note("x", 1, kTopicB, t)}).ok());
  scheduler_.advance(0ms);
  EXPECT_TRUE(delivered_.empty());  // topic b still pending
  EXPECT_EQ(output_->queued_count(), 1u);
  EXPECT_TRUE(output_->queued("x", 1));
  scheduler_.advance(1s);
  // The callback saw the last record still on disk: "notified" can be persisted before it goes.
  EXPECT_EQ(delivered_, (std::vector<Delivered>{{"x", 1, 1}}));
  EXPECT_FALSE(output_->queued("x", 1));
}

TEST_F(NotificationOutputTest, RestartResumesTheQueueAndDiscardsWhatWasDelivered) {
  open_output();
  publisher_.set_down(true);
  output_->start();
  const auto t = clock_.wall_now();
  ASSERT_TRUE(output_->enqueue({note("x", 1, kTopicA, t)}).ok());
  ASSERT_TRUE(output_->enqueue({note("x", 2, kTopicA, t)}).ok());
  ASSERT_TRUE(output_->enqueue({note("x", 3, kTopicA, t)}).ok());
  scheduler_.advance(0ms);
  restart();
  EXPECT_EQ(output_->queued_count(), 3u);
  // The caller knows transition 1 was delivered (crash after "notified" was saved).
  output_->discard_delivered([](const QueuedNotification& n) { return n.transition_id <= 1; });
  EXPECT_EQ(output_->queued_count(), 2u);
  publisher_.set_down(false);
  publisher_.requests.clear();
  output_->start();
  scheduler_.advance(0ms);
  EXPECT_EQ(sent_topics_and_ids(), (std::vector<std::string>{"a/2", "a/3"}));
  restart();
  EXPECT_EQ(output_->queued_count(), 0u);
}

TEST_F(NotificationOutputTest, UnreadableQueueRecordIsDroppedAtStart) {
  tests::write_file(dir_.file("notifications.jsonl"),
                    "{\"id\":1,\"data\":\"not a notification\"}\n{\"id\":2,\"data\":" +
                        nlohmann::json(agent::to_json(note("x", 1, kTopicA, clock_.wall_now()))).dump() + "}\n");
  open_output();
  EXPECT_EQ(output_->stats().corrupt, 1u);
  EXPECT_EQ(output_->queued_count(), 1u);
  output_->start();
  scheduler_.advance(0ms);
  EXPECT_EQ(sent_topics_and_ids(), (std::vector<std::string>{"a/1"}));
}

TEST_F(NotificationOutputTest, WithoutAwsNotificationsGoToTheLocalSink) {
  auto local = agent::LocalSink::open(dir_.file("local.jsonl"), false);
  ASSERT_TRUE(local.ok());
  SnsNotificationOutput out(clock_, scheduler_, nullptr, nullptr, local->get(), {});
  std::vector<std::uint64_t> done;
  out.set_on_delivered([&](const std::string&, std::uint64_t id) { done.push_back(id); });
  out.start();
  ASSERT_TRUE(out.enqueue({note("x", 7, kTopicA, clock_.wall_now()), note("x", 7, kTopicB, clock_.wall_now())}).ok());
  EXPECT_EQ(done, (std::vector<std::uint64_t>{7}));
  EXPECT_EQ(out.stats().local_written, 2u);
  const std::string text = tests::read_file(dir_.file("local.jsonl"));
  const auto first = nlohmann::json::parse(text.substr(0, text.find('\n')));
  EXPECT_EQ(first["destination"], "sns");
  EXPECT_EQ(first["api"], "Publish");
  EXPECT_EQ(first["payload"]["Action"], "Publish");
  EXPECT_EQ(first["payload"]["TopicArn"], kTopicA);
  EXPECT_EQ(first["payload"]["Subject"], "ALARM: \"x\"");
  EXPECT_EQ(nlohmann::json::parse(first["payload"]["Message"].get<std::string>())["id"], 7);
  EXPECT_EQ(first["payload"]["MessageAttributes.entry.1.Name"], "AlarmName");
}

}  // namespace
