// Renders an AlarmTransition the way CloudWatch alarm notifications arrive over SNS: the JSON
// Message body, the Subject and the message attributes (spec aws-wire.md §3.2). Pure functions.
//
//   agent::NotificationContext ctx{"123456789012", "us-east-1", "US East (N. Virginia)", "CWAgent"};
//   agent::SnsAlarmMessage msg = agent::render_sns_alarm_message(transition, ctx);
//   // Publish TopicArn=each of transition.actions, Subject=msg.subject, Message=msg.message, ...
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/alarms/alarm_transition.h"

namespace agent {

// SNS Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less
// than 100 characters long." https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
inline constexpr size_t kMaxSnsSubjectChars = 99;
// SNS Publish: a message with its attributes is at most 256 KB (262,144 bytes).
inline constexpr size_t kMaxSnsMessageBytes = 262'144;

struct NotificationContext {
  std::string account_id;            // AWSAccountId, and in AlarmArn
  std::string region;                // "us-east-1", in AlarmArn
  std::string region_display_name;   // "US East (N. Virginia)": Region and Subject
  std::string namespace_name;        // Trigger.Namespace for metric alarms (metrics.namespace)
  std::string audit_namespace = "Trailwatch/Audit";  // Trigger.Namespace for audit alarms
  std::string partition = "aws";     // AlarmArn partition (aws-cn, aws-us-gov)
};

struct SnsMessageAttribute {
  std::string name;
  std::string data_type;  // "String" or "Number"
  std::string value;
  bool operator==(const SnsMessageAttribute&) const = default;
};

struct SnsAlarmMessage {
  std::string subject;
  std::string message;  // JSON text
  std::vector<SnsMessageAttribute> attributes;
};

// "arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu-high".
std::string alarm_arn(std::string_view alarm_name, const NotificationContext& ctx);

// The notification body: AlarmName, AlarmDescription (null when empty), AWSAccountId,
// AlarmConfigurationUpdatedTimestamp, NewStateValue, NewStateReason, StateChangeTime, Region,
// AlarmArn, OldStateValue, OKActions, AlarmActions, InsufficientDataActions and Trigger, in
// CloudWatch's order and spelling.
std::string render_alarm_notification(const AlarmTransition& transition, const NotificationContext& ctx);

// `ALARM: "cpu-high" in US East (N. Virginia)` (OK: / INSUFFICIENT_DATA:), control characters
// replaced by spaces, cut to kMaxSnsSubjectChars characters on a UTF-8 boundary.
std::string render_alarm_subject(const AlarmTransition& transition, const NotificationContext& ctx);

// Attributes subscribers can filter on: AlarmName, NewStateValue, OldStateValue, AlarmKind
// ("metric"/"audit"), Repeat ("true"/"false"), Namespace, MetricName.
std::vector<SnsMessageAttribute> alarm_message_attributes(const AlarmTransition& transition,
                                                          const NotificationContext& ctx);

SnsAlarmMessage render_sns_alarm_message(const AlarmTransition& transition, const NotificationContext& ctx);

}  // namespace agent
