// PutAuditEvents: the spec's literal bodies and checksums, batching limits, response parsing.
#include "agent/sinks/trail_lake_encoder.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/unit/agent/trail/trail_test_util.h"

namespace {

using agent::LakeAuditEvent;
using Json = nlohmann::json;

// aws-wire.md 4.4, byte for byte.
constexpr std::string_view kSpecEventData =
    R"({"version":"1.0","userIdentity":{"type":"LinuxUser","principalId":"uid=0"},"eventSource":"auditd.ec2agent","eventName":"USER_LOGIN","eventTime":"2015-08-30T12:35:59Z","UID":"1440938159.123:4567","recipientAccountId":"123456789012"})";
constexpr std::string_view kSpecBody =
    R"({"auditEvents":[{"id":"ip-10-0-0-1-4567","eventData":"{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"LinuxUser\",\"principalId\":\"uid=0\"},\"eventSource\":\"auditd.ec2agent\",\"eventName\":\"USER_LOGIN\",\"eventTime\":\"2015-08-30T12:35:59Z\",\"UID\":\"1440938159.123:4567\",\"recipientAccountId\":\"123456789012\"}","eventDataChecksum":"kVWh2XkCKmi3XaOeJcrA2k/iVB7jFQlpT+KAVKVRyGQ="}]})";

TEST(LakeEncoder, ChecksumMatchesTheSpecVectors) {
  EXPECT_EQ(agent::lake_event_data_checksum(kSpecEventData), "kVWh2XkCKmi3XaOeJcrA2k/iVB7jFQlpT+KAVKVRyGQ=");
  // aws-wire-trail-sinks.md 3.6
  EXPECT_EQ(agent::lake_event_data_checksum(
                R"({"version":"1.0","userIdentity":{"type":"LinuxUser","principalId":"auid:1000"},"eventSource":"auditd.linux","eventName":"execve","eventTime":"2026-06-01T12:00:00Z","UID":"1780315200.123:4711","recipientAccountId":"111122223333"})"),
            "VwUgpymRAxiJLPyz2/6rid443hfF2MTHAxSh3GuEm6o=");
}

TEST(LakeEncoder, BodyIsByteForByteTheSpecExample) {
  const LakeAuditEvent e{"ip-10-0-0-1-4567", std::string(kSpecEventData), agent::lake_event_data_checksum(kSpecEventData)};
  const auto requests = agent::encode_put_audit_events({e});
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, kSpecBody);
  EXPECT_EQ(requests[0].ids, std::vector<std::string>{"ip-10-0-0-1-4567"});
}

