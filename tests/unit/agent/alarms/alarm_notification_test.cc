// Alarm notifications: the CloudWatch-shaped JSON body, the SNS subject and message attributes.
#include "agent/alarms/alarm_notification.h"

#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/alarms/alarm_evaluator.h"
#include "tests/unit/agent/alarms/alarm_test_util.h"

namespace tests {
namespace {

using agent::AlarmState;
using Json = nlohmann::ordered_json;

// The example body of aws-wire.md §3.2 (the shape of real CloudWatch alarm notifications).
constexpr const char* kSpecExample = R"json({"AlarmName":"cpu-high","AlarmDescription":null,"AWSAccountId":"123456789012",
 "AlarmConfigurationUpdatedTimestamp":"2022-08-26T03:45:34.563+0000",
 "NewStateValue":"ALARM","NewStateReason":"Threshold Crossed: 1 out of the last 1 datapoints [94.1 (26/08/22 03:45:00)] was greater than or equal to the threshold (90.0) (minimum 1 datapoint for OK -> ALARM transition).",
 "StateChangeTime":"2022-08-26T03:46:29.897+0000","Region":"US East (N. Virginia)",
 "AlarmArn":"arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high","OldStateValue":"OK",
 "OKActions":[],"AlarmActions":["arn:aws:sns:us-east-1:123456789012:agent-alarms"],"InsufficientDataActions":[],
 "Trigger":{"MetricName":"CPUUtilization","Namespace":"EC2Agent","StatisticType":"Statistic",
  "Statistic":"AVERAGE","Unit":null,"Dimensions":[{"value":"i-0123456789abcdef0","name":"InstanceId"}],
  "Period":60,"EvaluationPeriods":1,"DatapointsToAlarm":1,"ComparisonOperator":"GreaterThanOrEqualToThreshold",
  "Threshold":90.0,"TreatMissingData":"missing","EvaluateLowSampleCountPercentile":""}})json";

agent::NotificationContext spec_context() {
  agent::NotificationContext ctx;
  ctx.account_id = "123456789012";
  ctx.region = "us-east-1";
  ctx.region_display_name = "US East (N. Virginia)";
  ctx.namespace_name = "EC2Agent";
  return ctx;
}

agent::AlarmConfig spec_alarm() {
  agent::AlarmConfig c = metric_alarm("cpu-high", "CPUUtilization", 90);
  c.dimensions = {{"InstanceId", "i-0123456789abcdef0"}};
  c.alarm_actions = {"arn:aws:sns:us-east-1:123456789012:agent-alarms"};
  return c;
}

// The spec example, produced end to end: evaluator -> transition -> renderer.
agent::AlarmTransition spec_transition() {
  agent::AlarmEvaluatorOptions options;
  options.common_dimensions = {{"InstanceId", "i-0123456789abcdef0"}};
  options.config_updated_time = utc(2022, 8, 26, 3, 45, 34, 563);
  auto e = agent::AlarmEvaluator::create({spec_alarm()}, options, utc(2022, 8, 26, 3, 45, 34, 563));
  EXPECT_TRUE(e.ok());
  force_state(*e, "cpu-high", AlarmState::kOk);
  e->add_sample(sample("CPUUtilization", 94.1, utc(2022, 8, 26, 3, 45, 40)));
  auto t = e->on_period_end(utc(2022, 8, 26, 3, 46, 29, 897));
  EXPECT_EQ(t.size(), 1u);
  return t.empty() ? agent::AlarmTransition{} : t[0];
}

TEST(AlarmNotification, ReproducesTheSpecExampleExactly) {
  const std::string body = agent::render_alarm_notification(spec_transition(), spec_context());
  EXPECT_EQ(body, Json::parse(kSpecExample).dump());
}

