#include "common/event/scheduler.h"

#include <spdlog/spdlog.h>

namespace common {

AsioScheduler::~AsioScheduler() {
  for (auto& [id, timer] : timers_) timer->cancel();
}

TimerId AsioScheduler::schedule_after(std::chrono::nanoseconds delay, std::function<void()> fn) {
  const TimerId id = next_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(delay);
  timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& ec) noexcept {
    if (ec) return;  // cancelled: the entry is already gone
    timers_.erase(id);
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("timer handler failed: {}", e.what());
    }
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void AsioScheduler::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->cancel();
  timers_.erase(it);
}

PeriodicTimer::PeriodicTimer(Scheduler& scheduler, std::function<std::chrono::steady_clock::time_point()> now)
    : scheduler_(scheduler), now_(std::move(now)) {}

void PeriodicTimer::start(std::chrono::nanoseconds period, std::function<void()> fn,
                          std::chrono::nanoseconds first_delay) {
  stop();
  period_ = period;
  fn_ = std::move(fn);
  next_ = now_() + first_delay;
  arm();
}

void PeriodicTimer::stop() {
  if (id_ != 0) scheduler_.cancel(id_);
  id_ = 0;
}

void PeriodicTimer::arm() {
  const auto now = now_();
  const auto delay = next_ > now ? next_ - now : std::chrono::nanoseconds(0);
  id_ = scheduler_.schedule_after(delay, [this] {
    id_ = 0;
    // Next grid point strictly after now: a tick that ran late does not cause a burst of catch-ups.
    const auto fired = now_();
    next_ += period_;
    while (next_ <= fired) next_ += period_;
    arm();  // re-arm first, so fn may stop() us
    fn_();
  });
}

}  // namespace common
