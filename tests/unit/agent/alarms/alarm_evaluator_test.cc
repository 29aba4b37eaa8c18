// AlarmEvaluator: statistics, period alignment, dimension matching, audit counts, repeat
// notifications, reason text, config checks and state persistence.
#include "agent/alarms/alarm_evaluator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/alarms/alarm_statistics.h"
#include "tests/unit/agent/alarms/alarm_test_util.h"

namespace tests {
namespace {

using agent::AlarmState;
using agent::Statistic;

// ---- statistics ---------------------------------------------------------------------------------

TEST(AlarmStatistics, ParsesTheConfigSpellings) {
  EXPECT_EQ(agent::parse_statistic("Average")->kind, Statistic::Kind::kAverage);
  EXPECT_EQ(agent::parse_statistic("SampleCount")->kind, Statistic::Kind::kSampleCount);
  auto p = agent::parse_statistic("p99.9");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, Statistic::Kind::kPercentile);
  EXPECT_DOUBLE_EQ(p->percentile, 99.9);
  EXPECT_DOUBLE_EQ(agent::parse_statistic("p5")->percentile, 5);
  EXPECT_DOUBLE_EQ(agent::parse_statistic("p99.99")->percentile, 99.99);
  for (const char* bad : {"average", "p", "p0", "p100", "p99.", "p99.999", "p-1", "p1e1", "Avg", ""}) {
    EXPECT_FALSE(agent::parse_statistic(bad).ok()) << bad;
  }
}

TEST(AlarmStatistics, EveryStatisticOfOnePeriod) {
  agent::PeriodAccumulator acc(true);
  for (double v : {4.0, 1.0, 7.0, 2.0}) acc.add(v);
  EXPECT_DOUBLE_EQ(acc.value({Statistic::Kind::kAverage, 0}), 3.5);
  EXPECT_DOUBLE_EQ(acc.value({Statistic::Kind::kMinimum, 0}), 1);
  EXPECT_DOUBLE_EQ(acc.value({Statistic::Kind::kMaximum, 0}), 7);
  EXPECT_DOUBLE_EQ(acc.value({Statistic::Kind::kSum, 0}), 14);
  EXPECT_DOUBLE_EQ(acc.value({Statistic::Kind::kSampleCount, 0}), 4);
  EXPECT_DOUBLE_EQ(acc.value({Statistic::Kind::kPercentile, 50}), 2);  // rank ceil(2) = 2 of {1,2,4,7}
  EXPECT_DOUBLE_EQ(acc.value({Statistic::Kind::kPercentile, 51}), 4);  // rank ceil(2.04) = 3
}

TEST(AlarmStatistics, NearestRankPercentile) {
  // The classic nearest-rank example: {15, 20, 35, 40, 50}.
  const std::vector<double> v = {50, 15, 40, 20, 35};
  EXPECT_EQ(agent::nearest_rank_percentile(v, 5), 15);   // rank ceil(0.25) = 1
  EXPECT_EQ(agent::nearest_rank_percentile(v, 30), 20);  // rank ceil(1.5) = 2
  EXPECT_EQ(agent::nearest_rank_percentile(v, 40), 20);  // rank 2
  EXPECT_EQ(agent::nearest_rank_percentile(v, 50), 35);  // rank ceil(2.5) = 3
  EXPECT_EQ(agent::nearest_rank_percentile(v, 99.99), 50);
  std::vector<double> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  EXPECT_EQ(agent::nearest_rank_percentile(hundred, 90), 90);
  EXPECT_EQ(agent::nearest_rank_percentile(hundred, 99.5), 100);
  EXPECT_EQ(agent::nearest_rank_percentile(hundred, 0.5), 1);
  EXPECT_EQ(agent::nearest_rank_percentile({42}, 1), 42);
  std::vector<double> thousand;
  for (int i = 1; i <= 1000; ++i) thousand.push_back(i);
  EXPECT_EQ(agent::nearest_rank_percentile(thousand, 99.9), 999);
  EXPECT_EQ(agent::nearest_rank_percentile(thousand, 99.99), 1000);
}

TEST(AlarmStatistics, PercentileAlarmUsesThePeriodsValues) {
  const common::WallTime t0 = utc(2022, 8, 26, 3, 45);
  for (const auto& [statistic, expected_state] :
       std::vector<std::pair<std::string, AlarmState>>{{"p90", AlarmState::kAlarm}, {"p80", AlarmState::kOk},
                                                       {"Average", AlarmState::kOk}, {"Maximum", AlarmState::kAlarm},
                                                       {"Sum", AlarmState::kAlarm}, {"SampleCount", AlarmState::kAlarm},
                                                       {"Minimum", AlarmState::kOk}}) {
    agent::AlarmConfig c = metric_alarm("a", "latency", 9);
    c.statistic = statistic;
    auto e = agent::AlarmEvaluator::create({c}, {}, t0);
    ASSERT_TRUE(e.ok());
    for (int i = 1; i <= 10; ++i) e->add_sample(sample("latency", i, t0 + std::chrono::seconds(i)));
    const auto t = e->on_period_end(t0 + 60s);
    ASSERT_EQ(t.size(), 1u) << statistic;
    EXPECT_EQ(t[0].new_state, expected_state) << statistic;
    ASSERT_EQ(t[0].datapoints.size(), 1u);
    EXPECT_EQ(t[0].datapoints[0].sample_count, 10);
  }
}

// ---- formats ------------------------------------------------------------------------------------

TEST(AlarmFormats, NumbersLikeCloudWatch) {
  EXPECT_EQ(agent::format_cloudwatch_number(94.1), "94.1");
  EXPECT_EQ(agent::format_cloudwatch_number(90), "90.0");
  EXPECT_EQ(agent::format_cloudwatch_number(0), "0.0");
  EXPECT_EQ(agent::format_cloudwatch_number(-2.5), "-2.5");
  EXPECT_EQ(agent::format_cloudwatch_number(0.001), "0.001");
  EXPECT_EQ(agent::format_cloudwatch_number(0.0001), "1.0E-4");
  EXPECT_EQ(agent::format_cloudwatch_number(1.5e7), "1.5E7");
  EXPECT_EQ(agent::format_cloudwatch_number(1234567.0), "1234567.0");
  EXPECT_EQ(agent::format_cloudwatch_number(1.0 / 3), "0.3333333333333333");
}

TEST(AlarmFormats, Times) {
  const common::WallTime t = utc(2022, 8, 26, 3, 46, 29, 897);
  EXPECT_EQ(agent::format_alarm_time(t), "2022-08-26T03:46:29.897+0000");
  EXPECT_EQ(agent::format_reason_time(t), "26/08/22 03:46:29");
  EXPECT_EQ(agent::format_alarm_time(utc(1970, 1, 1)), "1970-01-01T00:00:00.000+0000");
}

// ---- periods ------------------------------------------------------------------------------------

TEST(AlarmPeriods, AlignedToWallClockMultiples) {
  const auto minute = std::chrono::milliseconds(60'000);
  const auto five = std::chrono::milliseconds(300'000);
  const common::WallTime t = utc(2022, 8, 26, 3, 47, 59, 999);
  EXPECT_EQ(agent::period_start(agent::period_index(t, minute), minute), utc(2022, 8, 26, 3, 47));
  EXPECT_EQ(agent::period_start(agent::period_index(t, five), five), utc(2022, 8, 26, 3, 45));
  EXPECT_EQ(agent::period_index(t + 1ms, minute), agent::period_index(t, minute) + 1);
  // Before the epoch: floor, not truncation.
  EXPECT_EQ(agent::period_index(common::WallTime(-1ms), minute), -1);
  EXPECT_EQ(agent::period_start(-1, minute), common::WallTime(-60s));
}

TEST(AlarmPeriods, EvaluatesWhenThePeriodCloses) {
  agent::AlarmConfig c = metric_alarm("a", "m", 90);
  c.period = 5min;
  const common::WallTime start = utc(2022, 8, 26, 3, 42, 10);  // inside the 03:40 period
  auto e = agent::AlarmEvaluator::create({c}, {}, start);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->next_evaluation_time(), utc(2022, 8, 26, 3, 45));
  e->add_sample(sample("m", 95, utc(2022, 8, 26, 3, 44, 59)));
  e->add_sample(sample("m", 10, utc(2022, 8, 26, 3, 45, 0)));  // next period
  EXPECT_TRUE(e->on_period_end(utc(2022, 8, 26, 3, 44, 59, 999)).empty());
  const auto t = e->on_period_end(utc(2022, 8, 26, 3, 45));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm);
  ASSERT_EQ(t[0].datapoints.size(), 1u);
  EXPECT_EQ(t[0].datapoints[0].timestamp, utc(2022, 8, 26, 3, 40));
  EXPECT_EQ(t[0].datapoints[0].value, 95);
  EXPECT_EQ(e->next_evaluation_time(), utc(2022, 8, 26, 3, 50));
  EXPECT_TRUE(e->on_period_end(utc(2022, 8, 26, 3, 49)).empty()) << "nothing new closed";
  const auto ok = e->on_period_end(utc(2022, 8, 26, 3, 50));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].new_state, AlarmState::kOk);
}

