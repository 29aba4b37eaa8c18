// PutLogEvents: literal body, sort order, the count/bytes/24 h limits, truncation, rejected-events
// parsing and name templating.
#include "agent/sinks/trail_logs_encoder.h"

#include <gtest/gtest.h>

#include "agent/config/agent_config.h"
#include "tests/unit/agent/trail/trail_test_util.h"

namespace {

using agent::LogEvent;
using Json = nlohmann::json;

std::vector<int64_t> timestamps_of(const std::vector<agent::LogsRequest>& requests) {
  std::vector<int64_t> out;
  for (const auto& r : requests) {
    const Json body = Json::parse(r.body);
    for (const auto& e : body["logEvents"]) out.push_back(e["timestamp"].get<int64_t>());
  }
  return out;
}

TEST(LogsEncoder, BodyIsTheSpecExample) {
  const std::string message =
      R"({"eventVersion":"1.11","eventTime":"2026-06-01T12:00:00Z","eventSource":"auditd.linux","eventName":"execve","eventID":"77ecc2a1-4d15-59d3-925d-3d8c7256b829"})";
  const auto requests = agent::encode_put_log_events("/ec2/auditd-trail", "i-0123456789abcdef0", {{1780315200123, message}});
  ASSERT_EQ(requests.size(), 1u);
  // aws-wire-trail-sinks.md 1.8: Content-Length 306
  EXPECT_EQ(requests[0].body,
            R"({"logGroupName":"/ec2/auditd-trail","logStreamName":"i-0123456789abcdef0","logEvents":[{"timestamp":1780315200123,"message":"{\"eventVersion\":\"1.11\",\"eventTime\":\"2026-06-01T12:00:00Z\",\"eventSource\":\"auditd.linux\",\"eventName\":\"execve\",\"eventID\":\"77ecc2a1-4d15-59d3-925d-3d8c7256b829\"}"}]})");
  EXPECT_EQ(requests[0].body.size(), 306u);
  EXPECT_EQ(requests[0].payload_bytes, message.size() + 26);
  EXPECT_TRUE(agent::encode_put_log_events("g", "s", {}).empty());
}

TEST(LogsEncoder, SortsByTimestampStably) {
  const auto requests = agent::encode_put_log_events("g", "s", {{30, "c"}, {10, "a1"}, {20, "b"}, {10, "a2"}});
  ASSERT_EQ(requests.size(), 1u);
  const Json events = Json::parse(requests[0].body)["logEvents"];
  std::vector<std::string> messages;
  for (const auto& e : events) messages.push_back(e["message"]);
  EXPECT_EQ(messages, (std::vector<std::string>{"a1", "a2", "b", "c"}));
  EXPECT_EQ(requests[0].first_timestamp_ms, 10);
  EXPECT_EQ(requests[0].last_timestamp_ms, 30);
}

TEST(LogsEncoder, SplitsAtTenThousandEvents) {
  std::vector<LogEvent> events;
  for (int i = 0; i < 10'001; ++i) events.push_back({1'000 + i, "m"});
  const auto requests = agent::encode_put_log_events("g", "s", events);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].count, 10'000u);
  EXPECT_EQ(requests[1].count, 1u);
  EXPECT_EQ(timestamps_of(requests).size(), 10'001u);
}

