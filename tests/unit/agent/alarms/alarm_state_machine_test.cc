// The alarm state machine against CloudWatch's documented examples.
//
// Source of every row (cited below as [T1 rN] / [T2 rN]): the AWS CloudWatch User Guide,
// "Configuring How CloudWatch Alarms Treat Missing Data" -> "How Alarm State is Evaluated When
// Data is Missing" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html;
// at the time of the public docs repository: awsdocs/amazon-cloudwatch-user-guide,
// doc_source/AlarmThatSendsEmail.md, commit 05fd32f63861ca6646c8aa5c94334fd6e0dfdbf5).
//  * Table 1: Datapoints to Alarm = Evaluation Periods = 3, the 5 most recent datapoints retrieved.
//  * Table 2: Datapoints to Alarm = 2, Evaluation Periods = 3 (Period 5 minutes).
// Datapoints are written oldest -> newest: 0 non-breaching, X breaching, - missing. Columns:
// MISSING / IGNORE / BREACHING / NOT BREACHING. "Retain current state" is tested from two
// different starting states.
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/alarms/alarm_evaluator.h"
#include "tests/unit/agent/alarms/alarm_test_util.h"

namespace tests {
namespace {

using agent::AlarmState;
using agent::TreatMissingData;

constexpr auto kPeriod = std::chrono::minutes(5);
constexpr double kThreshold = 10;
constexpr double kNotBreaching = 1;  // "0"
constexpr double kBreaching = 20;    // "X"

struct Scenario {
  const char* source;  // table and row of the AWS documentation
  int datapoints_to_alarm;
  int evaluation_periods;
  const char* points;  // oldest -> newest, as in the documentation
  TreatMissingData treat_missing_data;
  AlarmState initial;
  AlarmState expected;
};

std::ostream& operator<<(std::ostream& os, const Scenario& s) {
  return os << s.source << " \"" << s.points << "\" " << agent::to_string(s.treat_missing_data) << " from "
            << agent::to_string(s.initial);
}

constexpr auto kMissing = TreatMissingData::kMissing;
constexpr auto kIgnore = TreatMissingData::kIgnore;
constexpr auto kBreachingTmd = TreatMissingData::kBreaching;
constexpr auto kNotBreachingTmd = TreatMissingData::kNotBreaching;
constexpr auto OK = AlarmState::kOk;
constexpr auto ALARM = AlarmState::kAlarm;
constexpr auto INSUFFICIENT = AlarmState::kInsufficientData;

const Scenario kScenarios[] = {
    // [T1 r1] "0 - X - X": 3 real datapoints = Evaluation Periods, only 2 breaching -> OK in every column.
    {"T1 r1", 3, 3, "0 - X - X", kMissing, INSUFFICIENT, OK},
    {"T1 r1", 3, 3, "0 - X - X", kIgnore, ALARM, OK},
    {"T1 r1", 3, 3, "0 - X - X", kBreachingTmd, INSUFFICIENT, OK},
    {"T1 r1", 3, 3, "0 - X - X", kNotBreachingTmd, ALARM, OK},
    // [T1 r2] "0 - - - -": one real non-breaching datapoint -> OK in every column (with breaching:
    // 0 plus two filled breaching datapoints is 2 of 3).
    {"T1 r2", 3, 3, "0 - - - -", kMissing, INSUFFICIENT, OK},
    {"T1 r2", 3, 3, "0 - - - -", kIgnore, ALARM, OK},
    {"T1 r2", 3, 3, "0 - - - -", kBreachingTmd, ALARM, OK},
    {"T1 r2", 3, 3, "0 - - - -", kNotBreachingTmd, INSUFFICIENT, OK},
    // [T1 r3] "- - - - -": Insufficient data / Retain current state / ALARM / OK.
    {"T1 r3", 3, 3, "- - - - -", kMissing, OK, INSUFFICIENT},
    {"T1 r3", 3, 3, "- - - - -", kIgnore, OK, OK},
    {"T1 r3", 3, 3, "- - - - -", kIgnore, ALARM, ALARM},
    {"T1 r3", 3, 3, "- - - - -", kBreachingTmd, OK, ALARM},
    {"T1 r3", 3, 3, "- - - - -", kNotBreachingTmd, ALARM, OK},
    // [T1 r4] "0 X X - X": enough real datapoints, treat_missing_data unused -> ALARM everywhere.
    {"T1 r4", 3, 3, "0 X X - X", kMissing, OK, ALARM},
    {"T1 r4", 3, 3, "0 X X - X", kIgnore, OK, ALARM},
    {"T1 r4", 3, 3, "0 X X - X", kBreachingTmd, INSUFFICIENT, ALARM},
    {"T1 r4", 3, 3, "0 X X - X", kNotBreachingTmd, OK, ALARM},
    // [T1 r5] "- - - - X": Insufficient data / Retain current state / ALARM / OK.
    {"T1 r5", 3, 3, "- - - - X", kMissing, OK, INSUFFICIENT},
    {"T1 r5", 3, 3, "- - - - X", kIgnore, OK, OK},
    {"T1 r5", 3, 3, "- - - - X", kIgnore, INSUFFICIENT, INSUFFICIENT},
    {"T1 r5", 3, 3, "- - - - X", kBreachingTmd, OK, ALARM},
    {"T1 r5", 3, 3, "- - - - X", kNotBreachingTmd, ALARM, OK},
    // [T1 r6] "X - - - -": ALARM even with missing ("the oldest evaluated data point is breaching
    // and there aren't any non-breaching data points") / Retain current state / ALARM / OK.
    {"T1 r6", 3, 3, "X - - - -", kMissing, OK, ALARM},
    {"T1 r6", 3, 3, "X - - - -", kIgnore, OK, OK},
    {"T1 r6", 3, 3, "X - - - -", kIgnore, INSUFFICIENT, INSUFFICIENT},
    {"T1 r6", 3, 3, "X - - - -", kBreachingTmd, OK, ALARM},
    {"T1 r6", 3, 3, "X - - - -", kNotBreachingTmd, ALARM, OK},
    // [T2 r1] "0 - X - X" with 2 out of 3: ALARM everywhere.
    {"T2 r1", 2, 3, "0 - X - X", kMissing, OK, ALARM},
    {"T2 r1", 2, 3, "0 - X - X", kIgnore, INSUFFICIENT, ALARM},
    {"T2 r1", 2, 3, "0 - X - X", kBreachingTmd, OK, ALARM},
    {"T2 r1", 2, 3, "0 - X - X", kNotBreachingTmd, OK, ALARM},
    // [T2 r2] "0 0 X 0 X": no missing data, X 0 X -> ALARM everywhere.
    {"T2 r2", 2, 3, "0 0 X 0 X", kMissing, OK, ALARM},
    {"T2 r2", 2, 3, "0 0 X 0 X", kIgnore, OK, ALARM},
    {"T2 r2", 2, 3, "0 0 X 0 X", kBreachingTmd, INSUFFICIENT, ALARM},
    {"T2 r2", 2, 3, "0 0 X 0 X", kNotBreachingTmd, OK, ALARM},
    // [T2 r3] "0 - X - -": OK / OK / ALARM / OK.
    {"T2 r3", 2, 3, "0 - X - -", kMissing, ALARM, OK},
    {"T2 r3", 2, 3, "0 - X - -", kIgnore, ALARM, OK},
    {"T2 r3", 2, 3, "0 - X - -", kBreachingTmd, OK, ALARM},
    {"T2 r3", 2, 3, "0 - X - -", kNotBreachingTmd, ALARM, OK},
    // [T2 r4] "- - - - 0": OK / OK / ALARM / OK.
    {"T2 r4", 2, 3, "- - - - 0", kMissing, INSUFFICIENT, OK},
    {"T2 r4", 2, 3, "- - - - 0", kIgnore, ALARM, OK},
    {"T2 r4", 2, 3, "- - - - 0", kBreachingTmd, OK, ALARM},
    {"T2 r4", 2, 3, "- - - - 0", kNotBreachingTmd, INSUFFICIENT, OK},
    // [T2 r5] "- - - - X": Insufficient data / Retain current state / ALARM / OK.
    {"T2 r5", 2, 3, "- - - - X", kMissing, ALARM, INSUFFICIENT},
    {"T2 r5", 2, 3, "- - - - X", kIgnore, ALARM, ALARM},
    {"T2 r5", 2, 3, "- - - - X", kIgnore, OK, OK},
    {"T2 r5", 2, 3, "- - - - X", kBreachingTmd, OK, ALARM},
    {"T2 r5", 2, 3, "- - - - X", kNotBreachingTmd, ALARM, OK},
};

std::vector<std::string> split(const char* points) {
  std::vector<std::string> out;
  std::istringstream in(points);
  for (std::string token; in >> token;) out.push_back(token);
  return out;
}

class DocumentedScenario : public ::testing::TestWithParam<Scenario> {};

TEST_P(DocumentedScenario, OneEvaluationOverTheFiveMostRecentPeriods) {
  const Scenario& s = GetParam();
  const std::vector<std::string> points = split(s.points);
  ASSERT_EQ(points.size(), 5u) << "the documentation retrieves 5 datapoints";

  agent::AlarmConfig config = metric_alarm("doc-alarm", "m", kThreshold);
  config.statistic = "Maximum";
  config.period = kPeriod;
  config.evaluation_periods = s.evaluation_periods;
  config.datapoints_to_alarm = s.datapoints_to_alarm;
  config.treat_missing_data = s.treat_missing_data;

  // The newest of the five periods starts at `newest`; the evaluator starts inside it, so the one
  // evaluation below (when it closes) is the first.
  const common::WallTime newest = utc(2022, 8, 26, 3, 45);
  auto evaluator = agent::AlarmEvaluator::create({config}, {}, newest + 1s);
  ASSERT_TRUE(evaluator.ok()) << evaluator.error().to_string();
  force_state(*evaluator, "doc-alarm", s.initial);

  for (size_t i = 0; i < points.size(); ++i) {
    const common::WallTime period_start = newest - kPeriod * static_cast<int>(points.size() - 1 - i);
    if (points[i] == "0") evaluator->add_sample(sample("m", kNotBreaching, period_start + 30s));
    if (points[i] == "X") evaluator->add_sample(sample("m", kBreaching, period_start + 30s));
  }
  EXPECT_EQ(evaluator->dropped_samples(), 0u);

  const auto transitions = evaluator->on_period_end(newest + kPeriod + 10s);
  EXPECT_EQ(evaluator->state("doc-alarm"), s.expected);
  if (s.expected == s.initial) {
    EXPECT_TRUE(transitions.empty()) << "no transition without a state change";
  } else {
    ASSERT_EQ(transitions.size(), 1u);
    EXPECT_EQ(transitions[0].old_state, s.initial);
    EXPECT_EQ(transitions[0].new_state, s.expected);
    EXPECT_FALSE(transitions[0].repeat);
    EXPECT_EQ(transitions[0].state_change_time, newest + kPeriod + 10s);
  }
}

INSTANTIATE_TEST_SUITE_P(AwsMissingDataTables, DocumentedScenario, ::testing::ValuesIn(kScenarios));

TEST(AlarmStateMachine, AtLeastTwentyFiveDocumentedScenarios) {
  EXPECT_GE(std::size(kScenarios), 25u);
}

// Same page, after Table 1: "In the second row ... the alarm stays OK even if missing data is
// treated as breaching ... The next time this alarm is evaluated, if the data is still missing it
// will go to ALARM, as that non-breaching data point will no longer be among the 5 most recent".
TEST(AlarmStateMachine, NonBreachingPointFallsOutOfTheEvaluationRange) {
  agent::AlarmConfig config = metric_alarm("a", "m", kThreshold);
  config.period = kPeriod;
  config.evaluation_periods = 3;
  config.datapoints_to_alarm = 3;
  config.treat_missing_data = kBreachingTmd;
  const common::WallTime oldest = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({config}, {}, oldest + 4 * kPeriod + 1s);
  ASSERT_TRUE(e.ok());
  force_state(*e, "a", OK);
  e->add_sample(sample("m", kNotBreaching, oldest + 1s));  // "0 - - - -"
  EXPECT_TRUE(e->on_period_end(oldest + 5 * kPeriod).empty());
  EXPECT_EQ(e->state("a"), OK);
  const auto t = e->on_period_end(oldest + 6 * kPeriod);  // "- - - - -" now
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].new_state, ALARM);
}