TEST(AlarmPeriods, CatchesUpPeriodByPeriodAfterAGap) {
  agent::AlarmConfig c = metric_alarm("a", "m", 90);
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  e->add_sample(sample("m", 95, t0 + 10s));
  e->add_sample(sample("m", 10, t0 + 70s));
  e->add_sample(sample("m", 99, t0 + 130s));
  const auto t = e->on_period_end(t0 + 3min + 5s);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm);
  EXPECT_EQ(t[0].state_change_time, t0 + 1min);
  EXPECT_EQ(t[1].new_state, AlarmState::kOk);
  EXPECT_EQ(t[2].new_state, AlarmState::kAlarm);
  EXPECT_EQ(t[2].state_change_time, t0 + 3min + 5s) << "the newest evaluation happens at `now`";
  EXPECT_EQ(t[0].id, 1u);
  EXPECT_EQ(t[2].id, 3u);
}

TEST(AlarmPeriods, CatchUpIsLimitedToTheEvaluationRange) {
  agent::AlarmConfig c = metric_alarm("a", "m", 90);  // N = 1: range of 3 periods
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  e->add_sample(sample("m", 95, t0 + 10s));   // 03:00, too old to be evaluated at 03:10
  e->add_sample(sample("m", 95, t0 + 490s));  // 03:08, inside the last three periods
  const auto t = e->on_period_end(t0 + 10min);
  // Only 03:07..03:09 are evaluated: 03:07 (nothing in range) keeps INSUFFICIENT_DATA, 03:08
  // alarms, and 03:09 re-evaluates the 03:08 datapoint (the newest real one in its range), so
  // the 03:00 datapoint never produced a transition of its own.
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm);
  EXPECT_EQ(t[0].evaluation_time, t0 + 9min);
  ASSERT_EQ(t[0].datapoints.size(), 1u);
  EXPECT_EQ(t[0].datapoints[0].timestamp, t0 + 8min);
}

