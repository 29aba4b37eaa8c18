#include "agent/delivery/outbox.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace agent::delivery {

Outbox::Outbox(const common::Clock& clock, common::Scheduler& scheduler, Transport& transport, OutboxPolicy policy,
               common::aws::Rng& rng, DurableQueue* spool)
    : clock_(clock),
      scheduler_(scheduler),
      transport_(transport),
      policy_(policy),
      backoff_(std::max(std::chrono::milliseconds(1), policy.backoff_base),
               std::max(policy.backoff_base, policy.backoff_cap), rng),
      spool_(spool),
      limiter_(clock, std::chrono::seconds(60), 3) {}

void Outbox::start() {
  if (started_) return;
  started_ = true;
  if (spool_ != nullptr) {
    std::deque<OutboxItem> restored;
    std::vector<std::uint64_t> submitted;  // spooled by submit() before start(): already queued
    for (const auto& q : queue_) submitted.push_back(q.spool_id);
    for (const auto& e : spool_->entries()) {
      if (std::find(submitted.begin(), submitted.end(), e.id) != submitted.end()) continue;
      OutboxItem item;
      item.id = next_id_++;
      item.payload = e.data;
      item.spool_id = e.id;
      queued_bytes_ += item.payload.size();
      restored.push_back(std::move(item));
      ++stats_.spool_replayed;
    }
    // Spooled items are older than anything submitted before start().
    for (auto it = restored.rbegin(); it != restored.rend(); ++it) queue_.push_front(std::move(*it));
    if (!restored.empty()) {
      spdlog::info("{}: {} item(s) restored from {}; sent first", describe(), restored.size(), spool_->path());
    }
    if (policy_.overflow == Overflow::kDropOldest) drop_oldest_while([this] { return over_bounds() && queue_.size() > 1; });
  }
  sync_gauges();
  send_now_ = spool_ != nullptr && stats_.spool_replayed > 0;  // restored items have waited long enough
  post_pump();
}

Outbox::~Outbox() {
  if (linger_timer_ != 0) scheduler_.cancel(linger_timer_);
  if (backoff_timer_ != 0) scheduler_.cancel(backoff_timer_);
}

bool Outbox::fits(std::size_t bytes) const {
  const std::size_t items = queue_.size() + in_flight_items_;
  return items < policy_.max_queued_items && queued_bytes_ + bytes <= policy_.max_queued_bytes;
}

bool Outbox::full() const { return !fits(0); }

bool Outbox::over_bounds() const {
  return queue_.size() + in_flight_items_ > policy_.max_queued_items || queued_bytes_ > policy_.max_queued_bytes;
}

void Outbox::drop_oldest_while(const std::function<bool()>& cond) {
  std::size_t dropped = 0;
  std::size_t bytes = 0;
  while (!queue_.empty() && cond()) {
    OutboxItem oldest = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= oldest.payload.size();
    ++dropped;
    bytes += oldest.payload.size();
    settle(oldest, Settlement::kDropped);
  }
  if (dropped > 0) {
    limiter_.log(spdlog::level::warn, "overflow",
                 fmt::format("{}: queue full; dropped the oldest {} item(s) ({} bytes) to make room", describe(),
                             dropped, bytes));
  }
}

SubmitResult Outbox::submit(std::string payload, std::uint64_t* out_id, bool* out_spooled) {
  const std::size_t bytes = payload.size();
  if (out_spooled != nullptr) *out_spooled = false;
  // Make room from the oldest items not in flight.
  if (policy_.overflow == Overflow::kDropOldest) drop_oldest_while([&] { return !fits(bytes); });
  // An item larger than the whole bound still goes when it would be alone, so a bound set too small
  // cannot stall the producer for good.
  if (!fits(bytes) && !(queue_.empty() && in_flight_items_ == 0)) {
    ++stats_.rejected_full;
    sync_gauges();
    return SubmitResult::kFull;
  }
  OutboxItem item;
  item.id = next_id_++;
  if (spool_ != nullptr) {
    if (auto sid = spool_->append(payload); sid.ok()) {
      item.spool_id = *sid;
      ++stats_.spooled;
      if (out_spooled != nullptr) *out_spooled = true;
    } else {
      ++stats_.spool_errors;
      limiter_.log(spdlog::level::err, "spool",
                   fmt::format("{}: spooling failed ({}); the item is kept in memory only", describe(),
                               sid.error().to_string()));
    }
  }
  item.payload = std::move(payload);
  if (out_id != nullptr) *out_id = item.id;
  queued_bytes_ += bytes;
  queue_.push_back(std::move(item));
  ++stats_.submitted;
  sync_gauges();
  if (!started_) return SubmitResult::kAccepted;  // start() sends it
  // Never inline: the caller may be submitting many in a row.
  post_pump();
  return SubmitResult::kAccepted;
}

