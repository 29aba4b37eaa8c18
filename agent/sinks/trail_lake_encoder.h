// CloudTrail Lake PutAuditEvents (service cloudtrail-data): request bodies and response parsing.
// Pure; the sink sends each body as POST /PutAuditEvents?<put_audit_events_query()> with
// Content-Type: application/json. Wire format: shared spec aws-wire.md section 4.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pipeline/trail_record.h"
#include "common/result/result.h"

namespace agent {

// https://docs.aws.amazon.com/awscloudtraildata/latest/APIReference/API_PutAuditEvents.html
inline constexpr std::size_t kLakeMaxEventsPerRequest = 100;
inline constexpr std::size_t kLakeMaxRequestBytes = 1'000'000;  // "1 MB"; decimal, the stricter reading
inline constexpr std::size_t kLakeMaxIdLength = 128;             // id: 1-128 of [-_A-Za-z0-9]

struct LakeAuditEvent {
  std::string id;                   // the record's eventID (a UUID fits the id pattern)
  std::string event_data;           // render_lake_event_data(): compact JSON text
  std::string event_data_checksum;  // base64(SHA-256(event_data))
};

// recipient_account_id: the account that owns the channel (lake_recipient_account()), written as
// eventData recipientAccountId (aws-wire 4.3) in place of the record's own account (the IMDS one,
// "" off EC2); empty = keep the record's. The checksum covers the final eventData.
LakeAuditEvent make_lake_audit_event(const TrailRecord& record, std::string_view recipient_account_id = {});

// The eventData recipientAccountId for a channel: the account in the channel ARN
// (arn:<partition>:cloudtrail:<region>:<account>:channel/<id>), else `host_account_id` (IMDS), else "".
std::string lake_recipient_account(std::string_view channel_arn, std::string_view host_account_id);

// base64 of the raw SHA-256 of the bytes (eventDataChecksum).
std::string lake_event_data_checksum(std::string_view event_data);

// "channelArn=<uri-encoded>[&externalId=<uri-encoded>]" (no leading '?').
std::string put_audit_events_query(std::string_view channel_arn, std::string_view external_id = {});

struct LakeRequest {
  std::string body;              // {"auditEvents":[...]}
  std::size_t first = 0;         // index of its first event in the input
  std::size_t count = 0;         // events [first, first + count)
  std::vector<std::string> ids;  // in body order
};

// Packs events in order into requests of <= kLakeMaxEventsPerRequest events and
// <= kLakeMaxRequestBytes bytes, with ids unique within a request. Never drops: an event too big
// for any request is sent alone (the service will answer for it).
std::vector<LakeRequest> encode_put_audit_events(const std::vector<LakeAuditEvent>& events);

struct LakeSuccess {
  std::string id;
  std::string event_id;  // CloudTrail's eventID
  bool operator==(const LakeSuccess&) const = default;
};
struct LakeFailure {
  std::string id;
  std::string error_code;
  std::string error_message;
  bool operator==(const LakeFailure&) const = default;
};
struct PutAuditEventsResponse {
  std::vector<LakeSuccess> successful;
  std::vector<LakeFailure> failed;
};

// 200 body. kParse on malformed JSON or missing/mistyped members.
[[nodiscard]] common::Result<PutAuditEventsResponse> parse_put_audit_events_response(std::string_view body);

// What to do with a failed[] entry (aws-wire 4.2): only Throttling and InternalFailure are
// transient (resend the entry); everything else (FieldTooLong, FieldNotFound, InvalidChecksum,
// InvalidData, InvalidRecipient, InvalidEventSource, AccountNotSubscribed, unknown codes) will
// fail the same way again and goes to the dead-letter spool.
enum class LakeFailureAction { kRetry, kDeadLetter };
LakeFailureAction classify_lake_failure(std::string_view error_code) noexcept;

}  // namespace agent