// "Evaluating an Alarm" (same guide): threshold 3, Evaluation Period = Datapoints to Alarm = 3.
// Periods 3-5 above the threshold -> ALARM; period 6 dips below -> OK; period 9 breaches once ->
// stays OK.
TEST(AlarmStateMachine, DocumentedThreeOutOfThreeTimeline) {
  agent::AlarmConfig config = metric_alarm("graph", "m", 3, agent::Comparison::kGreaterThanThreshold);
  config.period = 1min;
  config.evaluation_periods = 3;
  config.datapoints_to_alarm = 3;
  const common::WallTime t0 = utc(2022, 8, 26, 4, 0);
  auto e = agent::AlarmEvaluator::create({config}, {}, t0);
  ASSERT_TRUE(e.ok());
  const double values[] = {1, 2, 4, 5, 4, 2, 1, 2, 4, 1};
  std::vector<std::pair<int, AlarmState>> changes;  // (1-based period, new state)
  for (int i = 0; i < 10; ++i) {
    e->add_sample(sample("m", values[i], t0 + 1min * i + 15s));
    for (const auto& t : e->on_period_end(t0 + 1min * (i + 1))) changes.emplace_back(i + 1, t.new_state);
  }
  const std::vector<std::pair<int, AlarmState>> expected = {{1, OK}, {5, ALARM}, {6, OK}};
  EXPECT_EQ(changes, expected);
}