void Outbox::flush(std::function<void()> done) {
  waiters_.push_back({next_id_, std::move(done)});
  send_now_ = true;
  if (backoff_timer_ != 0) {  // one more try now rather than after the backoff
    scheduler_.cancel(backoff_timer_);
    backoff_timer_ = 0;
  }
  check_waiters(false);
  if (started_) pump();
}

void Outbox::settle(OutboxItem& item, Settlement how) {
  switch (how) {
    case Settlement::kDelivered:
      ++stats_.delivered;
      stats_.bytes_sent += item.payload.size();
      break;
    case Settlement::kRefused: ++stats_.refused; break;
    case Settlement::kDropped: ++stats_.dropped_overflow; break;
  }
  if (spool_ != nullptr && item.spool_id != 0) {
    if (auto st = spool_->remove(item.spool_id); !st.ok()) {
      ++stats_.spool_errors;
      limiter_.log(spdlog::level::err, "unspool",
                   fmt::format("{}: removing a settled item from the spool failed ({}); it may be sent again "
                               "after a restart",
                               describe(), st.error().to_string()));
    }
  }
  if (on_settled_) on_settled_(item, how);
}

void Outbox::pump() {
  if (!started_ || in_flight_ || backoff_timer_ != 0 || queue_.empty()) return;
  const auto limits = transport_.limits();
  const bool batch_full = queue_.size() >= limits.max_items || queued_bytes_ >= limits.max_bytes;
  if (send_now_ || batch_full || policy_.linger.count() == 0) {
    if (linger_timer_ != 0) {
      scheduler_.cancel(linger_timer_);
      linger_timer_ = 0;
    }
    send_now_ = false;
    send_batch();
    return;
  }
  if (linger_timer_ == 0) {
    linger_timer_ = scheduler_.schedule_after(policy_.linger, [this, alive = std::weak_ptr<int>(alive_)] {
      if (alive.expired()) return;
      linger_timer_ = 0;
      send_now_ = true;
      pump();
    });
  }
}

