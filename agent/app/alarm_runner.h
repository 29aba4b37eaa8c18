// AlarmRunner: the alarm evaluator in the running agent. It takes every metrics round (through
// AlarmMetricTap) and audit records, evaluates when a period closes (a Scheduler timer at
// next_evaluation_time()), logs each transition, persists the alarm state and hands notifications to
// SnsNotificationOutput (durable queue -> SNS, or the local sink without AWS).
//
// Files under state_dir:
//   alarms.json          AlarmEvaluator::serialize_state(), rewritten atomically (temp + fsync + rename
//                        + directory fsync) after every evaluation with transitions and every delivery
//   notifications.jsonl  the DurableQueue of notifications not yet accepted by SNS
//
// Order of writes, so a crash neither loses nor (normally) repeats a notification: the transition is
// saved in alarms.json before its notifications are queued; on delivery of a transition's last
// notification "notified" is saved before the record leaves the queue. At start: queued records of
// transitions already marked notified are discarded; unnotified transitions that are not queued
// (crash between the two writes) are queued again; the rest of the queue is resumed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/alarms/alarm_evaluator.h"
#include "agent/alarms/alarm_notification.h"
#include "agent/pipeline/durable_queue.h"
#include "agent/pipeline/metric_output.h"
#include "agent/pipeline/trail_record.h"
#include "agent/sinks/local_sink.h"
#include "agent/sinks/notification_output.h"
#include "agent/sinks/sns_publisher.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/result/result.h"

namespace agent {

inline constexpr std::string_view kAlarmStateFile = "alarms.json";
inline constexpr std::string_view kNotificationQueueFile = "notifications.jsonl";

struct AlarmRunnerOptions {
  std::string state_dir;   // where alarms.json / notifications.jsonl live; empty = nothing read or written
  bool persist = true;     // false (`trailwatch once`): read alarms.json, write nothing
  NotificationContext context;
  std::map<std::string, std::string> common_dimensions;  // instance dimensions + metrics.dimensions
  SnsNotificationOutput::Options delivery;
  // The first period evaluated is the one containing this time (default: now). The runtime passes
  // the second metrics tick (the first that surely yields samples): the period the agent (re)starts
  // in may have no samples, and evaluating it would flip a restored ALARM to INSUFFICIENT_DATA and
  // back after a restart.
  std::optional<common::WallTime> evaluate_from;
};

class AlarmRunner {
 public:
  // publisher: SNS; null = notifications go to `local` only (no queue). `local` may be null with a
  // publisher.
  static common::Result<std::unique_ptr<AlarmRunner>> create(std::vector<AlarmConfig> alarms,
                                                             const common::Clock& clock,
                                                             common::Scheduler& scheduler,
                                                             std::unique_ptr<SnsPublisher> publisher, LocalSink* local,
                                                             AlarmRunnerOptions options);
  ~AlarmRunner();
  AlarmRunner(const AlarmRunner&) = delete;
  AlarmRunner& operator=(const AlarmRunner&) = delete;

  void start();  // evaluation timer + delivery (re-callable after stop)
  void stop();   // no more evaluations or sends; the queue stays on disk

  // One metrics round (AlarmMetricTap calls it).
  void add_samples(std::span<const MetricSample> samples);

  // TODO(audit pipeline): call for every forwarded/assembled audit record; each audit alarm whose
  // audit_filter matches counts it once in the period of record.time_ms. Returns how many alarms
  // counted it.
  std::size_t add_audit_record(const TrailRecord& record);
  // Lower level: n events for one audit alarm at time t.
  common::Status add_audit_count(std::string_view alarm_name, common::WallTime t, double n = 1);

  // Evaluates every closed period now (the timer does this; public for `once` and tests).
  void evaluate_now();

  std::vector<AlarmStatus> status() const { return evaluator_.status(); }
  std::string status_line() const;  // "alarms: 2 (cpu-high ALARM, ...); notifications ..."
  std::string describe() const;
  const AlarmEvaluator& evaluator() const { return evaluator_; }
  const SnsNotificationOutput& output() const { return *output_; }

 private:
  AlarmRunner(const common::Clock& clock, common::Scheduler& scheduler, AlarmEvaluator evaluator,
              AlarmRunnerOptions options);
  void arm();
  void save_state();
  void enqueue(const AlarmTransition& t);
  void on_delivered(const std::string& alarm, std::uint64_t id);

  const common::Clock& clock_;
  common::Scheduler& scheduler_;
  AlarmEvaluator evaluator_;
  AlarmRunnerOptions options_;
  std::unique_ptr<SnsPublisher> publisher_;
  std::unique_ptr<DurableQueue> queue_;
  std::unique_ptr<SnsNotificationOutput> output_;
  common::TimerId timer_ = 0;
  std::uint64_t transitions_ = 0;
  std::uint64_t state_write_errors_ = 0;
};

// Hands every round to the real metric output and to the alarm runner.
class AlarmMetricTap final : public MetricOutput {
 public:
  AlarmMetricTap(MetricOutput& inner, AlarmRunner& runner) : inner_(inner), runner_(runner) {}
  void publish(std::span<const MetricSample> samples, common::WallTime now) override;
  void flush(std::function<void()> done) override { inner_.flush(std::move(done)); }
  std::string describe() const override { return inner_.describe(); }

 private:
  MetricOutput& inner_;
  AlarmRunner& runner_;
};


}  // namespace agent
