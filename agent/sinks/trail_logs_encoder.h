// CloudWatch Logs PutLogEvents for trail records: one log event per record (the CloudTrail record
// JSON as the message), request bodies within the API limits, rejectedLogEventsInfo parsing and
// log group/stream name templating. Pure. Wire format: shared spec aws-wire-trail-sinks.md section 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pipeline/trail_record.h"
#include "common/result/result.h"

namespace agent {

// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
inline constexpr std::size_t kLogsMaxBatchBytes = 1'048'576;  // sum of UTF-8 message bytes + 26 per event
inline constexpr std::size_t kLogsEventOverheadBytes = 26;
inline constexpr std::size_t kLogsMaxEventsPerBatch = 10'000;
inline constexpr int64_t kLogsMaxBatchSpanMs = 24 * 3600 * 1000;  // a batch may not span more than 24 h
// Per-event cap we keep: the 2026 model allows 1 MB, older docs and agents 256 KiB; the smaller
// value is valid under both (sinks spec 1.3 rule 1).
inline constexpr std::size_t kLogsMaxMessageBytes = 262'144;
inline constexpr std::string_view kLogsTruncationMarker = "...[truncated by trailwatch]";

struct LogEvent {
  int64_t timestamp_ms = 0;
  std::string message;
};

// The record as a log event: timestamp = event time (ms); message = the CloudTrail record, shrunk
// (raw lines, then extra data dropped, truncated=true) to fit kLogsMaxMessageBytes and, only if
// still too long, cut with kLogsTruncationMarker.
LogEvent make_log_event(const TrailRecord& record);

// Cuts `message` to at most max_bytes (UTF-8 safe), ending with kLogsTruncationMarker; unchanged
// when it fits.
std::string truncate_log_message(std::string message, std::size_t max_bytes = kLogsMaxMessageBytes);

struct LogsRequest {
  std::string body;  // {"logGroupName":...,"logStreamName":...,"logEvents":[...]}
  std::size_t count = 0;
  std::size_t payload_bytes = 0;  // sum of message bytes + 26 per event (what the limit counts)
  int64_t first_timestamp_ms = 0;
  int64_t last_timestamp_ms = 0;
};

// Sorts the events by timestamp (stable) and packs them into requests within
// kLogsMaxEventsPerBatch, kLogsMaxBatchBytes and a span < kLogsMaxBatchSpanMs. Messages longer
// than kLogsMaxMessageBytes are truncated with the marker; empty messages become "{}" (the API
// needs at least one character). Never drops an event.
std::vector<LogsRequest> encode_put_log_events(std::string_view log_group, std::string_view log_stream,
                                               std::vector<LogEvent> events);

// rejectedLogEventsInfo of a 200 response; indexes are into the request's logEvents.
struct RejectedLogEvents {
  std::optional<int64_t> too_new_start;  // index >= it: too new
  std::optional<int64_t> too_old_end;    // index < it: too old
  std::optional<int64_t> expired_end;    // index < it: beyond retention
  bool rejected(std::size_t index) const noexcept;
  std::size_t rejected_count(std::size_t event_count) const noexcept;
  bool any() const noexcept { return too_new_start || too_old_end || expired_end; }
};

// kParse on malformed JSON; a body without rejectedLogEventsInfo (or an empty body) = nothing rejected.
[[nodiscard]] common::Result<RejectedLogEvents> parse_put_log_events_response(std::string_view body);

// Expands {instance_id}, {hostname}, {account_id}, {region} (unknown placeholders stay as written).
// {instance_id} falls back to the hostname off EC2. For stream names, ':' and '*' (not allowed)
// become '_'.
std::string expand_log_name_template(std::string_view name_template, const HostContext& host, bool stream_name);

}  // namespace agent