void Outbox::send_batch() {
  const auto limits = transport_.limits();
  batch_.clear();
  std::size_t bytes = 0;
  while (!queue_.empty() && batch_.size() < std::max<std::size_t>(1, limits.max_items)) {
    const std::size_t next = queue_.front().payload.size();
    if (!batch_.empty() && bytes + next > limits.max_bytes) break;  // the first item always goes
    bytes += next;
    if (queue_.front().attempts > 0) ++stats_.resent;
    batch_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  in_flight_ = true;
  in_flight_items_ = batch_.size();
  ++stats_.attempts;
  sync_gauges();
  // The Outbox keeps the batch (batch_) until the answer; the transport reads it during send().
  transport_.send(batch_, [this, alive = std::weak_ptr<int>(alive_)](BatchResult result) {
    if (alive.expired()) return;
    on_result(std::move(result));
  });
}

void Outbox::visit_unsettled(const std::function<void(const OutboxItem&)>& fn) const {
  if (in_flight_) {
    for (const auto& item : batch_) fn(item);
  }
  for (const auto& item : queue_) fn(item);
}

void Outbox::on_result(BatchResult result) {
  std::vector<OutboxItem> batch = std::move(batch_);
  batch_.clear();
  in_flight_ = false;
  in_flight_items_ = 0;
  if (result.dispositions.size() != batch.size()) {
    // A transport that answers for the wrong number of items is a bug: keep everything, retry.
    spdlog::error("{}: transport answered {} disposition(s) for {} item(s); all kept", describe(),
                  result.dispositions.size(), batch.size());
    result.dispositions.assign(batch.size(), Disposition::kRetry);
  }
  std::vector<OutboxItem> again;
  bool setup = false;
  std::size_t refused = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    OutboxItem& item = batch[i];
    switch (result.dispositions[i]) {
      case Disposition::kDelivered:
        queued_bytes_ -= item.payload.size();
        settle(item, Settlement::kDelivered);
        break;
      case Disposition::kRefused:
        queued_bytes_ -= item.payload.size();
        ++refused;
        settle(item, Settlement::kRefused);
        break;
      case Disposition::kSetup:
        setup = true;
        [[fallthrough]];
      case Disposition::kRetry:
        ++item.attempts;
        again.push_back(std::move(item));
        break;
    }
  }
  if (refused > 0) {
    limiter_.log(spdlog::level::err, "refused",
                 fmt::format("{}: {} item(s) refused for good{}; not sent again", describe(), refused,
                             result.error.empty() ? std::string() : " (" + result.error + ")"));
  }
  const bool failed = !again.empty();
  for (auto it = again.rbegin(); it != again.rend(); ++it) queue_.push_front(std::move(*it));
  sync_gauges();
  if (!failed) {
    stats_.last_success = clock_.wall_now();
    backoff_.reset();
    if (stats_.outage_since) {
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now() - *stats_.outage_since);
      ++stats_.recoveries;
      spdlog::info("{}: delivering again after {} s of failures; {} item(s) waiting", describe(), secs.count(),
                   queue_.size());
      stats_.outage_since.reset();
    }
    check_waiters(false);
    send_now_ = !queue_.empty();  // what arrived meanwhile has waited a round trip already
    pump();
    return;
  }
  ++stats_.failed_attempts;
  if (setup) ++stats_.setup_failures;
  stats_.last_error = result.error;
  // A setup problem does not go away by itself soon: wait the cap; transient problems back off.
  auto delay = backoff_.next();
  if (setup) delay = backoff_.cap();
  if (!stats_.outage_since) {
    stats_.outage_since = clock_.wall_now();
    ++stats_.outages;
    spdlog::warn("{}: delivery failing ({}); {} item(s) kept, retrying with backoff", describe(), result.error,
                 queue_.size());
  } else {
    limiter_.log(spdlog::level::warn, "failing",
                 fmt::format("{}: still failing ({}); {} item(s) kept, next try in {} ms", describe(), result.error,
                             queue_.size(), delay.count()));
  }
  check_waiters(true);
  backoff_timer_ = scheduler_.schedule_after(delay, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    backoff_timer_ = 0;
    send_now_ = true;
    pump();
  });
}

void Outbox::check_waiters(bool attempt_failed) {
  if (waiters_.empty()) return;
  const std::uint64_t lowest = queue_.empty() ? next_id_ : queue_.front().id;  // nothing in flight here
  std::vector<std::function<void()>> ready;
  std::erase_if(waiters_, [&](Waiter& w) {
    if (attempt_failed || (!in_flight_ && w.mark <= lowest)) {
      ready.push_back(std::move(w.done));
      return true;
    }
    return false;
  });
  for (auto& fn : ready) scheduler_.post(std::move(fn));
}

void Outbox::post_pump() {
  // One pending turn serves every submit before it: a burst of N submits posts one closure, not N.
  if (pump_posted_) return;
  pump_posted_ = true;
  scheduler_.post([this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    pump_posted_ = false;
    pump();
  });
}

void Outbox::sync_gauges() {
  stats_.queued_items = queue_.size() + in_flight_items_;
  stats_.queued_bytes = queued_bytes_;
  stats_.in_flight_items = in_flight_items_;
}

}  // namespace agent::delivery
