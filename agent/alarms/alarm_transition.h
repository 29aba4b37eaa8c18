// AlarmTransition: what the alarm evaluator hands to the notification side (SNS) when an alarm
// changes state, or re-notifies while it stays in ALARM. It carries everything the CloudWatch-style
// notification needs, so the renderer (alarm_notification.h) never looks at the evaluator.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/agent_config.h"
#include "common/clock/clock.h"

namespace agent {

enum class AlarmState { kOk, kAlarm, kInsufficientData };

// "OK", "ALARM", "INSUFFICIENT_DATA" (CloudWatch's StateValue spelling).
std::string_view to_string(AlarmState state);
std::optional<AlarmState> parse_alarm_state(std::string_view text);

// One datapoint the decision was based on. `value` is empty for a missing period that was filled in
// according to treat_missing_data (breaching / notBreaching).
struct EvaluatedDatapoint {
  common::WallTime timestamp{};  // start of the period
  std::optional<double> value;
  double sample_count = 0;
  bool breaching = false;
  bool operator==(const EvaluatedDatapoint&) const = default;
};

// The alarm's definition as CloudWatch shows it under "Trigger".
struct AlarmTrigger {
  std::string metric_name;   // the metric, or kAuditMetricName for audit alarms
  bool audit = false;        // counts audit events instead of reading MetricSamples
  std::string statistic;     // as configured: "Average", ..., "p99", "p99.9"
  std::map<std::string, std::string> dimensions;
  std::chrono::milliseconds period{60'000};
  int evaluation_periods = 1;
  int datapoints_to_alarm = 1;
  Comparison comparison = Comparison::kGreaterThanOrEqualToThreshold;
  double threshold = 0;
  TreatMissingData treat_missing_data = TreatMissingData::kMissing;
  bool operator==(const AlarmTrigger&) const = default;
};

// Metric name shown for audit alarms (they count matching audit events per period).
inline constexpr std::string_view kAuditMetricName = "AuditEventCount";

struct AlarmTransition {
  // Per alarm, 1, 2, 3, ... in emission order (repeats included). (alarm_name, id) identifies a
  // notification; the evaluator persists the last id delivered (mark_notified) across restarts.
  uint64_t id = 0;
  std::string alarm_name;
  std::string alarm_description;
  AlarmState old_state = AlarmState::kInsufficientData;
  AlarmState new_state = AlarmState::kInsufficientData;
  bool repeat = false;                      // a repeat_interval re-notification (old == new == ALARM)
  std::string reason;                       // CloudWatch's StateReason wording
  std::string reason_data;                  // JSON text, CloudWatch's StateReasonData shape
  common::WallTime state_change_time{};     // when the state changed (repeats keep the original)
  common::WallTime evaluation_time{};       // when this evaluation ran
  common::WallTime config_updated_time{};   // AlarmConfigurationUpdatedTimestamp
  std::vector<EvaluatedDatapoint> datapoints;  // newest first
  AlarmTrigger trigger;
  std::vector<std::string> actions;         // SNS topics for new_state: one of the three lists below
  std::vector<std::string> ok_actions;      // the alarm's configured lists, as the notification shows them
  std::vector<std::string> alarm_actions;
  std::vector<std::string> insufficient_data_actions;
  bool operator==(const AlarmTransition&) const = default;
};

}  // namespace agent