TEST(AlarmPeriods, LateSamplesCountUntilTheyLeaveTheEvaluationRange) {
  agent::AlarmConfig c = metric_alarm("a", "m", 90);
  c.evaluation_periods = 2;
  c.datapoints_to_alarm = 2;
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->on_period_end(t0 + 2min).empty());  // nothing yet: stays INSUFFICIENT_DATA
  e->add_sample(sample("m", 95, t0 + 10s));           // late, for the 03:00 period
  e->add_sample(sample("m", 96, t0 + 130s));          // 03:02
  const auto t = e->on_period_end(t0 + 3min);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm) << "two real breaching datapoints in the range";
  EXPECT_EQ(e->dropped_samples(), 0u);
  e->add_sample(sample("m", 1, t0 - 10min));  // long gone
  EXPECT_EQ(e->dropped_samples(), 1u);
}

// ---- dimensions ---------------------------------------------------------------------------------

TEST(AlarmDimensions, EveryAlarmDimensionMustMatch) {
  agent::AlarmConfig c = metric_alarm("cpu0-high", "cpu_usage_active", 90);
  c.dimensions = {{"cpu", "cpu0"}, {"InstanceId", "i-0123456789abcdef0"}};
  agent::AlarmEvaluatorOptions options;
  options.common_dimensions = {{"InstanceId", "i-0123456789abcdef0"}};
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);

  struct Case {
    const char* what;
    std::vector<agent::Dimension> dims;
    bool counted;
  };
  const std::vector<Case> cases = {
      {"matching cpu, InstanceId from the host", {{"cpu", "cpu0"}}, true},
      {"other cpu", {{"cpu", "cpu1"}}, false},
      {"no dimensions", {}, false},
      {"extra dimensions are fine", {{"cpu", "cpu0"}, {"mode", "user"}}, true},
      {"sample's own InstanceId wins over the host's", {{"cpu", "cpu0"}, {"InstanceId", "i-other"}}, false},
  };
  for (const Case& k : cases) {
    auto e = agent::AlarmEvaluator::create({c}, options, t0);
    ASSERT_TRUE(e.ok());
    agent::MetricSample s = sample("cpu_usage_active", 99, t0 + 1s);
    for (const auto& d : k.dims) s.dims[s.dim_count++] = d;
    e->add_sample(s);
    e->add_sample(sample("mem_used_percent", 99, t0 + 1s));  // other metric: never counted
    const auto t = e->on_period_end(t0 + 1min);
    EXPECT_EQ(e->state("cpu0-high"), k.counted ? AlarmState::kAlarm : AlarmState::kInsufficientData) << k.what;
    EXPECT_EQ(t.size(), k.counted ? 1u : 0u) << k.what;
  }
}

