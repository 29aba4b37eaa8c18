#include "agent/sinks/notification_output.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace agent {
namespace {

int64_t to_ms(common::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string to_json(const QueuedNotification& n) {
  nlohmann::json attrs = nlohmann::json::array();
  for (const auto& a : n.attributes) attrs.push_back({{"name", a.name}, {"type", a.data_type}, {"value", a.value}});
  nlohmann::json j = {{"alarm", n.alarm_name},
                      {"transition_id", n.transition_id},
                      {"topic", n.topic_arn},
                      {"subject", n.subject},
                      {"message", n.message},
                      {"attributes", std::move(attrs)},
                      {"state_change_time_ms", to_ms(n.state_change_time)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

common::Result<QueuedNotification> parse_queued_notification(std::string_view json) {
  try {
    const auto j = nlohmann::json::parse(json);
    QueuedNotification n;
    n.alarm_name = j.at("alarm").get<std::string>();
    n.transition_id = j.at("transition_id").get<std::uint64_t>();
    n.topic_arn = j.at("topic").get<std::string>();
    n.subject = j.at("subject").get<std::string>();
    n.message = j.at("message").get<std::string>();
    for (const auto& a : j.at("attributes")) {
      n.attributes.push_back({a.at("name").get<std::string>(), a.at("type").get<std::string>(),
                              a.at("value").get<std::string>()});
    }
    n.state_change_time = common::WallTime(std::chrono::milliseconds(j.at("state_change_time_ms").get<int64_t>()));
    if (n.topic_arn.empty() || n.alarm_name.empty()) {
      return common::Error(common::ErrorCode::kParse, "queued notification without alarm or topic");
    }
    return n;
  } catch (const nlohmann::json::exception& e) {
    return common::Error(common::ErrorCode::kParse, fmt::format("queued notification: {}", e.what()));
  }
}

std::vector<QueuedNotification> notifications_for(const AlarmTransition& transition, const SnsAlarmMessage& message) {
  std::vector<QueuedNotification> out;
  for (const auto& topic : transition.actions) {
    out.push_back(QueuedNotification{transition.alarm_name, transition.id, topic, message.subject, message.message,
                                     message.attributes, transition.state_change_time});
  }
  return out;
}

SnsPublishRequest publish_request(const QueuedNotification& n, common::WallTime now,
                                  std::chrono::seconds delayed_after) {
  SnsPublishRequest r;
  r.topic_arn = n.topic_arn;
  r.subject = n.subject;
  r.message = n.message;
  r.attributes = n.attributes;
  const auto delay = std::chrono::duration_cast<std::chrono::seconds>(now - n.state_change_time);
  if (delay > delayed_after) {
    r.attributes.push_back({"trailwatch.delayed", "String", "true"});
    r.attributes.push_back({"trailwatch.delay_seconds", "Number", std::to_string(delay.count())});
  }
  if (is_fifo_topic(n.topic_arn)) {
    r.message_group_id = sns_fifo_id(n.alarm_name);
    r.message_deduplication_id = sns_dedup_id(n.alarm_name, n.transition_id);
  }
  return r;
}

SnsNotificationOutput::SnsNotificationOutput(const common::Clock& clock, common::Scheduler& scheduler,
                                             DurableQueue* queue, SnsPublisher* publisher, LocalSink* local,
                                             Options options)
    : clock_(clock),
      scheduler_(scheduler),
      queue_(queue),
      publisher_(publisher),
      local_(local),
      options_(options),
      own_rng_(options.rng != nullptr ? nullptr : std::make_unique<common::aws::SeededRng>(std::random_device{}())),
      retry_log_limiter_(clock, std::chrono::minutes(10), 3) {
  if (options_.rng == nullptr) options_.rng = own_rng_.get();
  if (queue_ == nullptr) return;
  std::vector<std::uint64_t> bad;
  for (const auto& e : queue_->entries()) {
    auto n = parse_queued_notification(e.data);
    if (n.ok()) {
      parsed_.emplace(e.id, std::move(*n));
    } else {
      spdlog::error("alarms: dropping unreadable queued notification {} in {}: {}", e.id, queue_->path(),
                    n.error().to_string());
      bad.push_back(e.id);
    }
  }
  for (auto id : bad) {
    ++stats_.corrupt;
    if (auto st = queue_->remove(id); !st.ok()) spdlog::error("alarms: {}", st.error().to_string());
  }
}

SnsNotificationOutput::~SnsNotificationOutput() { stop(); }

void SnsNotificationOutput::discard_delivered(const std::function<bool(const QueuedNotification&)>& delivered) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, n] : parsed_) {
    if (delivered(n)) ids.push_back(id);
  }
  for (auto id : ids) {
    parsed_.erase(id);
    if (auto st = queue_->remove(id); !st.ok()) spdlog::error("alarms: {}", st.error().to_string());
  }
}

bool SnsNotificationOutput::queued(std::string_view alarm_name, std::uint64_t transition_id) const {
  return std::any_of(parsed_.begin(), parsed_.end(), [&](const auto& kv) {
    return kv.second.alarm_name == alarm_name && kv.second.transition_id == transition_id;
  });
}

std::size_t SnsNotificationOutput::queued_count() const { return parsed_.size(); }

common::Status SnsNotificationOutput::enqueue(std::vector<QueuedNotification> notifications) {
  if (queue_ == nullptr) {
    for (const auto& n : notifications) {
      write_local(n);
      ++stats_.delivered;
    }
    // Every action recorded: the transition counts as delivered.
    if (!notifications.empty() && on_delivered_) {
      on_delivered_(notifications.front().alarm_name, notifications.front().transition_id);
    }
    return {};
  }
  for (auto& n : notifications) {
    auto id = queue_->append(to_json(n));
    if (!id.ok()) return std::move(id).error().wrap("queueing an alarm notification");
    ++stats_.enqueued;
    parsed_.emplace(*id, std::move(n));
  }
  if (started_) pump();
  return {};
}

void SnsNotificationOutput::start() {
  started_ = true;
  pump();
}

void SnsNotificationOutput::stop() {
  started_ = false;
  for (auto& [topic, lane] : lanes_) {
    if (lane.retry_timer != 0) scheduler_.cancel(lane.retry_timer);
    lane.retry_timer = 0;
  }
}

void SnsNotificationOutput::pump() {
  if (!started_ || queue_ == nullptr || pumping_) return;
  pumping_ = true;
  // The oldest record of each topic is the only one that may go; topics seen once are done.
  std::vector<std::string> seen;
  std::vector<std::uint64_t> to_send;
  for (const auto& [id, n] : parsed_) {  // ids increase with append order
    if (std::find(seen.begin(), seen.end(), n.topic_arn) != seen.end()) continue;
    seen.push_back(n.topic_arn);
    const Lane& l = lane(n.topic_arn);
    if (l.in_flight || l.retry_timer != 0) continue;
    to_send.push_back(id);
  }
  for (auto id : to_send) {
    auto it = parsed_.find(id);
    if (it != parsed_.end()) send(id, it->second);
  }
  pumping_ = false;
}

void SnsNotificationOutput::send(std::uint64_t id, const QueuedNotification& n) {
  SnsPublishRequest req = publish_request(n, clock_.wall_now(), options_.delayed_after);
  if (auto body = encode_sns_publish(req); !body.ok()) {
    ++stats_.rejected;
    spdlog::error("alarms: notification for \"{}\" (transition {}) to {} cannot be sent and is dropped: {}",
                  n.alarm_name, n.transition_id, n.topic_arn, body.error().to_string());
    scheduler_.post([this, alive = std::weak_ptr<int>(alive_), id] {
      if (alive.expired()) return;
      finish(id);
      pump();
    });
    lane(n.topic_arn).in_flight = true;  // cleared by finish's pump below
    return;
  }
  lane(n.topic_arn).in_flight = true;
  const bool delayed = req.attributes.size() > n.attributes.size();
  publisher_->publish(req, [this, alive = std::weak_ptr<int>(alive_), id, delayed](SnsPublishOutcome outcome) {
    if (alive.expired()) return;
    if (delayed && outcome.result == PublishResult::kDelivered) ++stats_.delayed;
    on_outcome(id, std::move(outcome));
  });
}

void SnsNotificationOutput::on_outcome(std::uint64_t id, SnsPublishOutcome outcome) {
  auto it = parsed_.find(id);
  if (it == parsed_.end()) return;
  const QueuedNotification& n = it->second;
  Lane& l = lane(n.topic_arn);
  l.in_flight = false;
  switch (outcome.result) {
    case PublishResult::kDelivered:
      ++stats_.delivered;
      if (l.backoff.failures() > 0) {
        spdlog::info("alarms: SNS reachable again for {} after {} failed attempt(s)", n.topic_arn,
                     l.backoff.failures());
      }
      l.backoff.reset();
      spdlog::info("alarms: notified {} of \"{}\" (transition {}){}", n.topic_arn, n.alarm_name, n.transition_id,
                   outcome.detail.empty() ? "" : fmt::format(", MessageId {}", outcome.detail));
      finish(id);
      break;
    case PublishResult::kRejected:
      ++stats_.rejected;
      l.backoff.reset();
      spdlog::error("alarms: SNS rejected the notification of \"{}\" (transition {}) to {}; dropped: {}",
                    n.alarm_name, n.transition_id, n.topic_arn, outcome.detail);
      finish(id);
      break;
    case PublishResult::kRetry: {
      ++stats_.failed_attempts;
      const std::chrono::milliseconds backoff = l.backoff.next();
      std::uint64_t suppressed = 0;
      if (retry_log_limiter_.allow(n.topic_arn, &suppressed)) {
        spdlog::warn("alarms: SNS unreachable for {} ({}); {} notification(s) kept, retrying in {} ms{}", n.topic_arn,
                     outcome.detail, queued_count(), backoff.count(),
                     suppressed > 0 ? fmt::format(" ({} similar messages suppressed)", suppressed) : std::string());
      }
      if (!started_) break;
      l.retry_timer = scheduler_.schedule_after(backoff, [this, topic = n.topic_arn] {
        lane(topic).retry_timer = 0;
        pump();
      });
      break;
    }
  }
  pump();
}

SnsNotificationOutput::Lane& SnsNotificationOutput::lane(const std::string& topic) {
  auto it = lanes_.find(topic);
  if (it == lanes_.end()) {
    it = lanes_.try_emplace(topic, common::aws::Backoff(options_.initial_backoff,
                                                        std::max(options_.initial_backoff, options_.max_backoff),
                                                        *options_.rng))
             .first;
  }
  return it->second;
}

void SnsNotificationOutput::finish(std::uint64_t id) {
  auto it = parsed_.find(id);
  if (it == parsed_.end()) return;
  const QueuedNotification n = it->second;
  lane(n.topic_arn).in_flight = false;
  parsed_.erase(it);
  if (!queued(n.alarm_name, n.transition_id) && on_delivered_) on_delivered_(n.alarm_name, n.transition_id);
  if (auto st = queue_->remove(id); !st.ok()) {
    spdlog::error("alarms: {}", st.error().to_string());
  }
}

void SnsNotificationOutput::write_local(const QueuedNotification& n) {
  if (local_ == nullptr) return;
  nlohmann::json payload = nlohmann::json::object();
  for (const auto& [k, v] : sns_publish_fields(publish_request(n, clock_.wall_now(), options_.delayed_after))) {
    payload[k] = v;
  }
  if (auto st = local_->write(clock_.wall_now(), "sns", "Publish", payload); !st.ok()) {
    spdlog::error("alarms: local output: {}", st.error().to_string());
    return;
  }
  ++stats_.local_written;
}

std::string SnsNotificationOutput::describe() const {
  if (publisher_ == nullptr) return "alarms -> local";
  return fmt::format("alarms -> {} ({} queued)", publisher_->describe(), queued_count());
}

}  // namespace agent
