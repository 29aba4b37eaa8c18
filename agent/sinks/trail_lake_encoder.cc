#include "agent/sinks/trail_lake_encoder.h"

#include <array>
#include <set>

#include "agent/config/agent_config.h"
#include "common/json/json_writer.h"
#include "common/aws/error_class.h"
#include "common/aws/sigv4.h"

namespace agent {
namespace {

using Json = nlohmann::ordered_json;

std::string base64(const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (std::size_t i = 0; i < n; i += 3) {
    const unsigned b0 = data[i];
    const unsigned b1 = i + 1 < n ? data[i + 1] : 0u;
    const unsigned b2 = i + 2 < n ? data[i + 2] : 0u;
    const unsigned triple = (b0 << 16) | (b1 << 8) | b2;
    out.push_back(kAlphabet[(triple >> 18) & 63]);
    out.push_back(kAlphabet[(triple >> 12) & 63]);
    out.push_back(i + 1 < n ? kAlphabet[(triple >> 6) & 63] : '=');
    out.push_back(i + 2 < n ? kAlphabet[triple & 63] : '=');
  }
  return out;
}

unsigned hex_value(char c) {
  return static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
}

constexpr std::string_view kBodyOpen = "{\"auditEvents\":[";
constexpr std::string_view kBodyClose = "]}";

const Json* member(const Json& j, const char* name, Json::value_t type) {
  const auto it = j.find(name);
  if (it == j.end() || it->type() != type) return nullptr;
  return &*it;
}

}  // namespace

std::string lake_event_data_checksum(std::string_view event_data) {
  const std::string hex = common::aws::sha256_hex(event_data);
  std::array<unsigned char, 32> raw{};
  for (std::size_t i = 0; i < raw.size(); ++i)
    raw[i] = static_cast<unsigned char>((hex_value(hex[2 * i]) << 4) | hex_value(hex[2 * i + 1]));
  return base64(raw.data(), raw.size());
}

LakeAuditEvent make_lake_audit_event(const TrailRecord& record, std::string_view recipient_account_id) {
  LakeAuditEvent e;
  e.id = record.event_id.substr(0, kLakeMaxIdLength);
  e.event_data = render_lake_event_data(record, recipient_account_id);
  e.event_data_checksum = lake_event_data_checksum(e.event_data);
  return e;
}

std::string lake_recipient_account(std::string_view channel_arn, std::string_view host_account_id) {
  std::string account = channel_arn_account(channel_arn);
  return account.empty() ? std::string(host_account_id) : account;
}

std::string put_audit_events_query(std::string_view channel_arn, std::string_view external_id) {
  std::string q = "channelArn=" + common::aws::uri_encode(channel_arn, true);
  if (!external_id.empty()) q += "&externalId=" + common::aws::uri_encode(external_id, true);
  return q;
}

std::vector<LakeRequest> encode_put_audit_events(const std::vector<LakeAuditEvent>& events) {
  std::vector<LakeRequest> out;
  std::set<std::string> ids_in_request;
  LakeRequest current;
  auto finish = [&] {
    if (current.count == 0) return;
    current.body.append(kBodyClose);
    out.push_back(std::move(current));
    current = LakeRequest{};
    ids_in_request.clear();
  };
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::string text;
    common::JsonWriter entry(text);
    entry.begin_object().key("id").value(events[i].id).key("eventData").value(events[i].event_data);
    if (!events[i].event_data_checksum.empty()) entry.key("eventDataChecksum").value(events[i].event_data_checksum);
    entry.end_object();
    if (current.count > 0) {
      const std::size_t size_with = current.body.size() + 1 + text.size() + kBodyClose.size();
      if (current.count >= kLakeMaxEventsPerRequest || size_with > kLakeMaxRequestBytes ||
          ids_in_request.count(events[i].id) != 0)
        finish();
    }
    if (current.count == 0) {
      current.body.assign(kBodyOpen);
      current.first = i;
    } else {
      current.body.push_back(',');
    }
    current.body += text;
    current.ids.push_back(events[i].id);
    ids_in_request.insert(events[i].id);
    ++current.count;
  }
  finish();
  return out;
}

common::Result<PutAuditEventsResponse> parse_put_audit_events_response(std::string_view body) {
  const Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return common::Error(common::ErrorCode::kParse, "PutAuditEvents response is not a JSON object");
  PutAuditEventsResponse out;
  if (const auto it = j.find("successful"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return common::Error(common::ErrorCode::kParse, "PutAuditEvents: successful is not an array");
    for (const auto& s : *it) {
      const Json* id = s.is_object() ? member(s, "id", Json::value_t::string) : nullptr;
      const Json* event_id = s.is_object() ? member(s, "eventID", Json::value_t::string) : nullptr;
      if (id == nullptr || event_id == nullptr)
        return common::Error(common::ErrorCode::kParse, "PutAuditEvents: successful[] entry without id/eventID");
      out.successful.push_back({id->get<std::string>(), event_id->get<std::string>()});
    }
  }
  if (const auto it = j.find("failed"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return common::Error(common::ErrorCode::kParse, "PutAuditEvents: failed is not an array");
    for (const auto& f : *it) {
      const Json* id = f.is_object() ? member(f, "id", Json::value_t::string) : nullptr;
      const Json* code = f.is_object() ? member(f, "errorCode", Json::value_t::string) : nullptr;
      if (id == nullptr || code == nullptr)
        return common::Error(common::ErrorCode::kParse, "PutAuditEvents: failed[] entry without id/errorCode");
      const Json* message = member(f, "errorMessage", Json::value_t::string);
      out.failed.push_back({id->get<std::string>(), code->get<std::string>(),
                            message != nullptr ? message->get<std::string>() : std::string()});
    }
  }
  return out;
}

LakeFailureAction classify_lake_failure(std::string_view error_code) noexcept {
  // The one table (common/aws/error_class): transient and setup codes keep the event, a payload
  // refused for good and an unknown code dead-letter it.
  common::aws::DeliveryClass c{};
  if (!common::aws::classify_aws_code(error_code, c)) return LakeFailureAction::kDeadLetter;
  return c == common::aws::DeliveryClass::kRetry || c == common::aws::DeliveryClass::kSetup
             ? LakeFailureAction::kRetry
             : LakeFailureAction::kDeadLetter;
}

}  // namespace agent