TEST(AlarmDimensions, HostDimensionMissingFromOptionsDoesNotMatch) {
  agent::AlarmConfig c = metric_alarm("a", "m", 1);
  c.dimensions = {{"InstanceId", "i-1"}};
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  e->add_sample(sample("m", 5, t0));
  e->on_period_end(t0 + 1min);
  EXPECT_EQ(e->state("a"), AlarmState::kInsufficientData);
}

// ---- audit alarms -------------------------------------------------------------------------------

TEST(AuditAlarms, ThreeFailedLoginsInFiveMinutes) {
  agent::AlarmConfig c = audit_alarm("failed-logins", 3);
  c.period = 5min;
  c.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:security"};
  c.ok_actions = {"arn:aws:sns:us-east-1:123456789012:security-ok"};
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0 + 10s);
  ASSERT_TRUE(e.ok());

  // 03:00-03:05: two failures: below the threshold -> OK.
  ASSERT_TRUE(e->add_count("failed-logins", t0 + 1min).ok());
  ASSERT_TRUE(e->add_count("failed-logins", t0 + 2min).ok());
  auto t = e->on_period_end(t0 + 5min);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kOk);
  EXPECT_EQ(t[0].datapoints.at(0).value, 2);
  EXPECT_EQ(t[0].trigger.metric_name, agent::kAuditMetricName);
  EXPECT_TRUE(t[0].trigger.audit);
  EXPECT_EQ(t[0].actions, c.ok_actions);

  // 03:05-03:10: three failures (one batch of two) -> ALARM.
  ASSERT_TRUE(e->add_count("failed-logins", t0 + 6min).ok());
  ASSERT_TRUE(e->add_count("failed-logins", t0 + 9min, 2).ok());
  t = e->on_period_end(t0 + 10min);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kAlarm);
  EXPECT_EQ(t[0].datapoints.at(0).value, 3);
  EXPECT_EQ(t[0].actions, c.alarm_actions);

  // 03:10-03:15: no events at all is a datapoint of 0, not missing -> OK (not INSUFFICIENT_DATA).
  t = e->on_period_end(t0 + 15min);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kOk);
  ASSERT_EQ(t[0].datapoints.size(), 1u);
  EXPECT_EQ(t[0].datapoints[0].value, 0);
  EXPECT_EQ(t[0].datapoints[0].timestamp, t0 + 10min);
}

TEST(AuditAlarms, QuietStartIsOkNotInsufficientData) {
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({audit_alarm("a", 3)}, {}, t0 + 30s);
  ASSERT_TRUE(e.ok());
  const auto t = e->on_period_end(t0 + 1min);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, AlarmState::kOk);
}

TEST(AuditAlarms, CountsOnlyForAuditAlarms) {
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({audit_alarm("a", 3), metric_alarm("m", "cpu", 1)}, {}, t0);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->add_count("nope", t0).error().code(), common::ErrorCode::kNotFound);
  EXPECT_EQ(e->add_count("m", t0).error().code(), common::ErrorCode::kInvalidArgument);
}

