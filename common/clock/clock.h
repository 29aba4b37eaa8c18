// Clock: the one way logic reads time. Production uses SystemClock; tests use ManualClock
// (tests/support/manual_clock.h) and advance it instead of sleeping.
#pragma once

#include <chrono>

namespace common {

using WallTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime wall_now() const = 0;      // calendar time, for timestamps on the wire
  virtual SteadyTime steady_now() const = 0;  // monotonic, for intervals and deadlines
};

class SystemClock final : public Clock {
 public:
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace common
