#include "agent/sinks/sns_encoder.h"

#include <gtest/gtest.h>

#include "agent/sinks/notification_output.h"

namespace {

using agent::SnsPublishRequest;

SnsPublishRequest spec_example() {
  SnsPublishRequest r;
  r.topic_arn = "arn:aws:sns:us-east-1:123456789012:agent-alarms";
  r.subject = "ALARM: \"cpu-high\"";
  r.message = "{\"AlarmName\":\"cpu-high\"}";
  r.attributes = {{"severity", "String", "critical"}};
  return r;
}

TEST(SnsEncoderTest, SpecExampleBodyByteForByte) {
  auto body = agent::encode_sns_publish(spec_example());
  ASSERT_TRUE(body.ok()) << body.error().to_string();
  EXPECT_EQ(*body,
            "Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aagent-alarms"
            "&Subject=ALARM%3A%20%22cpu-high%22&Message=%7B%22AlarmName%22%3A%22cpu-high%22%7D"
            "&MessageAttributes.entry.1.Name=severity&MessageAttributes.entry.1.Value.DataType=String"
            "&MessageAttributes.entry.1.Value.StringValue=critical");
}

TEST(SnsEncoderTest, AttributesNumberedInOrderAndEmptySubjectLeftOut) {
  SnsPublishRequest r = spec_example();
  r.subject.clear();
  r.attributes = {{"a", "String", "x y"}, {"trailwatch.delay_seconds", "Number", "75"}};
  auto body = agent::encode_sns_publish(r);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->find("Subject="), std::string::npos);
  EXPECT_NE(body->find("&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String"
                       "&MessageAttributes.entry.1.Value.StringValue=x%20y"
                       "&MessageAttributes.entry.2.Name=trailwatch.delay_seconds"
                       "&MessageAttributes.entry.2.Value.DataType=Number&MessageAttributes.entry.2.Value.StringValue=75"),
            std::string::npos)
      << *body;
  EXPECT_EQ(body->find("MessageGroupId"), std::string::npos);
}

TEST(SnsEncoderTest, FifoTopicGetsGroupAndDeduplicationIds) {
  agent::QueuedNotification n;
  n.alarm_name = "cpu-high";
  n.transition_id = 3;
  n.topic_arn = "arn:aws:sns:us-east-1:123456789012:alarms.fifo";
  n.subject = "OK: \"cpu-high\"";
  n.message = "{}";
  n.state_change_time = common::WallTime(std::chrono::seconds(1'700'000'000));
  const auto req = agent::publish_request(n, n.state_change_time + std::chrono::seconds(1));
  EXPECT_EQ(req.message_group_id, "cpu-high");
  EXPECT_EQ(req.message_deduplication_id, "7fe2b0e39a77b0cd34c78792e7a626183e9a80c6356630ea90ee8ae9529cd68f");
  auto body = agent::encode_sns_publish(req);
  ASSERT_TRUE(body.ok()) << body.error().to_string();
  EXPECT_TRUE(body->ends_with(
      "&MessageGroupId=cpu-high"
      "&MessageDeduplicationId=7fe2b0e39a77b0cd34c78792e7a626183e9a80c6356630ea90ee8ae9529cd68f"))
      << *body;

  // Another transition of the same alarm is a different message for SNS's dedup window.
  n.transition_id = 4;
  EXPECT_NE(agent::publish_request(n, n.state_change_time).message_deduplication_id, req.message_deduplication_id);
  // A standard topic gets neither.
  n.topic_arn = "arn:aws:sns:us-east-1:123456789012:alarms";
  const auto std_req = agent::publish_request(n, n.state_change_time);
  EXPECT_TRUE(std_req.message_group_id.empty());
  EXPECT_TRUE(std_req.message_deduplication_id.empty());
}

TEST(SnsEncoderTest, FifoIdsAreSanitisedAndCut) {
  EXPECT_EQ(agent::sns_fifo_id("cpu high/\xC3\xA9"), "cpu_high/__");
  EXPECT_EQ(agent::sns_fifo_id(std::string(300, 'a')).size(), agent::kMaxSnsFifoIdChars);
  SnsPublishRequest r = spec_example();
  r.topic_arn += ".fifo";
  auto missing = agent::encode_sns_publish(r);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), common::ErrorCode::kInvalidArgument);
  r.message_group_id = "g";
  r.message_deduplication_id = std::string(agent::kMaxSnsFifoIdChars + 1, 'd');
  EXPECT_FALSE(agent::encode_sns_publish(r).ok());
  r.message_deduplication_id = "has space";
  EXPECT_FALSE(agent::encode_sns_publish(r).ok());
  r.message_deduplication_id = std::string(agent::kMaxSnsFifoIdChars, 'd');
  EXPECT_TRUE(agent::encode_sns_publish(r).ok());
}