// ---- repeat_interval ----------------------------------------------------------------------------

TEST(AlarmRepeat, RenotifiesWhileInAlarm) {
  agent::AlarmConfig c = metric_alarm("a", "m", 90);
  c.repeat_interval = 3min;
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  std::vector<agent::AlarmTransition> all;
  for (int i = 0; i < 8; ++i) {
    e->add_sample(sample("m", i < 7 ? 95 : 10, t0 + 1min * i + 1s));
    for (auto& t : e->on_period_end(t0 + 1min * (i + 1))) all.push_back(std::move(t));
  }
  // ALARM at 03:01, repeats at 03:04 and 03:07, OK at 03:08.
  ASSERT_EQ(all.size(), 4u);
  EXPECT_FALSE(all[0].repeat);
  EXPECT_EQ(all[0].new_state, AlarmState::kAlarm);
  for (int k : {1, 2}) {
    EXPECT_TRUE(all[k].repeat);
    EXPECT_EQ(all[k].old_state, AlarmState::kAlarm);
    EXPECT_EQ(all[k].new_state, AlarmState::kAlarm);
    EXPECT_EQ(all[k].state_change_time, t0 + 1min) << "a repeat keeps the original change time";
    EXPECT_EQ(all[k].evaluation_time, t0 + 1min + 3min * k);
    EXPECT_EQ(all[k].actions, c.alarm_actions);
  }
  EXPECT_FALSE(all[3].repeat);
  EXPECT_EQ(all[3].new_state, AlarmState::kOk);
  for (size_t k = 0; k < all.size(); ++k) EXPECT_EQ(all[k].id, k + 1);
}

TEST(AlarmRepeat, ZeroMeansTransitionsOnly) {
  agent::AlarmConfig c = metric_alarm("a", "m", 90);
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  size_t count = 0;
  for (int i = 0; i < 10; ++i) {
    e->add_sample(sample("m", 95, t0 + 1min * i));
    count += e->on_period_end(t0 + 1min * (i + 1)).size();
  }
  EXPECT_EQ(count, 1u);
}

// ---- reason text --------------------------------------------------------------------------------

TEST(AlarmReason, SpecExampleWording) {
  agent::AlarmConfig c = metric_alarm("cpu-high", "CPUUtilization", 90);
  const common::WallTime t0 = utc(2022, 8, 26, 3, 45);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  force_state(*e, "cpu-high", AlarmState::kOk);
  e->add_sample(sample("CPUUtilization", 94.1, t0 + 20s));
  const auto t = e->on_period_end(utc(2022, 8, 26, 3, 46, 29, 897));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].reason,
            "Threshold Crossed: 1 out of the last 1 datapoints [94.1 (26/08/22 03:45:00)] was greater than or equal "
            "to the threshold (90.0) (minimum 1 datapoint for OK -> ALARM transition).");
  const auto data = nlohmann::json::parse(t[0].reason_data);
  EXPECT_EQ(data["version"], "1.0");
  EXPECT_EQ(data["queryDate"], "2022-08-26T03:46:29.897+0000");
  EXPECT_EQ(data["startDate"], "2022-08-26T03:45:00.000+0000");
  EXPECT_EQ(data["statistic"], "Average");
  EXPECT_EQ(data["period"], 60);
  EXPECT_EQ(data["recentDatapoints"], nlohmann::json::array({94.1}));
  EXPECT_EQ(data["threshold"], 90.0);
  ASSERT_EQ(data["evaluatedDatapoints"].size(), 1u);
  EXPECT_EQ(data["evaluatedDatapoints"][0]["timestamp"], "2022-08-26T03:45:00.000+0000");
  EXPECT_EQ(data["evaluatedDatapoints"][0]["sampleCount"], 1.0);
  EXPECT_EQ(data["evaluatedDatapoints"][0]["value"], 94.1);
}

