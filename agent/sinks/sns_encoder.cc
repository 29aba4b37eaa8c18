#include "agent/sinks/sns_encoder.h"

#include <fmt/format.h>

#include "common/aws/sigv4.h"

namespace agent {
namespace {

std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

bool fifo_id_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F;  // letters, digits and ASCII punctuation
}

common::Error invalid(std::string msg) { return common::Error(common::ErrorCode::kInvalidArgument, std::move(msg)); }

}  // namespace

bool is_fifo_topic(std::string_view topic_arn) { return topic_arn.ends_with(kSnsFifoSuffix); }

std::string sns_fifo_id(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (out.size() == kMaxSnsFifoIdChars) break;
    out.push_back(fifo_id_char(c) ? c : '_');
  }
  return out;
}

std::string sns_dedup_id(std::string_view alarm_name, std::uint64_t transition_id) {
  return common::aws::sha256_hex(fmt::format("{}\n{}", alarm_name, transition_id));
}

std::vector<std::pair<std::string, std::string>> sns_publish_fields(const SnsPublishRequest& request) {
  std::vector<std::pair<std::string, std::string>> f;
  f.reserve(6 + 3 * request.attributes.size());
  f.emplace_back("Action", "Publish");
  f.emplace_back("Version", std::string(kSnsApiVersion));
  f.emplace_back("TopicArn", request.topic_arn);
  if (!request.subject.empty()) f.emplace_back("Subject", request.subject);
  f.emplace_back("Message", request.message);
  std::size_t n = 0;
  for (const auto& a : request.attributes) {
    ++n;
    const std::string prefix = fmt::format("MessageAttributes.entry.{}.", n);
    f.emplace_back(prefix + "Name", a.name);
    f.emplace_back(prefix + "Value.DataType", a.data_type);
    f.emplace_back(prefix + "Value.StringValue", a.value);
  }
  if (!request.message_group_id.empty()) f.emplace_back("MessageGroupId", request.message_group_id);
  if (!request.message_deduplication_id.empty()) {
    f.emplace_back("MessageDeduplicationId", request.message_deduplication_id);
  }
  return f;
}

common::Result<std::string> encode_sns_publish(const SnsPublishRequest& request) {
  if (request.topic_arn.empty()) return invalid("Publish: TopicArn is empty");
  if (request.message.empty()) return invalid("Publish: Message is empty");
  if (utf8_chars(request.subject) > kMaxSnsSubjectChars) {
    return invalid(fmt::format("Publish: Subject has {} characters, at most {} allowed", utf8_chars(request.subject),
                               kMaxSnsSubjectChars));
  }
  for (const char c : request.subject) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return invalid("Publish: Subject contains a control character or line break");
  }
  std::size_t bytes = request.message.size();
  for (const auto& a : request.attributes) bytes += a.name.size() + a.data_type.size() + a.value.size();
  if (bytes > kMaxSnsMessageBytes) {
    return invalid(fmt::format("Publish: message and attributes are {} bytes, at most {} allowed", bytes,
                               kMaxSnsMessageBytes));
  }
  for (const std::string* id : {&request.message_group_id, &request.message_deduplication_id}) {
    if (id->size() > kMaxSnsFifoIdChars) {
      return invalid(fmt::format("Publish: FIFO id of {} characters, at most {} allowed", id->size(),
                                 kMaxSnsFifoIdChars));
    }
    for (const char c : *id) {
      if (!fifo_id_char(c)) return invalid("Publish: FIFO id with a character outside a-z A-Z 0-9 and punctuation");
    }
  }
  if (is_fifo_topic(request.topic_arn) &&
      (request.message_group_id.empty() || request.message_deduplication_id.empty())) {
    return invalid("Publish: a FIFO topic needs MessageGroupId and MessageDeduplicationId");
  }
  std::string body;
  for (const auto& [k, v] : sns_publish_fields(request)) {
    if (!body.empty()) body.push_back('&');
    body += common::aws::uri_encode(k, true);
    body.push_back('=');
    body += common::aws::uri_encode(v, true);
  }
  return body;
}

}  // namespace agent