TEST(LogsEncoder, SplitsAtTheByteBudgetWith26BytesPerEvent) {
  // 10 x (100,000 + 26) = 1,000,260 fits; an 11th would not.
  std::vector<LogEvent> events(25, LogEvent{5, std::string(100'000, 'x')});
  const auto requests = agent::encode_put_log_events("g", "s", events);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].count, 10u);
  EXPECT_EQ(requests[0].payload_bytes, 1'000'260u);
  EXPECT_EQ(requests[2].count, 5u);
  // exactly at the limit: 1,048,576 = 8 x (131,046 + 26)
  std::vector<LogEvent> exact(9, LogEvent{5, std::string(131'046, 'y')});
  const auto exact_requests = agent::encode_put_log_events("g", "s", exact);
  ASSERT_EQ(exact_requests.size(), 2u);
  EXPECT_EQ(exact_requests[0].count, 8u);
  EXPECT_EQ(exact_requests[0].payload_bytes, agent::kLogsMaxBatchBytes);
}

TEST(LogsEncoder, SplitsWhenABatchWouldSpan24Hours) {
  const int64_t t0 = 1'780'315'200'000;
  const int64_t hour = 3'600'000;
  const auto requests =
      agent::encode_put_log_events("g", "s", {{t0 + 24 * hour, "c"}, {t0, "a"}, {t0 + 24 * hour - 1, "b"}, {t0 + 30 * hour, "d"}});
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].count, 2u);  // t0 and t0 + 24 h - 1 ms
  EXPECT_EQ(requests[1].count, 2u);
  EXPECT_EQ(timestamps_of(requests), (std::vector<int64_t>{t0, t0 + 24 * hour - 1, t0 + 24 * hour, t0 + 30 * hour}));
  for (const auto& r : requests) EXPECT_LT(r.last_timestamp_ms - r.first_timestamp_ms, agent::kLogsMaxBatchSpanMs);
}

TEST(LogsEncoder, LongMessagesAreTruncatedWithAMarker) {
  const auto requests = agent::encode_put_log_events("g", "s", {{1, std::string(300'000, 'z')}, {2, ""}});
  ASSERT_EQ(requests.size(), 1u);
  const Json events = Json::parse(requests[0].body)["logEvents"];
  const std::string first = events[0]["message"];
  EXPECT_EQ(first.size(), agent::kLogsMaxMessageBytes);
  EXPECT_TRUE(first.ends_with(agent::kLogsTruncationMarker));
  EXPECT_EQ(events[1]["message"], "{}");  // the API needs at least one character

  // UTF-8 safe: never cuts inside a character
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "\xE2\x82\xAC";
  const std::string cut = agent::truncate_log_message(euros, 50);
  EXPECT_LE(cut.size(), 50u);
  EXPECT_TRUE(cut.ends_with(agent::kLogsTruncationMarker));
  EXPECT_EQ((cut.size() - agent::kLogsTruncationMarker.size()) % 3, 0u);
  EXPECT_EQ(agent::truncate_log_message("short", 50), "short");
}

TEST(LogsEncoder, InvalidUtf8IsRepairedAndCountedAsSent) {
  const auto requests = agent::encode_put_log_events("g", "s", {{1, std::string("a\xFF" "b")}});
  ASSERT_EQ(requests.size(), 1u);
  const std::string sent = Json::parse(requests[0].body)["logEvents"][0]["message"];
  EXPECT_EQ(sent, "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(requests[0].payload_bytes, sent.size() + 26);
}

TEST(LogsEncoder, LogEventOfARealRecord) {
  const agent::TrailRecord r = tests::map_corpus("laurel/record-execve.log", 15558);
  const LogEvent e = agent::make_log_event(r);
  EXPECT_EQ(e.timestamp_ms, 1615114232375);
  EXPECT_EQ(e.message, agent::render_cloudtrail_event(r));
  EXPECT_EQ(Json::parse(e.message)["eventID"], r.event_id);
}

TEST(LogsEncoder, HugeRecordsShrinkBeforeTruncating) {
  agent::TrailRecord r = tests::map_corpus("laurel/record-execve.log", 15558);
  r.raw_lines.assign(64, std::string(8'000, 'r'));  // 512 kB of raw lines
  const LogEvent e = agent::make_log_event(r);
  EXPECT_LE(e.message.size(), agent::kLogsMaxMessageBytes);
  const Json j = Json::parse(e.message);  // still whole JSON: the raw lines went, not the record
  EXPECT_EQ(j["additionalEventData"]["truncated"], true);
  EXPECT_FALSE(j["additionalEventData"].contains("raw"));
  EXPECT_EQ(j["eventName"], "execve");
}

TEST(LogsEncoder, ParsesRejectedLogEventsInfo) {
  auto r = agent::parse_put_log_events_response(R"({"nextSequenceToken":"4903","rejectedLogEventsInfo":{"tooOldLogEventEndIndex":1}})");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->rejected(0));
  EXPECT_FALSE(r->rejected(1));
  EXPECT_EQ(r->rejected_count(3), 1u);

  r = agent::parse_put_log_events_response(
      R"({"rejectedLogEventsInfo":{"tooNewLogEventStartIndex":3,"expiredLogEventEndIndex":1}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->too_new_start, 3);
  EXPECT_EQ(r->expired_end, 1);
  EXPECT_FALSE(r->too_old_end);
  EXPECT_EQ(r->rejected_count(5), 3u);  // 0, 3, 4
  EXPECT_FALSE(r->rejected(2));

  for (const char* none : {"", "{}", R"({"nextSequenceToken":"x"})"}) {
    const auto ok = agent::parse_put_log_events_response(none);
    ASSERT_TRUE(ok.ok()) << none;
    EXPECT_FALSE(ok->any());
  }
  for (const char* bad : {"{", "[]", R"({"rejectedLogEventsInfo":{"tooOldLogEventEndIndex":"1"}})",
                          R"({"rejectedLogEventsInfo":[]})"})
    EXPECT_FALSE(agent::parse_put_log_events_response(bad).ok()) << bad;
}

TEST(LogsEncoder, NameTemplates) {
  const agent::HostContext host = tests::test_host();
  EXPECT_EQ(agent::expand_log_name_template("{instance_id}", host, true), "i-0123456789abcdef0");
  EXPECT_EQ(agent::expand_log_name_template("/ec2/{hostname}/audit", host, false), "/ec2/ip-10-0-1-17/audit");
  EXPECT_EQ(agent::expand_log_name_template("{account_id}_{region}_{unknown}", host, true), "111122223333_us-east-1_{unknown}");
  EXPECT_EQ(agent::expand_log_name_template("a{b", host, true), "a{b");
  agent::HostContext off_ec2 = host;
  off_ec2.instance_id.clear();
  EXPECT_EQ(agent::expand_log_name_template("{instance_id}", off_ec2, true), "ip-10-0-1-17");
  off_ec2.hostname = "db:1*";
  EXPECT_EQ(agent::expand_log_name_template("{hostname}", off_ec2, true), "db_1_");  // ':' '*' not allowed
}

// The config validates templates with the placeholders it knows (agent_config.h); each must be one
// this expansion fills in, and its example value must be a valid name part.
TEST(LogsEncoder, ConfigPlaceholdersAreTheOnesExpanded) {
  const agent::HostContext host = tests::test_host();
  for (const auto& p : agent::kLogNamePlaceholders) {
    const std::string expanded = agent::expand_log_name_template(p.name, host, false);
    EXPECT_FALSE(expanded.empty()) << p.name;
    EXPECT_NE(expanded, std::string(p.name)) << p.name << " is not expanded";
    EXPECT_EQ(agent::log_group_name_problem("/g/" + std::string(p.example)), "") << p.example;
    EXPECT_EQ(agent::log_stream_name_problem(p.example), "") << p.example;
  }
}

}  // namespace