TEST(LakeEncoder, QueryStringEncodesTheChannelArn) {
  EXPECT_EQ(agent::put_audit_events_query(
                "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef"),
            "channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Achannel%2F01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(agent::put_audit_events_query("abc", "ext/1:2"), "channelArn=abc&externalId=ext%2F1%3A2");
}

TEST(LakeEncoder, EventDataFromARealRecordFollowsTheSchema) {
  const agent::TrailRecord r = tests::map_corpus("laurel/record-execve.log", 15558);
  const LakeAuditEvent e = agent::make_lake_audit_event(r);
  EXPECT_EQ(e.id, r.event_id);
  EXPECT_TRUE(std::regex_match(e.id, std::regex("[-_A-Za-z0-9]{1,128}")));
  EXPECT_EQ(e.event_data_checksum, agent::lake_event_data_checksum(e.event_data));
  const Json d = Json::parse(e.event_data);
  EXPECT_EQ(d["version"], "1.0");
  EXPECT_EQ(d["userIdentity"]["type"], "LinuxUser");
  EXPECT_EQ(d["userIdentity"]["principalId"], "auid:1000");
  EXPECT_EQ(d["userIdentity"]["details"]["auidName"], "user");
  EXPECT_EQ(d["userIdentity"]["details"]["uid"], 0);
  EXPECT_EQ(d["eventSource"], "trailwatch.audit");
  EXPECT_EQ(d["eventName"], "execve");
  EXPECT_EQ(d["eventTime"], "2021-03-07T10:50:32Z");
  EXPECT_EQ(d["UID"], "work:1615114232.375:15558");
  EXPECT_EQ(d["recipientAccountId"], "111122223333");
  EXPECT_EQ(d["sourceIPAddress"], "10.0.1.17");
  EXPECT_EQ(d["userAgent"], "/usr/bin/whoami");
  EXPECT_EQ(d["requestParameters"]["commandLine"], "whoami");
  EXPECT_FALSE(d.contains("eventVersion"));  // CloudTrail adds its own
  EXPECT_FALSE(d.contains("eventID"));
}

// aws-wire 4.3: recipientAccountId is the account that owns the channel. Off EC2 the record has no
// account (IMDS gave none); the channel's goes in, and the checksum is of the final eventData.
TEST(LakeEncoder, RecipientAccountIsTheGivenChannelAccount) {
  agent::TrailRecord r = tests::map_corpus("laurel/record-execve.log", 15558);
  r.account_id.clear();
  EXPECT_EQ(Json::parse(agent::make_lake_audit_event(r).event_data)["recipientAccountId"], "");
  const LakeAuditEvent e = agent::make_lake_audit_event(r, "123456789012");
  EXPECT_EQ(Json::parse(e.event_data)["recipientAccountId"], "123456789012");
  EXPECT_EQ(e.event_data_checksum, agent::lake_event_data_checksum(e.event_data));
  // Only that field differs from the record's own rendering.
  agent::TrailRecord same = r;
  same.account_id = "123456789012";
  EXPECT_EQ(e.event_data, agent::make_lake_audit_event(same).event_data);
  // A channel in another account than the instance: the channel's.
  r.account_id = "111122223333";
  EXPECT_EQ(Json::parse(agent::make_lake_audit_event(r, "123456789012").event_data)["recipientAccountId"],
            "123456789012");
  EXPECT_EQ(Json::parse(agent::make_lake_audit_event(r, "").event_data)["recipientAccountId"], "111122223333");
}

TEST(LakeEncoder, RecipientAccountComesFromTheChannelArnElseTheHost) {
  constexpr std::string_view kArn = "arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef";
  EXPECT_EQ(agent::lake_recipient_account(kArn, ""), "123456789012");
  EXPECT_EQ(agent::lake_recipient_account(kArn, "111122223333"), "123456789012");
  EXPECT_EQ(agent::lake_recipient_account("arn:aws-us-gov:cloudtrail:us-gov-west-1:210987654321:channel/x", ""),
            "210987654321");
  EXPECT_EQ(agent::lake_recipient_account("01234567-89ab-cdef-0123-456789abcdef", "111122223333"), "111122223333");
  EXPECT_EQ(agent::lake_recipient_account("arn:aws:cloudtrail:us-east-1:12345:channel/x", "111122223333"),
            "111122223333");  // not an account
  EXPECT_EQ(agent::lake_recipient_account("01234567-89ab-cdef-0123-456789abcdef", ""), "");
}

TEST(LakeEncoder, FieldsStayWithinTheSchemaCaps) {
  agent::TrailRecord r = tests::map_corpus("laurel/record-execve.log", 15558);
  r.command_line = std::string(300'000, 'x');
  r.raw_lines.assign(40, std::string(2'000, 'r'));
  r.result = agent::TrailResult::kFailure;
  r.error_code = std::string(400, 'E');
  r.error_message = std::string(400, 'm');
  r.source_ip = "not-an-ip.example";  // Lake wants an address: left out
  const Json d = Json::parse(agent::make_lake_audit_event(r).event_data);
  EXPECT_LE(d["requestParameters"].dump().size(), 100'000u);
  EXPECT_EQ(d["requestParameters"]["commandLineTruncated"], true);
  EXPECT_GT(d["requestParameters"]["commandLine"].get<std::string>().size(), 10'000u);
  EXPECT_LE(d["additionalEventData"].dump().size(), 28'000u);
  EXPECT_EQ(d["additionalEventData"]["truncated"], true);
  EXPECT_FALSE(d["additionalEventData"].contains("raw"));
  EXPECT_EQ(d["errorCode"].get<std::string>().size(), 256u);
  EXPECT_EQ(d["errorMessage"].get<std::string>().size(), 256u);
  EXPECT_FALSE(d.contains("sourceIPAddress"));
}

std::vector<LakeAuditEvent> numbered(std::size_t n, std::size_t data_bytes) {
  std::vector<LakeAuditEvent> out;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string data = "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(data_bytes, 'p') + "\"}";
    out.push_back({"id-" + std::to_string(i), data, agent::lake_event_data_checksum(data)});
  }
  return out;
}

void expect_all_in_order(const std::vector<agent::LakeRequest>& requests, const std::vector<LakeAuditEvent>& events) {
  std::size_t next = 0;
  for (const auto& req : requests) {
    EXPECT_EQ(req.first, next);
    EXPECT_LE(req.count, agent::kLakeMaxEventsPerRequest);
    const Json body = Json::parse(req.body);
    ASSERT_EQ(body["auditEvents"].size(), req.count);
    std::set<std::string> ids;
    for (const auto& e : body["auditEvents"]) {
      EXPECT_EQ(e["id"], events[next].id);
      EXPECT_EQ(e["eventData"], events[next].event_data);
      EXPECT_EQ(e["eventDataChecksum"], events[next].event_data_checksum);
      EXPECT_TRUE(ids.insert(e["id"].get<std::string>()).second) << "duplicate id in one request";
      ++next;
    }
  }
  EXPECT_EQ(next, events.size());
}

TEST(LakeEncoder, SplitsAtOneHundredEvents) {
  const auto events = numbered(250, 10);
  const auto requests = agent::encode_put_audit_events(events);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].count, 100u);
  EXPECT_EQ(requests[1].count, 100u);
  EXPECT_EQ(requests[2].count, 50u);
  expect_all_in_order(requests, events);
  EXPECT_TRUE(agent::encode_put_audit_events({}).empty());
}

TEST(LakeEncoder, SplitsAtTheByteLimit) {
  const auto events = numbered(40, 90'000);  // ~11 fit in 1 MB
  const auto requests = agent::encode_put_audit_events(events);
  ASSERT_GT(requests.size(), 3u);
  for (const auto& r : requests) {
    EXPECT_LE(r.body.size(), agent::kLakeMaxRequestBytes);
    EXPECT_GE(r.count, 1u);
  }
  // full requests: one more event would not have fitted
  EXPECT_GT(requests[0].body.size() + 90'000, agent::kLakeMaxRequestBytes);
  expect_all_in_order(requests, events);
}

TEST(LakeEncoder, OversizedEventIsSentAloneNotDropped) {
  auto events = numbered(3, 10);
  events[1] = numbered(1, agent::kLakeMaxRequestBytes)[0];
  events[1].id = "big";
  const auto requests = agent::encode_put_audit_events(events);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].ids, std::vector<std::string>{"big"});
  expect_all_in_order(requests, events);
}

TEST(LakeEncoder, RepeatedIdStartsANewRequest) {
  auto events = numbered(4, 10);
  events[2].id = events[0].id;  // the same audit event read twice
  const auto requests = agent::encode_put_audit_events(events);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].count, 2u);
  EXPECT_EQ(requests[1].count, 2u);
  expect_all_in_order(requests, events);
}

TEST(LakeEncoder, ParsesPartialSuccess) {
  const auto parsed = agent::parse_put_audit_events_response(
      R"({"successful":[{"id":"a","eventID":"11111111-2222-3333-4444-555555555555"}],)"
      R"("failed":[{"id":"b","errorCode":"Throttling","errorMessage":"slow down"},{"id":"c","errorCode":"InvalidChecksum"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->successful, (std::vector<agent::LakeSuccess>{{"a", "11111111-2222-3333-4444-555555555555"}}));
  EXPECT_EQ(parsed->failed, (std::vector<agent::LakeFailure>{{"b", "Throttling", "slow down"}, {"c", "InvalidChecksum", ""}}));
  const auto empty = agent::parse_put_audit_events_response(R"({"successful":[],"failed":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->successful.empty());
  for (const char* bad : {"", "[]", "{\"successful\":{}}", "{\"failed\":[{\"id\":\"x\"}]}", "{\"successful\":[{\"id\":1}]}", "{"}) {
    const auto r = agent::parse_put_audit_events_response(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), common::ErrorCode::kParse);
    }
  }
}

TEST(LakeEncoder, TransientAndSetupEntryCodesAreRetriedPayloadErrorsDeadLettered) {
  using agent::LakeFailureAction;
  EXPECT_EQ(agent::classify_lake_failure("Throttling"), LakeFailureAction::kRetry);
  EXPECT_EQ(agent::classify_lake_failure("InternalFailure"), LakeFailureAction::kRetry);
  // A setup problem of the account (spec §4.2 per-entry codes): the event is kept, as for a call-level setup error.
  EXPECT_EQ(agent::classify_lake_failure("AccountNotSubscribed"), LakeFailureAction::kRetry);
  for (const char* code : {"FieldTooLong", "FieldNotFound", "InvalidChecksum", "InvalidData", "InvalidRecipient",
                           "InvalidEventSource", "SomethingNew"})
    EXPECT_EQ(agent::classify_lake_failure(code), LakeFailureAction::kDeadLetter) << code;
}

}  // namespace

namespace {

TEST(LakeEncoder, CorpusEventsRoundTripThroughRequests) {
  std::vector<LakeAuditEvent> events;
  for (const auto& e : tests::corpus_events("audit-userspace/auparse-test-enriched-rhel10.log"))
    events.push_back(agent::make_lake_audit_event(agent::map_event(e, tests::test_host())));
  ASSERT_GT(events.size(), 10u);
  const auto requests = agent::encode_put_audit_events(events);
  std::size_t n = 0;
  for (const auto& req : requests) {
    const Json body = Json::parse(req.body);
    for (const auto& e : body["auditEvents"]) {
      const std::string data = e["eventData"];
      EXPECT_EQ(e["eventDataChecksum"], agent::lake_event_data_checksum(data));
      const Json d = Json::parse(data);
      for (const char* required : {"version", "userIdentity", "eventSource", "eventName", "eventTime", "UID",
                                   "recipientAccountId"})
        EXPECT_TRUE(d.contains(required)) << required;
      EXPECT_TRUE(d["userIdentity"].contains("type") && d["userIdentity"].contains("principalId"));
      ++n;
    }
  }
  EXPECT_EQ(n, events.size());
}

}  // namespace
