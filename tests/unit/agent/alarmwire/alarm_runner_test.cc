#include "agent/app/alarm_runner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/unit/agent/alarmwire/alarmwire_test_util.h"

namespace {

using namespace std::chrono_literals;
using agent::AlarmState;

constexpr const char* kTopic = "arn:aws:sns:us-east-1:123456789012:ops";

agent::AlarmConfig cpu_alarm() {
  agent::AlarmConfig c;
  c.name = "cpu";
  c.metric = "cpu_usage_user";
  c.period = 2s;
  c.threshold = 90;
  c.comparison = agent::Comparison::kGreaterThanOrEqualToThreshold;
  c.alarm_actions = {kTopic};
  c.ok_actions = {kTopic};
  return c;
}

agent::MetricSample sample(double v, common::WallTime t) {
  agent::MetricSample s;
  s.name = "cpu_usage_user";
  s.value = v;
  s.time = t;
  return s;
}

class AlarmRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { clock_.set_wall(common::WallTime(std::chrono::seconds(1'700'000'000))); }  // a 2 s boundary

  void create(bool start = true) {
    runner_.reset();
    auto pub = std::make_unique<tests::ScriptedPublisher>(scheduler_);
    publisher_ = pub.get();
    publisher_->set_down(down_);
    agent::AlarmRunnerOptions o;
    o.state_dir = dir_.path();
    o.context = {"123456789012", "us-east-1", "US East (N. Virginia)", "CWAgent"};
    o.delivery.initial_backoff = 1s;
    o.delivery.max_backoff = 2s;
    o.evaluate_from = evaluate_from_;
    auto r = agent::AlarmRunner::create({cpu_alarm()}, clock_, scheduler_, std::move(pub), nullptr, o);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    runner_ = std::move(*r);
    if (start) runner_->start();
  }
  void set_down(bool down) {
    down_ = down;
    publisher_->set_down(down);
  }
  // One round of samples per second for `seconds`, the clock moving with them.
  void feed(double value, int seconds) {
    for (int i = 0; i < seconds; ++i) {
      scheduler_.advance(500ms);
      const agent::MetricSample s = sample(value, clock_.wall_now());
      runner_->add_samples(std::span<const agent::MetricSample>(&s, 1));
      scheduler_.advance(500ms);
    }
  }
  std::vector<std::string> sent_states() const {
    std::vector<std::string> out;
    for (const auto& r : publisher_->requests) {
      const auto j = nlohmann::json::parse(r.message);
      out.push_back(j["OldStateValue"].get<std::string>() + "->" + j["NewStateValue"].get<std::string>());
    }
    return out;
  }

  tests::TempDir dir_;
  tests::ManualClock clock_;
  tests::ManualScheduler scheduler_{clock_};
  tests::ScriptedPublisher* publisher_ = nullptr;
  std::unique_ptr<agent::AlarmRunner> runner_;
  bool down_ = false;
  std::optional<common::WallTime> evaluate_from_;
};

TEST_F(AlarmRunnerTest, EvaluatesWhenThePeriodClosesAndPublishesCloudWatchShapedMessages) {
  create();
  const auto start = clock_.wall_now();
  feed(95, 2);  // the period [0 s, 2 s) breaches; its evaluation runs on the timer at 2 s (+ slack)
  EXPECT_EQ(runner_->evaluator().state("cpu"), AlarmState::kInsufficientData);
  scheduler_.advance(10ms);
  ASSERT_EQ(runner_->evaluator().state("cpu"), AlarmState::kAlarm);
  ASSERT_EQ(publisher_->requests.size(), 1u);
  const auto& req = publisher_->requests[0];
  EXPECT_EQ(req.topic_arn, kTopic);
  EXPECT_EQ(req.subject, "ALARM: \"cpu\" in US East (N. Virginia)");
  const auto msg = nlohmann::json::parse(req.message);
  EXPECT_EQ(msg["AlarmName"], "cpu");
  EXPECT_EQ(msg["NewStateValue"], "ALARM");
  EXPECT_EQ(msg["OldStateValue"], "INSUFFICIENT_DATA");
  EXPECT_EQ(msg["Trigger"]["MetricName"], "cpu_usage_user");
  EXPECT_EQ(msg["Trigger"]["Period"], 2);
  // StateChangeTime is the evaluation time: right at the period end, not a round later.
  const auto status = runner_->status();
  EXPECT_LT(status[0].state_change_time - (start + 2s), 50ms);
  EXPECT_GE(status[0].state_change_time, start + 2s);

  feed(5, 4);
  EXPECT_EQ(runner_->evaluator().state("cpu"), AlarmState::kOk);
  EXPECT_EQ(sent_states(), (std::vector<std::string>{"INSUFFICIENT_DATA->ALARM", "ALARM->OK"}));
  // Both were delivered: alarms.json says so and the queue is empty.
  const auto saved = runner_->status();
  EXPECT_EQ(saved[0].last_notified_id, saved[0].last_transition_id);
  // No record left (a rewrite keeps only a "done" mark for the highest id used).
  const std::string queue_file = tests::read_file(dir_.file("notifications.jsonl"));
  EXPECT_EQ(queue_file.find("\"data\""), std::string::npos) << queue_file;
  EXPECT_NE(queue_file.find("\"done\""), std::string::npos) << queue_file;
  EXPECT_NE(tests::read_file(dir_.file("alarms.json")).find("\"OK\""), std::string::npos);
}

TEST_F(AlarmRunnerTest, SnsDownThroughTheAlarmPhaseDeliversBothInOrderAfterwards) {
  create();
  set_down(true);
  feed(95, 3);
  feed(5, 3);
  EXPECT_EQ(runner_->evaluator().state("cpu"), AlarmState::kOk);
  EXPECT_EQ(runner_->output().queued_count(), 2u);
  for (const auto& s : sent_states()) EXPECT_EQ(s, "INSUFFICIENT_DATA->ALARM");  // only the oldest is tried
  set_down(false);
  publisher_->requests.clear();
  scheduler_.advance(2s);
  EXPECT_EQ(sent_states(), (std::vector<std::string>{"INSUFFICIENT_DATA->ALARM", "ALARM->OK"}));
  EXPECT_EQ(runner_->output().queued_count(), 0u);
}

TEST_F(AlarmRunnerTest, RestartBetweenAlarmAndOkDoesNotRepeatTheAlarmNotification) {
  create();
  feed(95, 3);
  ASSERT_EQ(sent_states(), (std::vector<std::string>{"INSUFFICIENT_DATA->ALARM"}));
  create();  // a restart with the same state_dir
  EXPECT_EQ(runner_->evaluator().state("cpu"), AlarmState::kAlarm);
  feed(95, 2);  // still breaching: no transition, nothing sent
  EXPECT_TRUE(publisher_->requests.empty());
  feed(5, 3);
  EXPECT_EQ(sent_states(), (std::vector<std::string>{"ALARM->OK"}));
}

TEST_F(AlarmRunnerTest, RestartLateInAPeriodDoesNotPassThroughInsufficientData) {
  create();
  feed(95, 3);
  ASSERT_EQ(runner_->evaluator().state("cpu"), AlarmState::kAlarm);
  // Restart 1.5 s into a period: no sample can land in it before the first tick at its end.
  scheduler_.advance(500ms);
  ASSERT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall_now().time_since_epoch()).count() % 2000,
            1500);
  evaluate_from_ = clock_.wall_now() + 500ms;
  create();
  scheduler_.advance(500ms);
  feed(95, 4);
  EXPECT_EQ(runner_->evaluator().state("cpu"), AlarmState::kAlarm);
  EXPECT_TRUE(publisher_->requests.empty());
  EXPECT_EQ(runner_->status()[0].last_transition_id, 1u);

  // Without it, the empty period is evaluated and the alarm flips through INSUFFICIENT_DATA.
  scheduler_.advance(1500ms);
  evaluate_from_.reset();
  create();
  scheduler_.advance(500ms);
  feed(95, 4);
  EXPECT_EQ(sent_states(), (std::vector<std::string>{"INSUFFICIENT_DATA->ALARM"}));
}

TEST_F(AlarmRunnerTest, RestartWhileSnsIsDownResumesTheQueueOnce) {
  create();
  set_down(true);
  feed(95, 3);
  ASSERT_EQ(runner_->output().queued_count(), 1u);
  create();  // restart: SNS still down at first
  EXPECT_EQ(runner_->output().queued_count(), 1u);
  set_down(false);
  publisher_->requests.clear();
  scheduler_.advance(3s);
  EXPECT_EQ(sent_states(), (std::vector<std::string>{"INSUFFICIENT_DATA->ALARM"}));
  create();  // and once more: nothing left to send
  scheduler_.advance(3s);
  EXPECT_TRUE(publisher_->requests.empty());
}

TEST_F(AlarmRunnerTest, TransitionSavedButNeverQueuedIsQueuedAtStart) {
  create();
  set_down(true);
  feed(95, 3);
  runner_.reset();
  // A crash after alarms.json was written but before the notification reached the queue.
  std::remove(dir_.file("notifications.jsonl").c_str());
  create();
  EXPECT_EQ(runner_->output().queued_count(), 1u);
  set_down(false);
  scheduler_.advance(3s);
  EXPECT_EQ(sent_states().back(), "INSUFFICIENT_DATA->ALARM");
}

TEST_F(AlarmRunnerTest, QueuedRecordOfAnAlreadyNotifiedTransitionIsDiscarded) {
  create();
  set_down(true);
  feed(95, 3);
  const std::string queued = tests::read_file(dir_.file("notifications.jsonl"));
  ASSERT_FALSE(queued.empty());
  set_down(false);
  scheduler_.advance(3s);
  ASSERT_EQ(runner_->output().queued_count(), 0u);
  runner_.reset();
  // A crash after "notified" was saved but before the record left the queue.
  tests::write_file(dir_.file("notifications.jsonl"), queued);
  create();
  EXPECT_EQ(runner_->output().queued_count(), 0u);
  publisher_->requests.clear();
  scheduler_.advance(3s);
  EXPECT_TRUE(publisher_->requests.empty());
}

TEST_F(AlarmRunnerTest, AuditRecordsCountForMatchingAuditAlarms) {
  agent::AlarmConfig c;
  c.name = "logins";
  c.audit_filter = agent::AuditFilter{};
  c.audit_filter->record_types = {"USER_LOGIN"};
  c.statistic = "Sum";
  c.period = 2s;
  c.threshold = 2;
  agent::AlarmRunnerOptions o;  // no state_dir, no publisher: local only
  auto r = agent::AlarmRunner::create({c}, clock_, scheduler_, nullptr, nullptr, o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  (*r)->start();
  agent::TrailRecord rec;
  rec.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall_now().time_since_epoch()).count() + 100;
  rec.record_type = "USER_LOGIN";
  rec.record_types = {"USER_LOGIN"};
  EXPECT_EQ((*r)->add_audit_record(rec), 1u);
  EXPECT_EQ((*r)->add_audit_record(rec), 1u);
  rec.record_types = {"SYSCALL"};
  rec.record_type = "SYSCALL";
  EXPECT_EQ((*r)->add_audit_record(rec), 0u);
  scheduler_.advance(2100ms);
  EXPECT_EQ((*r)->evaluator().state("logins"), AlarmState::kAlarm);
}

}  // namespace