TEST(SnsEncoderTest, SubjectLimitCountsCharactersNotBytes) {
  SnsPublishRequest r = spec_example();
  r.subject = std::string(agent::kMaxSnsSubjectChars, 'x');
  EXPECT_TRUE(agent::encode_sns_publish(r).ok());
  r.subject = std::string(agent::kMaxSnsSubjectChars + 1, 'x');
  auto too_long = agent::encode_sns_publish(r);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().to_string().find("Subject"), std::string::npos);
  // 99 two-byte characters (198 bytes) are within "less than 100 characters".
  r.subject.clear();
  for (std::size_t i = 0; i < agent::kMaxSnsSubjectChars; ++i) r.subject += "\xC3\xA9";
  EXPECT_TRUE(agent::encode_sns_publish(r).ok());
  r.subject = "line\nbreak";
  EXPECT_FALSE(agent::encode_sns_publish(r).ok());
}

TEST(SnsEncoderTest, MessageSizeIncludesAttributes) {
  SnsPublishRequest r = spec_example();
  r.attributes = {{"n", "String", "v"}};
  r.message = std::string(agent::kMaxSnsMessageBytes - 1 - 6 - 1, 'm');  // + "n" + "String" + "v"
  EXPECT_TRUE(agent::encode_sns_publish(r).ok());
  r.message.push_back('m');
  EXPECT_FALSE(agent::encode_sns_publish(r).ok());
  r.message.clear();
  EXPECT_FALSE(agent::encode_sns_publish(r).ok());
  r = spec_example();
  r.topic_arn.clear();
  EXPECT_FALSE(agent::encode_sns_publish(r).ok());
}

TEST(SnsEncoderTest, DelayAttributesOnlyAfterAMinute) {
  agent::QueuedNotification n;
  n.alarm_name = "a";
  n.topic_arn = "arn:aws:sns:us-east-1:123456789012:t";
  n.message = "{}";
  n.attributes = {{"AlarmName", "String", "a"}};
  n.state_change_time = common::WallTime(std::chrono::seconds(1'700'000'000));
  EXPECT_EQ(agent::publish_request(n, n.state_change_time + std::chrono::seconds(60)).attributes.size(), 1u);
  const auto late = agent::publish_request(n, n.state_change_time + std::chrono::seconds(75));
  ASSERT_EQ(late.attributes.size(), 3u);
  EXPECT_EQ(late.attributes[1], (agent::SnsMessageAttribute{"trailwatch.delayed", "String", "true"}));
  EXPECT_EQ(late.attributes[2], (agent::SnsMessageAttribute{"trailwatch.delay_seconds", "Number", "75"}));
}

TEST(SnsEncoderTest, QueuedNotificationRoundTripsThroughJson) {
  agent::QueuedNotification n;
  n.alarm_name = "cpu \"high\"";
  n.transition_id = 42;
  n.topic_arn = "arn:aws:sns:us-east-1:123456789012:t";
  n.subject = "ALARM: x";
  n.message = "{\"k\":\"line\\nbreak\"}";
  n.attributes = {{"AlarmName", "String", "cpu"}, {"N", "Number", "1.5"}};
  n.state_change_time = common::WallTime(std::chrono::milliseconds(1'700'000'000'123));
  auto back = agent::parse_queued_notification(agent::to_json(n));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, n);
  EXPECT_FALSE(agent::parse_queued_notification("{\"alarm\":\"a\"}").ok());
  EXPECT_FALSE(agent::parse_queued_notification("nope").ok());
}

}  // namespace
