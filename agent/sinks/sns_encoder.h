// SNS Publish as a query-protocol form body (spec aws-wire.md §3.1). Pure.
//
//   agent::SnsPublishRequest req{.topic_arn = arn, .subject = msg.subject, .message = msg.message,
//                                .attributes = msg.attributes};
//   auto body = agent::encode_sns_publish(req);   // "Action=Publish&Version=2010-03-31&TopicArn=..."
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/alarms/alarm_notification.h"
#include "common/result/result.h"

namespace agent {

// FIFO topics: MessageGroupId / MessageDeduplicationId are at most 128 characters of
// a-z A-Z 0-9 and punctuation. https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
inline constexpr std::size_t kMaxSnsFifoIdChars = 128;
// FIFO topic names end in ".fifo". https://docs.aws.amazon.com/sns/latest/dg/fifo-topic-code-examples.html
inline constexpr std::string_view kSnsFifoSuffix = ".fifo";
// Publish API version for the query protocol.
inline constexpr std::string_view kSnsApiVersion = "2010-03-31";

struct SnsPublishRequest {
  std::string topic_arn;
  std::string subject;   // empty = not sent
  std::string message;
  std::vector<SnsMessageAttribute> attributes;  // sent as MessageAttributes.entry.1..N in this order
  std::string message_group_id;          // FIFO only (empty = not sent)
  std::string message_deduplication_id;  // FIFO only (empty = not sent)
};

bool is_fifo_topic(std::string_view topic_arn);

// A MessageGroupId / MessageDeduplicationId from free text: characters outside the allowed set
// (letters, digits, ASCII punctuation) become '_', cut to kMaxSnsFifoIdChars.
std::string sns_fifo_id(std::string_view text);

// Dedup id for one notification: hex SHA-256 of "<alarm>\n<transition id>" (64 characters), so a
// re-send after a restart inside SNS's 5-minute window is dropped by a FIFO topic.
std::string sns_dedup_id(std::string_view alarm_name, std::uint64_t transition_id);

// The form fields in the order they are sent (Action, Version, TopicArn, Subject, Message,
// MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}, MessageGroupId,
// MessageDeduplicationId). Also what the local sink records as the payload.
std::vector<std::pair<std::string, std::string>> sns_publish_fields(const SnsPublishRequest& request);

// Checks the request against Publish's limits (topic and message present, subject < 100
// characters without control characters, message + attributes <= kMaxSnsMessageBytes, FIFO ids
// within kMaxSnsFifoIdChars) and returns the URI-encoded form body. kInvalidArgument otherwise.
common::Result<std::string> encode_sns_publish(const SnsPublishRequest& request);

}  // namespace agent
