// AlarmEvaluator: local alarms with CloudWatch's metric-alarm semantics. Pure: no clock, no I/O;
// the caller feeds samples / audit counts and tells it the time.
//
//   auto evaluator = agent::AlarmEvaluator::create(config.alarms, {}, clock.wall_now());
//   evaluator->add_samples(samples);                       // from the metrics pipeline
//   evaluator->add_count("failed-logins", event_time, 1);  // from the audit pipeline
//   for (auto& t : evaluator->on_period_end(clock.wall_now())) outbox.push(render(t));
//   ...after SNS accepted it: evaluator->mark_notified(t.alarm_name, t.id);
//   state_file.write(evaluator->serialize_state());
//
// What is reproduced, and where we chose, is written down in docs/alarms.md. In short:
//  * periods align to wall-clock multiples of `period`; each closed period is one datapoint;
//  * every alarm starts in INSUFFICIENT_DATA; M out of N ("datapoints_to_alarm" of
//    "evaluation_periods") breaching datapoints -> ALARM, fewer -> OK;
//  * CloudWatch's "evaluation range": each evaluation looks at the last N + 2 periods
//    (kEvaluationRangeExtraPeriods). With >= N real datapoints in the range the newest N real
//    ones decide and treat_missing_data is not used. With fewer, all real ones are used and
//    breaching / notBreaching fill up to N; missing / ignore evaluate the real ones only: M
//    breaching -> ALARM, any non-breaching -> OK, else (all breaching, fewer than M) ALARM when
//    the oldest is at least M periods old and INSUFFICIENT_DATA otherwise -- ignore keeps the
//    state instead of those two. With no real datapoint at all: missing -> INSUFFICIENT_DATA,
//    ignore -> keep state, breaching -> ALARM, notBreaching -> OK;
//  * audit alarms: a period without events is a datapoint of 0 (from the period the evaluator
//    started in onwards), not missing;
//  * transitions only on state change, plus `repeat` re-notifications every repeat_interval while
//    the alarm stays in ALARM.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/alarms/alarm_statistics.h"
#include "agent/alarms/alarm_transition.h"
#include "agent/config/agent_config.h"
#include "agent/pipeline/metric_sample.h"
#include "common/clock/clock.h"
#include "common/result/result.h"

namespace agent {

// CloudWatch retrieves more datapoints than evaluation_periods ("evaluation range") when some are
// missing; AWS documents the range only by example (5 for evaluation_periods 3). We use N + 2.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
inline constexpr int kEvaluationRangeExtraPeriods = 2;

struct AlarmEvaluatorOptions {
  // Dimensions every sample is taken to carry besides its own: the host-wide ones the CloudWatch
  // sink adds (metrics.dimensions, InstanceId, ...), so an alarm may name them.
  std::map<std::string, std::string> common_dimensions;
  // AlarmConfigurationUpdatedTimestamp for every alarm; default: the evaluator's start time.
  std::optional<common::WallTime> config_updated_time;
};

// A snapshot of one alarm, for status output and tests.
struct AlarmStatus {
  std::string name;
  AlarmState state = AlarmState::kInsufficientData;
  std::string reason;
  common::WallTime state_change_time{};
  uint64_t last_transition_id = 0;
  uint64_t last_notified_id = 0;
};

class AlarmEvaluator {
 public:
  // Checks what the config loader cannot know was checked (statistic spelling, M <= N, unique
  // names, exactly one of metric / audit_filter); alarms start in INSUFFICIENT_DATA at `start`.
  static common::Result<AlarmEvaluator> create(std::vector<AlarmConfig> alarms, AlarmEvaluatorOptions options,
                                               common::WallTime start);

  // Metric samples: each goes to every metric alarm whose metric name equals the sample's and
  // whose dimensions are all present on the sample (or in common_dimensions) with equal values.
  // Samples for periods already evaluated are still counted while they are within the evaluation
  // range of later evaluations; older ones are dropped and counted.
  void add_sample(const MetricSample& sample);
  void add_samples(std::span<const MetricSample> samples);

  // Audit alarms: `n` matching events at time `t` (the datapoint of a period is the alarm's
  // statistic over these counts; use Sum to count events). kNotFound for an unknown alarm name,
  // kInvalidArgument for a metric alarm.
  common::Status add_count(std::string_view alarm_name, common::WallTime t, double n = 1);

  // Evaluates every period that has closed by `now` (period end <= now) and was not evaluated
  // yet, oldest first, at most evaluation_periods + kEvaluationRangeExtraPeriods periods back. Returns the transitions (and repeat
  // notifications) in order; empty when nothing changed.
  std::vector<AlarmTransition> on_period_end(common::WallTime now);

  // The earliest time at which on_period_end has a period to evaluate.
  common::WallTime next_evaluation_time() const;

  // Delivery bookkeeping: the notification (alarm_name, transition_id) was accepted downstream.
  common::Status mark_notified(std::string_view alarm_name, uint64_t transition_id);
  // Per alarm, its latest transition if it was not marked notified (after restore_state: what a
  // crash kept from being delivered). Older undelivered transitions are superseded and not kept.
  std::vector<AlarmTransition> unnotified() const;

  // Every alarm's state, reason, last transition time, last transition / notified ids and the
  // last transition itself, as JSON. restore_state takes it back: alarms are matched by name
  // (unknown names are ignored, alarms missing from the text keep INSUFFICIENT_DATA); on any
  // error nothing is changed.
  std::string serialize_state() const;
  common::Status restore_state(std::string_view json);

  std::optional<AlarmState> state(std::string_view alarm_name) const;
  std::vector<AlarmStatus> status() const;
  const std::vector<AlarmConfig>& configs() const { return configs_; }
  uint64_t dropped_samples() const { return dropped_samples_; }

 private:
  struct Alarm;
  AlarmEvaluator();

  Alarm* find(std::string_view name);
  const Alarm* find(std::string_view name) const;
  void add_value(Alarm& alarm, common::WallTime t, double value);
  void evaluate(Alarm& alarm, int64_t newest_period, common::WallTime eval_time, std::vector<AlarmTransition>& out);

  std::vector<AlarmConfig> configs_;
  std::vector<Alarm> alarms_;  // same order as configs_
  std::map<std::string, std::vector<size_t>, std::less<>> by_metric_;
  AlarmEvaluatorOptions options_;
  common::WallTime start_{};
  uint64_t dropped_samples_ = 0;

 public:
  // Out of line so Alarm can stay an incomplete type here.
  AlarmEvaluator(AlarmEvaluator&&) noexcept;
  AlarmEvaluator& operator=(AlarmEvaluator&&) noexcept;
  ~AlarmEvaluator();
};

}  // namespace agent
