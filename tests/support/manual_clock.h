// ManualClock: a Clock that moves only when a test says so.
#pragma once

#include <chrono>

#include "common/clock/clock.h"

namespace tests {

class ManualClock final : public common::Clock {
 public:
  explicit ManualClock(common::WallTime wall = common::WallTime(std::chrono::seconds(1'700'000'000)))
      : wall_(wall) {}
  common::WallTime wall_now() const override { return wall_; }
  common::SteadyTime steady_now() const override { return steady_; }
  void advance(std::chrono::nanoseconds d) { wall_ += std::chrono::duration_cast<common::WallTime::duration>(d); steady_ += d; }
  void set_wall(common::WallTime t) { wall_ = t; }

 private:
  common::WallTime wall_;
  common::SteadyTime steady_{};
};

}  // namespace tests
