// Scheduler: timers and deferred work on the one event loop. Logic takes a Scheduler& so tests can
// drive time by hand (tests/support/manual_scheduler.h); production uses AsioScheduler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace common {

using TimerId = std::uint64_t;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // Runs fn once after `delay` (0 = on the next turn of the loop, never inline). Returns an id for cancel().
  virtual TimerId schedule_after(std::chrono::nanoseconds delay, std::function<void()> fn) = 0;
  // Cancels a pending timer; a no-op for one that already ran or was cancelled.
  virtual void cancel(TimerId id) = 0;
  // Runs fn on the next turn of the loop.
  void post(std::function<void()> fn) { schedule_after(std::chrono::nanoseconds(0), std::move(fn)); }
};

class AsioScheduler final : public Scheduler {
 public:
  explicit AsioScheduler(boost::asio::io_context& io) : io_(io) {}
  ~AsioScheduler() override;
  AsioScheduler(const AsioScheduler&) = delete;
  AsioScheduler& operator=(const AsioScheduler&) = delete;

  TimerId schedule_after(std::chrono::nanoseconds delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  std::size_t pending() const { return timers_.size(); }

 private:
  boost::asio::io_context& io_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
};

// Fires fn every `period`, on a fixed grid from the first start (no drift from handler run time);
// a tick that is late by more than a period is skipped rather than run twice.
class PeriodicTimer {
 public:
  PeriodicTimer(Scheduler& scheduler, std::function<std::chrono::steady_clock::time_point()> now);
  ~PeriodicTimer() { stop(); }
  PeriodicTimer(const PeriodicTimer&) = delete;
  PeriodicTimer& operator=(const PeriodicTimer&) = delete;

  void start(std::chrono::nanoseconds period, std::function<void()> fn, std::chrono::nanoseconds first_delay);
  void stop();
  bool running() const { return id_ != 0; }

 private:
  void arm();
  Scheduler& scheduler_;
  std::function<std::chrono::steady_clock::time_point()> now_;
  std::function<void()> fn_;
  std::chrono::nanoseconds period_{};
  std::chrono::steady_clock::time_point next_{};
  TimerId id_ = 0;
};

}  // namespace common