TEST(AlarmReason, MOutOfNOkAndAlarmWording) {
  agent::AlarmConfig c = metric_alarm("a", "m", 80, agent::Comparison::kGreaterThanThreshold);
  c.evaluation_periods = 3;
  c.datapoints_to_alarm = 2;
  c.statistic = "Maximum";
  const common::WallTime t0 = utc(2021, 6, 12, 10, 30);
  auto e = agent::AlarmEvaluator::create({c}, {}, t0);
  ASSERT_TRUE(e.ok());
  force_state(*e, "a", AlarmState::kOk);
  e->add_sample(sample("m", 84.5, t0));
  e->add_sample(sample("m", 12, t0 + 1min));
  e->add_sample(sample("m", 86.25, t0 + 2min));
  auto t = e->on_period_end(t0 + 3min);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back().new_state, AlarmState::kAlarm);
  EXPECT_EQ(t.back().reason,
            "Threshold Crossed: 2 out of the last 3 datapoints [86.25 (12/06/21 10:32:00), 84.5 (12/06/21 10:30:00)] "
            "were greater than the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition).");
  e->add_sample(sample("m", 3, t0 + 3min));
  e->add_sample(sample("m", 4, t0 + 4min));
  t = e->on_period_end(t0 + 5min);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back().new_state, AlarmState::kOk);
  EXPECT_EQ(t.back().reason,
            "Threshold Crossed: 2 out of the last 3 datapoints [3.0 (12/06/21 10:33:00), 12.0 (12/06/21 10:31:00)] "
            "were not greater than the threshold (80.0) (minimum 2 datapoints for ALARM -> OK transition).");
}

TEST(AlarmReason, MissingDataWording) {
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  struct Case {
    agent::TreatMissingData tmd;
    AlarmState from;
    const char* reason;
  };
  for (const Case& k : std::vector<Case>{
           {agent::TreatMissingData::kMissing, AlarmState::kOk, "Insufficient Data: 3 datapoints were unknown."},
           {agent::TreatMissingData::kBreaching, AlarmState::kOk,
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as "
            "[Breaching]."},
           {agent::TreatMissingData::kNotBreaching, AlarmState::kAlarm,
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as "
            "[NonBreaching]."},
       }) {
    agent::AlarmConfig c = metric_alarm("a", "m", 1);
    c.evaluation_periods = 3;
    c.datapoints_to_alarm = 3;
    c.treat_missing_data = k.tmd;
    auto e = agent::AlarmEvaluator::create({c}, {}, t0);
    ASSERT_TRUE(e.ok());
    force_state(*e, "a", k.from);
    const auto t = e->on_period_end(t0 + 1min);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].reason, k.reason);
    EXPECT_EQ(t[0].datapoints.size(), 3u) << "the filled-in datapoints are reported";
    for (const auto& d : t[0].datapoints) EXPECT_FALSE(d.value.has_value());
  }
}

// ---- configuration checks -----------------------------------------------------------------------

TEST(AlarmEvaluatorCreate, RejectsWhatCannotBeEvaluated) {
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto good = metric_alarm("a", "m", 1);
  EXPECT_TRUE(agent::AlarmEvaluator::create({good}, {}, t0).ok());
  EXPECT_FALSE(agent::AlarmEvaluator::create({good, good}, {}, t0).ok()) << "duplicate name";
  auto bad_stat = good;
  bad_stat.statistic = "Median";
  EXPECT_FALSE(agent::AlarmEvaluator::create({bad_stat}, {}, t0).ok());
  auto m_gt_n = good;
  m_gt_n.datapoints_to_alarm = 2;
  EXPECT_FALSE(agent::AlarmEvaluator::create({m_gt_n}, {}, t0).ok());
  auto both = good;
  both.audit_filter = agent::AuditFilter{};
  EXPECT_FALSE(agent::AlarmEvaluator::create({both}, {}, t0).ok());
  auto neither = good;
  neither.metric.clear();
  EXPECT_FALSE(agent::AlarmEvaluator::create({neither}, {}, t0).ok());
  auto zero_period = good;
  zero_period.period = std::chrono::milliseconds(0);
  EXPECT_FALSE(agent::AlarmEvaluator::create({zero_period}, {}, t0).ok());
}

TEST(AlarmEvaluatorCreate, StartsInInsufficientData) {
  auto e = agent::AlarmEvaluator::create({metric_alarm("a", "m", 1)}, {}, utc(2022, 8, 26));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->state("a"), AlarmState::kInsufficientData);
  EXPECT_EQ(e->state("b"), std::nullopt);
  ASSERT_EQ(e->status().size(), 1u);
  EXPECT_EQ(e->status()[0].last_transition_id, 0u);
}