// "Datapoints to Alarm ... The breaching data points do not have to be consecutive, they just
// must all be within the last number of data points equal to Evaluation Period." (same guide)
TEST(AlarmStateMachine, MOutOfNNeedNotBeConsecutive) {
  agent::AlarmConfig config = metric_alarm("m-of-n", "m", kThreshold);
  config.period = 1min;
  config.evaluation_periods = 5;
  config.datapoints_to_alarm = 3;
  const common::WallTime t0 = utc(2022, 8, 26, 5, 0);
  auto e = agent::AlarmEvaluator::create({config}, {}, t0);
  ASSERT_TRUE(e.ok());
  const double values[] = {20, 1, 20, 1, 20, 1, 1, 1};
  std::vector<std::pair<int, AlarmState>> changes;
  for (int i = 0; i < 8; ++i) {
    e->add_sample(sample("m", values[i], t0 + 1min * i));
    for (const auto& t : e->on_period_end(t0 + 1min * (i + 1))) changes.emplace_back(i + 1, t.new_state);
  }
  // After period 1 only one real point (breaching, 1 period old < M) -> INSUFFICIENT_DATA is kept;
  // after 2 there is a non-breaching one -> OK; the fifth period makes X0X0X -> ALARM; at
  // period 6 the window 0X0X0 holds only 2 breaching -> OK.
  const std::vector<std::pair<int, AlarmState>> expected = {{2, OK}, {5, ALARM}, {6, OK}};
  EXPECT_EQ(changes, expected);
}

}  // namespace
}  // namespace tests
