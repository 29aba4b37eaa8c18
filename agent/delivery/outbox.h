// Outbox: the one delivery mechanism in front of an output (docs/delivery.md).
//
//   producer --submit(payload)--> Outbox --batch--> Transport --> AWS API / local file
//                                   ^---- one Disposition per item ----'
//
// The Outbox owns what every output used to do its own way: the queue and its bounds in bytes,
// cutting batches to the transport's limits, one batch in flight, settling each item by the
// transport's per-item answer, the one backoff (full jitter, reset on success; a setup problem
// waits the cap), the optional spool (a DurableQueue: for data with no other durable home), the
// outage and recovery log lines, and one OutboxStats shape. It knows no API: the transport maps
// an answer to a common::aws::DeliveryClass per item.
//
// Settlement: kDelivered and kRefused settle an item (on_settled is called, the spool record is
// removed); kRetry and kSetup put it back at the front, in order, for the next attempt. Overflow is
// the output's policy: kBlock (submit says kFull; the producer pauses: the audit log is the buffer),
// kDropOldest (metrics: the oldest queued items make room, counted as dropped), kRefuseNew (SNS:
// submit says kFull and the caller counts and logs it: never a silent drop).
//
// Threading: one thread (the event loop); callbacks run from the scheduler, never inline in submit.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/delivery/outbox_stats.h"
#include "agent/pipeline/durable_queue.h"
#include "common/aws/error_class.h"
#include "common/aws/retry.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/log/log.h"

namespace agent::delivery {

using Disposition = common::aws::DeliveryClass;

struct OutboxItem {
  std::uint64_t id = 0;        // the Outbox's own, increasing; given back in on_settled
  std::string payload;         // what the transport encodes or sends as is
  std::uint64_t spool_id = 0;  // its spool record; 0 = not spooled
  int attempts = 0;            // sends that ended in kRetry / kSetup
};

// The answer to one batch: one disposition per item (same order), and what went wrong, if anything.
struct BatchResult {
  std::vector<Disposition> dispositions;
  std::string error;  // "" on success; the text logged for an outage or a refusal
};

class Transport {
 public:
  struct Limits {
    std::size_t max_items = 1;         // per call
    std::size_t max_bytes = 1 << 20;   // sum of payload sizes per call
  };
  virtual ~Transport() = default;
  virtual Limits limits() const = 0;
  // Starts one call for `batch`; `done` runs once, later (never inline), with one disposition per item.
  virtual void send(std::span<const OutboxItem> batch, std::function<void(BatchResult)> done) = 0;
  virtual std::string describe() const = 0;
};

enum class Overflow { kBlock, kDropOldest, kRefuseNew };
enum class SubmitResult { kAccepted, kFull };

struct OutboxPolicy {
  Overflow overflow = Overflow::kBlock;
  std::size_t max_queued_bytes = 8u << 20;  // payload bytes queued (in flight included)
  std::size_t max_queued_items = 100'000;
  std::chrono::milliseconds linger{0};      // how long a batch that is not full waits for more
  std::chrono::milliseconds backoff_base{1'000};
  std::chrono::milliseconds backoff_cap{300'000};
};

enum class Settlement { kDelivered, kRefused, kDropped };

class Outbox {
 public:
  using SettledFn = std::function<void(const OutboxItem& item, Settlement how)>;

  // spool may be null (no durable copy). Nothing happens until start().
  Outbox(const common::Clock& clock, common::Scheduler& scheduler, Transport& transport, OutboxPolicy policy,
         common::aws::Rng& rng, DurableQueue* spool = nullptr);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void set_on_settled(SettledFn fn) { on_settled_ = std::move(fn); }
  // Queues what the spool holds (oldest first, before anything submitted later), applies the bounds
  // to it (kDropOldest drops the oldest beyond them) and begins sending on the next loop turn.
  void start();

  // Queues a payload (and spools it first, when there is a spool). out_id, if set, gets its id;
  // out_spooled, if set, whether it is on disk (false without a spool or when the write failed).
  SubmitResult submit(std::string payload, std::uint64_t* out_id = nullptr, bool* out_spooled = nullptr);
  // Sends what is queued now (cuts a linger or a backoff short); `done` runs when everything queued
  // at the call is settled, or when the next attempt fails (so a shutdown never waits for an outage).
  void flush(std::function<void()> done);

  bool idle() const { return queue_.empty() && !in_flight_; }
  // Every unsettled item, oldest first (the batch in flight, then the queue).
  void visit_unsettled(const std::function<void(const OutboxItem&)>& fn) const;
  bool full() const;  // a kBlock producer should pause
  const OutboxStats& stats() const { return stats_; }
  std::string describe() const { return transport_.describe(); }

 private:
  struct Waiter {
    std::uint64_t mark;  // done when every id below it is settled
    std::function<void()> done;
  };
  bool fits(std::size_t bytes) const;
  bool over_bounds() const;
  void drop_oldest_while(const std::function<bool()>& cond);
  void settle(OutboxItem& item, Settlement how);
  void pump();
  void send_batch();
  void on_result(BatchResult result);
  void check_waiters(bool attempt_failed);
  void sync_gauges();
  void post_pump();

  const common::Clock& clock_;
  common::Scheduler& scheduler_;
  Transport& transport_;
  OutboxPolicy policy_;
  common::aws::Backoff backoff_;
  DurableQueue* spool_;
  SettledFn on_settled_;
  std::deque<OutboxItem> queue_;  // not in flight, oldest first
  std::vector<OutboxItem> batch_;  // in flight
  std::size_t queued_bytes_ = 0;  // queue_ + in flight
  std::size_t in_flight_items_ = 0;
  bool in_flight_ = false;
  bool send_now_ = false;
  bool started_ = false;
  bool pump_posted_ = false;  // a pump() is already posted for the next loop turn
  common::TimerId linger_timer_ = 0;
  common::TimerId backoff_timer_ = 0;
  std::uint64_t next_id_ = 1;
  std::vector<Waiter> waiters_;
  OutboxStats stats_;
  common::log::RateLimiter limiter_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // callbacks outliving the Outbox
};

}  // namespace agent::delivery