// ---- persistence --------------------------------------------------------------------------------

TEST(AlarmPersistence, RoundTripDoesNotResendDeliveredTransitions) {
  agent::AlarmConfig c = metric_alarm("cpu-high", "cpu", 90);
  c.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:a"};
  agent::AlarmConfig quiet = metric_alarm("quiet", "other", 1);
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto a = agent::AlarmEvaluator::create({c, quiet}, {}, t0);
  ASSERT_TRUE(a.ok());
  a->add_sample(sample("cpu", 95, t0 + 5s));
  const auto sent = a->on_period_end(t0 + 1min);
  ASSERT_EQ(sent.size(), 1u);

  // Crash before delivery: the restored evaluator still has the transition to deliver.
  const std::string before_delivery = a->serialize_state();
  auto b = agent::AlarmEvaluator::create({c, quiet}, {}, t0 + 10min);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->restore_state(before_delivery).ok());
  EXPECT_EQ(b->state("cpu-high"), AlarmState::kAlarm);
  EXPECT_EQ(b->state("quiet"), AlarmState::kInsufficientData);
  auto pending = b->unnotified();
  ASSERT_EQ(pending.size(), 1u);
  agent::AlarmTransition expected = sent[0];
  expected.config_updated_time = t0 + 10min;  // the new process's configuration time
  EXPECT_EQ(pending[0], expected);

  // Delivered: after the next restart nothing is pending, and staying in ALARM sends nothing.
  ASSERT_TRUE(b->mark_notified("cpu-high", pending[0].id).ok());
  EXPECT_TRUE(b->unnotified().empty());
  auto c2 = agent::AlarmEvaluator::create({c, quiet}, {}, t0 + 20min);
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE(c2->restore_state(b->serialize_state()).ok());
  EXPECT_TRUE(c2->unnotified().empty());
  c2->add_sample(sample("cpu", 97, t0 + 20min + 1s));
  EXPECT_TRUE(c2->on_period_end(t0 + 21min).empty());
  ASSERT_EQ(c2->status()[0].last_transition_id, 1u);
  EXPECT_EQ(c2->status()[0].last_notified_id, 1u);
  EXPECT_EQ(c2->status()[0].state_change_time, t0 + 1min);

  // The next transition continues the id sequence.
  c2->add_sample(sample("cpu", 5, t0 + 21min + 1s));
  const auto next = c2->on_period_end(t0 + 22min);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].id, 2u);
}

TEST(AlarmPersistence, BadStateChangesNothing) {
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({metric_alarm("a", "m", 1)}, {}, t0);
  ASSERT_TRUE(e.ok());
  force_state(*e, "a", AlarmState::kAlarm);
  const std::string good = e->serialize_state();
  for (const char* bad : {
           "not json",
           R"({"version":2,"alarms":[]})",
           R"({"version":1})",
           R"({"version":1,"alarms":[{"name":"a","state":"SORT_OF","reason":"","state_change_time_ms":0,)"
           R"("last_alarm_notification_ms":0,"last_transition_id":0,"last_notified_id":0}]})",
           R"({"version":1,"alarms":[{"name":"a","state":"OK","reason":"","state_change_time_ms":0,)"
           R"("last_alarm_notification_ms":0,"last_transition_id":1,"last_notified_id":2}]})",
           R"({"version":1,"alarms":[{"name":"a","state":"OK"}]})",
       }) {
    const common::Status st = e->restore_state(bad);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_EQ(e->state("a"), AlarmState::kAlarm) << bad;
  }
  EXPECT_EQ(e->serialize_state(), good);
  // Alarms no longer configured are ignored.
  EXPECT_TRUE(e->restore_state(R"({"version":1,"alarms":[{"name":"gone"}]})").ok());
}

TEST(AlarmPersistence, MarkNotifiedChecksItsArguments) {
  auto e = agent::AlarmEvaluator::create({metric_alarm("a", "m", 1)}, {}, utc(2022, 8, 26));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->mark_notified("b", 1).error().code(), common::ErrorCode::kNotFound);
  EXPECT_EQ(e->mark_notified("a", 1).error().code(), common::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace tests
