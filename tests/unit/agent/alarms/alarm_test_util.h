// Helpers shared by the alarm tests: calendar times, alarm configs, samples, and forcing an
// alarm's state through the persistence API.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "agent/alarms/alarm_evaluator.h"
#include "agent/config/agent_config.h"
#include "agent/pipeline/metric_sample.h"
#include "common/clock/clock.h"

namespace tests {

using namespace std::chrono_literals;

// UTC calendar time.
inline common::WallTime utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int ms = 0) {
  using namespace std::chrono;
  const sys_days date = year{y} / month{mo} / std::chrono::day{d};
  return common::WallTime(duration_cast<common::WallTime::duration>(date.time_since_epoch() + hours{h} + minutes{mi} +
                                                                    seconds{s} + milliseconds{ms}));
}

inline agent::AlarmConfig metric_alarm(std::string name, std::string metric, double threshold,
                                       agent::Comparison comparison = agent::Comparison::kGreaterThanOrEqualToThreshold) {
  agent::AlarmConfig c;
  c.name = std::move(name);
  c.metric = std::move(metric);
  c.threshold = threshold;
  c.comparison = comparison;
  return c;
}

inline agent::AlarmConfig audit_alarm(std::string name, double threshold) {
  agent::AlarmConfig c;
  c.name = std::move(name);
  c.audit_filter = agent::AuditFilter{{"USER_AUTH"}, {}, {}, {"failure"}};
  c.statistic = "Sum";
  c.threshold = threshold;
  return c;
}

inline agent::MetricSample sample(std::string_view name, double value, common::WallTime t) {
  agent::MetricSample s;
  s.name = name;
  s.value = value;
  s.time = t;
  return s;
}

// Puts `alarm_name` into `state` via restore_state (the only way in besides evaluation).
inline void force_state(agent::AlarmEvaluator& e, std::string_view alarm_name, agent::AlarmState state) {
  const std::string json = std::string(R"({"version":1,"alarms":[{"name":")") + std::string(alarm_name) +
                           R"(","state":")" + std::string(agent::to_string(state)) +
                           R"(","reason":"forced by test","state_change_time_ms":0,"last_alarm_notification_ms":0,)"
                           R"("last_transition_id":0,"last_notified_id":0}]})";
  const common::Status st = e.restore_state(json);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
}

}  // namespace tests
