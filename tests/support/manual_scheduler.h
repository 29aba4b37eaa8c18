// ManualScheduler: a Scheduler whose timers fire only when the test advances its ManualClock.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <utility>

#include "common/event/scheduler.h"
#include "tests/support/manual_clock.h"

namespace tests {

class ManualScheduler final : public common::Scheduler {
 public:
  explicit ManualScheduler(ManualClock& clock) : clock_(clock) {}

  common::TimerId schedule_after(std::chrono::nanoseconds delay, std::function<void()> fn) override {
    const common::TimerId id = next_id_++;
    timers_.emplace(std::make_pair(clock_.steady_now() + delay, id), std::move(fn));
    return id;
  }
  void cancel(common::TimerId id) override {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }
  // Moves the clock forward by d, running every timer that falls due, in time order.
  void advance(std::chrono::nanoseconds d) {
    const auto end = clock_.steady_now() + d;
    while (!timers_.empty() && timers_.begin()->first.first <= end) {
      auto it = timers_.begin();
      const auto due = it->first.first;
      auto fn = std::move(it->second);
      timers_.erase(it);
      if (due > clock_.steady_now()) clock_.advance(due - clock_.steady_now());
      fn();
    }
    if (end > clock_.steady_now()) clock_.advance(end - clock_.steady_now());
  }
  std::size_t pending() const { return timers_.size(); }

 private:
  ManualClock& clock_;
  common::TimerId next_id_ = 1;
  std::map<std::pair<common::SteadyTime, common::TimerId>, std::function<void()>> timers_;
};

}  // namespace tests