TEST(AlarmNotification, EveryFieldPresentWithItsType) {
  const Json body = Json::parse(agent::render_alarm_notification(spec_transition(), spec_context()));
  const std::vector<std::string> keys = {"AlarmName", "AlarmDescription", "AWSAccountId",
                                         "AlarmConfigurationUpdatedTimestamp", "NewStateValue", "NewStateReason",
                                         "StateChangeTime", "Region", "AlarmArn", "OldStateValue", "OKActions",
                                         "AlarmActions", "InsufficientDataActions", "Trigger"};
  std::vector<std::string> actual;
  for (const auto& [key, value] : body.items()) actual.push_back(key);
  EXPECT_EQ(actual, keys) << "all fields, in CloudWatch's order";
  for (const char* k : {"AlarmName", "AWSAccountId", "NewStateValue", "NewStateReason", "Region", "AlarmArn",
                        "OldStateValue"}) {
    EXPECT_TRUE(body[k].is_string()) << k;
  }
  const std::regex time(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000)");
  EXPECT_TRUE(std::regex_match(body["StateChangeTime"].get<std::string>(), time));
  EXPECT_TRUE(std::regex_match(body["AlarmConfigurationUpdatedTimestamp"].get<std::string>(), time));
  for (const char* k : {"OKActions", "AlarmActions", "InsufficientDataActions"}) EXPECT_TRUE(body[k].is_array()) << k;

  const Json& trigger = body["Trigger"];
  const std::vector<std::string> trigger_keys = {
      "MetricName", "Namespace", "StatisticType", "Statistic", "Unit", "Dimensions", "Period", "EvaluationPeriods",
      "DatapointsToAlarm", "ComparisonOperator", "Threshold", "TreatMissingData", "EvaluateLowSampleCountPercentile"};
  actual.clear();
  for (const auto& [key, value] : trigger.items()) actual.push_back(key);
  EXPECT_EQ(actual, trigger_keys);
  EXPECT_TRUE(trigger["Period"].is_number_integer());
  EXPECT_TRUE(trigger["EvaluationPeriods"].is_number_integer());
  EXPECT_TRUE(trigger["DatapointsToAlarm"].is_number_integer());
  EXPECT_TRUE(trigger["Threshold"].is_number_float());
  EXPECT_TRUE(trigger["Unit"].is_null());
  ASSERT_TRUE(trigger["Dimensions"].is_array());
  for (const auto& d : trigger["Dimensions"]) {
    EXPECT_TRUE(d["name"].is_string());
    EXPECT_TRUE(d["value"].is_string());
  }
}

TEST(AlarmNotification, DescriptionStatisticsAndAuditNamespace) {
  agent::AlarmTransition t = spec_transition();
  t.alarm_description = "CPU above 90% on the build host";
  t.trigger.statistic = "SampleCount";
  t.trigger.period = std::chrono::minutes(5);
  t.trigger.evaluation_periods = 5;
  t.trigger.datapoints_to_alarm = 3;
  t.trigger.comparison = agent::Comparison::kLessThanThreshold;
  t.trigger.treat_missing_data = agent::TreatMissingData::kNotBreaching;
  t.trigger.threshold = 2.5;
  Json body = Json::parse(agent::render_alarm_notification(t, spec_context()));
  EXPECT_EQ(body["AlarmDescription"], "CPU above 90% on the build host");
  EXPECT_EQ(body["Trigger"]["Statistic"], "SAMPLE_COUNT");
  EXPECT_EQ(body["Trigger"]["Period"], 300);
  EXPECT_EQ(body["Trigger"]["EvaluationPeriods"], 5);
  EXPECT_EQ(body["Trigger"]["DatapointsToAlarm"], 3);
  EXPECT_EQ(body["Trigger"]["ComparisonOperator"], "LessThanThreshold");
  EXPECT_EQ(body["Trigger"]["TreatMissingData"], "notBreaching");
  EXPECT_EQ(body["Trigger"]["Threshold"], 2.5);

  t.trigger.statistic = "p99.9";
  body = Json::parse(agent::render_alarm_notification(t, spec_context()));
  EXPECT_EQ(body["Trigger"]["StatisticType"], "ExtendedStatistic");
  EXPECT_EQ(body["Trigger"]["ExtendedStatistic"], "p99.9");
  EXPECT_FALSE(body["Trigger"].contains("Statistic"));
  EXPECT_EQ(body["Trigger"]["EvaluateLowSampleCountPercentile"], "evaluate");

  t.trigger.audit = true;
  t.trigger.metric_name = std::string(agent::kAuditMetricName);
  body = Json::parse(agent::render_alarm_notification(t, spec_context()));
  EXPECT_EQ(body["Trigger"]["Namespace"], "Trailwatch/Audit");
  EXPECT_EQ(body["Trigger"]["MetricName"], "AuditEventCount");

  agent::NotificationContext china = spec_context();
  china.partition = "aws-cn";
  china.region = "cn-north-1";
  EXPECT_EQ(agent::alarm_arn("x", china), "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:x");
}

TEST(AlarmNotification, OkTransitionListsAllConfiguredActions) {
  agent::AlarmConfig c = spec_alarm();
  c.ok_actions = {"arn:aws:sns:us-east-1:123456789012:ok"};
  c.insufficient_data_actions = {"arn:aws:sns:us-east-1:123456789012:nodata"};
  const common::WallTime t0 = utc(2022, 8, 26, 3, 0);
  auto e = agent::AlarmEvaluator::create({c}, {{{"InstanceId", "i-0123456789abcdef0"}}, std::nullopt}, t0);
  ASSERT_TRUE(e.ok());
  e->add_sample(sample("CPUUtilization", 12, t0));
  const auto t = e->on_period_end(t0 + 1min);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].actions, c.ok_actions);
  const Json body = Json::parse(agent::render_alarm_notification(t[0], spec_context()));
  EXPECT_EQ(body["NewStateValue"], "OK");
  EXPECT_EQ(body["OldStateValue"], "INSUFFICIENT_DATA");
  EXPECT_EQ(body["OKActions"], Json::array({"arn:aws:sns:us-east-1:123456789012:ok"}));
  EXPECT_EQ(body["AlarmActions"], Json::array({"arn:aws:sns:us-east-1:123456789012:agent-alarms"}));
  EXPECT_EQ(body["InsufficientDataActions"], Json::array({"arn:aws:sns:us-east-1:123456789012:nodata"}));
}

