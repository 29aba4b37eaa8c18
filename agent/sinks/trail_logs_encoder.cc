#include "agent/sinks/trail_logs_encoder.h"

#include <algorithm>

#include "common/json/json_writer.h"
#include "common/text/utf8.h"

namespace agent {
namespace {

using Json = nlohmann::ordered_json;

}  // namespace

std::string truncate_log_message(std::string message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return message;
  const std::size_t keep = max_bytes > kLogsTruncationMarker.size() ? max_bytes - kLogsTruncationMarker.size() : 0;
  std::string out = common::utf8::prefix(message, keep);
  out.append(kLogsTruncationMarker.substr(0, max_bytes - out.size()));
  return out;
}

LogEvent make_log_event(const TrailRecord& record) {
  return {record.time_ms, truncate_log_message(render_cloudtrail_event(record, kLogsMaxMessageBytes))};
}

std::vector<LogsRequest> encode_put_log_events(std::string_view log_group, std::string_view log_stream,
                                               std::vector<LogEvent> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const LogEvent& a, const LogEvent& b) { return a.timestamp_ms < b.timestamp_ms; });
  Json head = Json::object();
  head["logGroupName"] = std::string(log_group);
  head["logStreamName"] = std::string(log_stream);
  std::string prefix = dump_json(head);
  prefix.pop_back();  // reopen the object
  prefix += ",\"logEvents\":[";

  std::vector<LogsRequest> out;
  LogsRequest current;
  auto finish = [&] {
    if (current.count == 0) return;
    current.body += "]}";
    out.push_back(std::move(current));
    current = LogsRequest{};
  };
  for (auto& e : events) {
    if (e.message.empty()) e.message = "{}";
    // The limit counts the message's UTF-8 bytes as sent: repair invalid UTF-8 (to U+FFFD, as the
    // JSON writer would) before truncating and measuring.
    if (!common::utf8::is_valid(e.message)) e.message = common::utf8::repaired(e.message);
    e.message = truncate_log_message(std::move(e.message));
    std::string text;
    common::JsonWriter(text).begin_object().key("timestamp").value(e.timestamp_ms).key("message").value(e.message).end_object();
    const std::size_t cost = e.message.size() + kLogsEventOverheadBytes;
    if (current.count > 0 &&
        (current.count >= kLogsMaxEventsPerBatch || current.payload_bytes + cost > kLogsMaxBatchBytes ||
         e.timestamp_ms - current.first_timestamp_ms >= kLogsMaxBatchSpanMs))
      finish();
    if (current.count == 0) {
      current.body = prefix;
      current.first_timestamp_ms = e.timestamp_ms;
    } else {
      current.body.push_back(',');
    }
    current.body += text;
    current.payload_bytes += cost;
    current.last_timestamp_ms = e.timestamp_ms;
    ++current.count;
  }
  finish();
  return out;
}

bool RejectedLogEvents::rejected(std::size_t index) const noexcept {
  const auto i = static_cast<int64_t>(index);
  return (too_new_start && i >= *too_new_start) || (too_old_end && i < *too_old_end) ||
         (expired_end && i < *expired_end);
}

std::size_t RejectedLogEvents::rejected_count(std::size_t event_count) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < event_count; ++i) n += rejected(i) ? 1 : 0;
  return n;
}

common::Result<RejectedLogEvents> parse_put_log_events_response(std::string_view body) {
  RejectedLogEvents out;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return common::Error(common::ErrorCode::kParse, "PutLogEvents response is not a JSON object");
  const auto info = j.find("rejectedLogEventsInfo");
  if (info == j.end() || info->is_null()) return out;
  if (!info->is_object())
    return common::Error(common::ErrorCode::kParse, "PutLogEvents: rejectedLogEventsInfo is not an object");
  auto index = [&](const char* name, std::optional<int64_t>& slot) -> common::Status {
    const auto it = info->find(name);
    if (it == info->end() || it->is_null()) return {};
    if (!it->is_number_integer())
      return common::Error(common::ErrorCode::kParse, std::string("PutLogEvents: ") + name + " is not an integer");
    slot = it->get<int64_t>();
    return {};
  };
  TW_TRY(index("tooNewLogEventStartIndex", out.too_new_start));
  TW_TRY(index("tooOldLogEventEndIndex", out.too_old_end));
  TW_TRY(index("expiredLogEventEndIndex", out.expired_end));
  return out;
}

std::string expand_log_name_template(std::string_view name_template, const HostContext& host, bool stream_name) {
  std::string out;
  std::size_t i = 0;
  while (i < name_template.size()) {
    if (name_template[i] == '{') {
      const std::size_t close = name_template.find('}', i);
      if (close != std::string_view::npos) {
        const std::string_view name = name_template.substr(i + 1, close - i - 1);
        bool known = true;
        if (name == "instance_id") {
          out += host.instance_id.empty() ? host.hostname : host.instance_id;
        } else if (name == "hostname") {
          out += host.hostname;
        } else if (name == "account_id") {
          out += host.account_id;
        } else if (name == "region") {
          out += host.region;
        } else {
          known = false;
        }
        if (known) {
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(name_template[i]);
    ++i;
  }
  if (stream_name) std::replace_if(out.begin(), out.end(), [](char c) { return c == ':' || c == '*'; }, '_');
  return out;
}

}  // namespace agent
