#include "agent/alarms/alarm_notification.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "agent/alarms/alarm_statistics.h"

namespace agent {

namespace {

using Json = nlohmann::ordered_json;

Json string_list(const std::vector<std::string>& items) {
  Json out = Json::array();
  for (const std::string& s : items) out.push_back(s);
  return out;
}

const std::string& namespace_for(const AlarmTransition& t, const NotificationContext& ctx) {
  return t.trigger.audit ? ctx.audit_namespace : ctx.namespace_name;
}

// Length of the well-formed UTF-8 sequence starting at text[i]; 0 when it is not well formed.
size_t utf8_length(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  size_t len = 1;
  if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
  } else if (c >= 0xE0) {
    len = 3;
  } else if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0x80) {
    return 0;  // continuation byte or invalid lead
  }
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return len;
}

}  // namespace

std::string alarm_arn(std::string_view alarm_name, const NotificationContext& ctx) {
  return "arn:" + ctx.partition + ":cloudwatch:" + ctx.region + ":" + ctx.account_id + ":alarm:" + std::string(alarm_name);
}

std::string render_alarm_notification(const AlarmTransition& t, const NotificationContext& ctx) {
  Json body;
  body["AlarmName"] = t.alarm_name;
  body["AlarmDescription"] = t.alarm_description.empty() ? Json(nullptr) : Json(t.alarm_description);
  body["AWSAccountId"] = ctx.account_id;
  body["AlarmConfigurationUpdatedTimestamp"] = format_alarm_time(t.config_updated_time);
  body["NewStateValue"] = std::string(to_string(t.new_state));
  body["NewStateReason"] = t.reason;
  body["StateChangeTime"] = format_alarm_time(t.state_change_time);
  body["Region"] = ctx.region_display_name;
  body["AlarmArn"] = alarm_arn(t.alarm_name, ctx);
  body["OldStateValue"] = std::string(to_string(t.old_state));
  body["OKActions"] = string_list(t.ok_actions);
  body["AlarmActions"] = string_list(t.alarm_actions);
  body["InsufficientDataActions"] = string_list(t.insufficient_data_actions);

  Json trigger;
  trigger["MetricName"] = t.trigger.metric_name;
  trigger["Namespace"] = namespace_for(t, ctx);
  auto statistic = parse_statistic(t.trigger.statistic);
  const bool percentile = statistic && statistic->kind == Statistic::Kind::kPercentile;
  if (percentile) {
    trigger["StatisticType"] = "ExtendedStatistic";
    trigger["ExtendedStatistic"] = t.trigger.statistic;
  } else {
    trigger["StatisticType"] = "Statistic";
    trigger["Statistic"] = statistic ? std::string(statistic_wire_name(*statistic)) : t.trigger.statistic;
  }
  trigger["Unit"] = nullptr;
  Json dimensions = Json::array();
  for (const auto& [name, value] : t.trigger.dimensions) {
    Json d;
    d["value"] = value;
    d["name"] = name;
    dimensions.push_back(std::move(d));
  }
  trigger["Dimensions"] = std::move(dimensions);
  trigger["Period"] = std::chrono::duration_cast<std::chrono::seconds>(t.trigger.period).count();
  trigger["EvaluationPeriods"] = t.trigger.evaluation_periods;
  trigger["DatapointsToAlarm"] = t.trigger.datapoints_to_alarm;
  trigger["ComparisonOperator"] = std::string(to_string(t.trigger.comparison));
  trigger["Threshold"] = t.trigger.threshold;
  trigger["TreatMissingData"] = std::string(to_string(t.trigger.treat_missing_data));
  trigger["EvaluateLowSampleCountPercentile"] = percentile ? "evaluate" : "";
  body["Trigger"] = std::move(trigger);
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string render_alarm_subject(const AlarmTransition& t, const NotificationContext& ctx) {
  const std::string raw =
      std::string(to_string(t.new_state)) + ": \"" + t.alarm_name + "\" in " + ctx.region_display_name;
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < raw.size() && chars < kMaxSnsSubjectChars;) {
    const size_t len = utf8_length(raw, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not valid UTF-8
      i += 1;
    } else if (len == 1) {
      const auto c = static_cast<unsigned char>(raw[i]);
      out += (c < 0x20 || c == 0x7F) ? ' ' : raw[i];
      i += 1;
    } else {
      const bool c1_control = len == 2 && static_cast<unsigned char>(raw[i]) == 0xC2 &&
                              static_cast<unsigned char>(raw[i + 1]) < 0xA0;  // U+0080..U+009F
      out += c1_control ? std::string(" ") : raw.substr(i, len);
      i += len;
    }
    ++chars;
  }
  return out;
}

std::vector<SnsMessageAttribute> alarm_message_attributes(const AlarmTransition& t, const NotificationContext& ctx) {
  return {
      {"AlarmName", "String", t.alarm_name},
      {"NewStateValue", "String", std::string(to_string(t.new_state))},
      {"OldStateValue", "String", std::string(to_string(t.old_state))},
      {"AlarmKind", "String", t.trigger.audit ? "audit" : "metric"},
      {"Repeat", "String", t.repeat ? "true" : "false"},
      {"Namespace", "String", namespace_for(t, ctx)},
      {"MetricName", "String", t.trigger.metric_name},
  };
}

SnsAlarmMessage render_sns_alarm_message(const AlarmTransition& t, const NotificationContext& ctx) {
  return {render_alarm_subject(t, ctx), render_alarm_notification(t, ctx), alarm_message_attributes(t, ctx)};
}

}  // namespace agent
