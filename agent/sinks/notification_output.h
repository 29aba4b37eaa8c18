// SnsNotificationOutput: delivers alarm notifications to SNS through a DurableQueue, so none is lost
// while SNS is unreachable or the agent restarts, and none is sent twice in normal operation.
//
//   enqueue(notifications)  -> one queue record per (transition, topic), fsync'd, then delivery starts
//   per topic: the oldest record is published, one at a time; delivered -> removed; retryable
//   failure -> kept, the topic waits (backoff doubling from initial_backoff to max_backoff) and tries
//   again; client error (4xx: invalid topic, no permission) -> dropped with an error log, counted.
//   When the last record of a transition leaves the queue, on_delivered(alarm, transition id) runs
//   *before* the record is removed, so the caller can persist "delivered" first (a crash in between
//   leaves a record the caller recognises as delivered at the next start and discards).
//
// A notification published more than delayed_after after its state change carries two extra
// attributes: trailwatch.delayed = "true" (String) and trailwatch.delay_seconds (Number).
// FIFO topics (".fifo") get MessageGroupId = the alarm name and MessageDeduplicationId =
// sns_dedup_id(alarm, transition id).
//
// Without a publisher (no AWS: `trailwatch once`), notifications go to the LocalSink instead, as
// {"destination":"sns","api":"Publish","payload":{<the Publish form fields>}}, and count as
// delivered at once; no queue is needed then.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/alarms/alarm_notification.h"
#include "agent/pipeline/durable_queue.h"
#include "agent/sinks/local_sink.h"
#include "agent/sinks/sns_publisher.h"
#include "common/aws/retry.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/log/log.h"
#include "common/result/result.h"

namespace agent {

// A notification older than this when it is finally published is marked as delayed.
inline constexpr std::chrono::seconds kNotificationDelayedAfter{60};

// One notification for one topic; the DurableQueue record (JSON).
struct QueuedNotification {
  std::string alarm_name;
  std::uint64_t transition_id = 0;
  std::string topic_arn;
  std::string subject;
  std::string message;
  std::vector<SnsMessageAttribute> attributes;
  common::WallTime state_change_time{};
  bool operator==(const QueuedNotification&) const = default;
};

std::string to_json(const QueuedNotification& n);
common::Result<QueuedNotification> parse_queued_notification(std::string_view json);

// One QueuedNotification per action topic of the transition (none when it has no actions).
std::vector<QueuedNotification> notifications_for(const AlarmTransition& transition, const SnsAlarmMessage& message);

// The Publish request for `n` sent at `now`: FIFO ids for .fifo topics, delay attributes if late.
SnsPublishRequest publish_request(const QueuedNotification& n, common::WallTime now,
                                  std::chrono::seconds delayed_after = kNotificationDelayedAfter);

class SnsNotificationOutput {
 public:
  struct Options {
    std::chrono::milliseconds initial_backoff{1'000};
    std::chrono::milliseconds max_backoff{20'000};  // delivery.retry_max_backoff
    std::chrono::seconds delayed_after = kNotificationDelayedAfter;
    common::aws::Rng* rng = nullptr;  // jitter of the backoff; null: seeded here (tests pin it)
  };
  struct Stats {
    std::uint64_t enqueued = 0;
    std::uint64_t delivered = 0;
    std::uint64_t delayed = 0;          // delivered with the delay attributes
    std::uint64_t failed_attempts = 0;  // retryable failures (record kept)
    std::uint64_t rejected = 0;         // client errors and unencodable records (dropped)
    std::uint64_t corrupt = 0;          // queue records that did not parse (dropped)
    std::uint64_t local_written = 0;
  };
  using DeliveredFn = std::function<void(const std::string& alarm_name, std::uint64_t transition_id)>;

  // queue and publisher: both set (SNS) or both null (local sink only; local must then be set).
  SnsNotificationOutput(const common::Clock& clock, common::Scheduler& scheduler, DurableQueue* queue,
                        SnsPublisher* publisher, LocalSink* local, Options options);
  ~SnsNotificationOutput();
  SnsNotificationOutput(const SnsNotificationOutput&) = delete;
  SnsNotificationOutput& operator=(const SnsNotificationOutput&) = delete;

  void set_on_delivered(DeliveredFn fn) { on_delivered_ = std::move(fn); }

  // Drops queued records for which `delivered` says yes (already delivered before a crash). Call
  // before start().
  void discard_delivered(const std::function<bool(const QueuedNotification&)>& delivered);
  // True when some queued record belongs to (alarm, transition id).
  bool queued(std::string_view alarm_name, std::uint64_t transition_id) const;
  std::size_t queued_count() const;

  // Persists the notifications (all or none is an error) and sends them when started.
  common::Status enqueue(std::vector<QueuedNotification> notifications);
  void start();  // begins (or after a restart, resumes) delivery of what is queued
  void stop();   // no new sends; records stay queued (on disk)

  const Stats& stats() const { return stats_; }
  std::string describe() const;

 private:
  struct Lane {
    explicit Lane(common::aws::Backoff b) : backoff(b) {}
    bool in_flight = false;
    common::TimerId retry_timer = 0;
    common::aws::Backoff backoff;  // the one delivery backoff (full jitter), reset on success
  };
  Lane& lane(const std::string& topic);
  void pump();
  void send(std::uint64_t id, const QueuedNotification& n);
  void on_outcome(std::uint64_t id, SnsPublishOutcome outcome);
  void finish(std::uint64_t id);  // delivered or dropped: on_delivered if it was the last, remove
  void write_local(const QueuedNotification& n);

  const common::Clock& clock_;
  common::Scheduler& scheduler_;
  DurableQueue* queue_;
  SnsPublisher* publisher_;
  LocalSink* local_;
  Options options_;
  std::unique_ptr<common::aws::Rng> own_rng_;  // when options_.rng is null
  DeliveredFn on_delivered_;
  std::map<std::uint64_t, QueuedNotification> parsed_;  // queue id -> record
  std::map<std::string, Lane, std::less<>> lanes_;       // by topic
  bool started_ = false;
  bool pumping_ = false;
  common::log::RateLimiter retry_log_limiter_;  // per topic: SNS can be down for hours
  Stats stats_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // publish callbacks outliving this output
};

}  // namespace agent