// ---- subject ------------------------------------------------------------------------------------

size_t utf8_chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

TEST(AlarmSubject, CloudWatchWording) {
  agent::AlarmTransition t = spec_transition();
  EXPECT_EQ(agent::render_alarm_subject(t, spec_context()), "ALARM: \"cpu-high\" in US East (N. Virginia)");
  t.new_state = AlarmState::kOk;
  EXPECT_EQ(agent::render_alarm_subject(t, spec_context()), "OK: \"cpu-high\" in US East (N. Virginia)");
  t.new_state = AlarmState::kInsufficientData;
  EXPECT_EQ(agent::render_alarm_subject(t, spec_context()),
            "INSUFFICIENT_DATA: \"cpu-high\" in US East (N. Virginia)");
}

TEST(AlarmSubject, TruncatedToTheSnsLimit) {
  agent::AlarmTransition t = spec_transition();
  t.alarm_name = std::string(255, 'n');  // the longest alarm name
  const std::string subject = agent::render_alarm_subject(t, spec_context());
  EXPECT_EQ(subject.size(), agent::kMaxSnsSubjectChars);
  EXPECT_EQ(subject, "ALARM: \"" + std::string(agent::kMaxSnsSubjectChars - 8, 'n'));

  std::string name;
  for (int i = 0; i < 120; ++i) name += "\xC3\xA9";  // é, two bytes each
  t.alarm_name = name;
  const std::string cut = agent::render_alarm_subject(t, spec_context());
  EXPECT_EQ(utf8_chars(cut), agent::kMaxSnsSubjectChars);
  EXPECT_EQ(cut.size(), 8 + 2 * (agent::kMaxSnsSubjectChars - 8)) << "never splits a character";
  EXPECT_EQ(cut.substr(cut.size() - 2), "\xC3\xA9");
}

TEST(AlarmSubject, NoControlCharacters) {
  agent::AlarmTransition t = spec_transition();
  t.alarm_name = "line\nbreak\ttab\r\x7f\xC2\x85" "end";  // ends with DEL and U+0085 (NEL)
  const std::string subject = agent::render_alarm_subject(t, spec_context());
  EXPECT_EQ(subject, "ALARM: \"line break tab   end\" in US East (N. Virginia)");
  for (unsigned char c : subject) EXPECT_FALSE(c < 0x20 || c == 0x7F);
}

// ---- attributes and the whole message ------------------------------------------------------------

TEST(AlarmMessage, AttributesAndSize) {
  agent::AlarmTransition t = spec_transition();
  const agent::SnsAlarmMessage m = agent::render_sns_alarm_message(t, spec_context());
  EXPECT_EQ(m.subject, agent::render_alarm_subject(t, spec_context()));
  EXPECT_EQ(m.message, agent::render_alarm_notification(t, spec_context()));
  const std::vector<agent::SnsMessageAttribute> expected = {
      {"AlarmName", "String", "cpu-high"},   {"NewStateValue", "String", "ALARM"},
      {"OldStateValue", "String", "OK"},     {"AlarmKind", "String", "metric"},
      {"Repeat", "String", "false"},         {"Namespace", "String", "EC2Agent"},
      {"MetricName", "String", "CPUUtilization"},
  };
  EXPECT_EQ(m.attributes, expected);
  // SNS attribute names: A-Z a-z 0-9 _ - . and not starting with AWS. / Amazon.
  const std::regex name(R"([A-Za-z0-9_\-.]{1,256})");
  for (const auto& a : m.attributes) {
    EXPECT_TRUE(std::regex_match(a.name, name)) << a.name;
    EXPECT_NE(a.name.rfind("AWS.", 0), 0u);
    EXPECT_NE(a.name.rfind("Amazon.", 0), 0u);
  }
  EXPECT_LT(m.message.size(), agent::kMaxSnsMessageBytes);
}

TEST(AlarmMessage, InvalidUtf8InANameStillRendersValidJson) {
  agent::AlarmTransition t = spec_transition();
  t.alarm_name = "bad\xFFname";
  const std::string body = agent::render_alarm_notification(t, spec_context());
  EXPECT_TRUE(Json::accept(body));
  const std::string subject = agent::render_alarm_subject(t, spec_context());
  EXPECT_NE(subject.find("bad\xEF\xBF\xBDname"), std::string::npos);
}

}  // namespace
}  // namespace tests
