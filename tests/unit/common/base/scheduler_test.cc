#include "common/event/scheduler.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/manual_scheduler.h"

namespace {

using namespace std::chrono_literals;

TEST(ManualSchedulerTest, RunsTimersInTimeOrderAndHonoursCancel) {
  tests::ManualClock clock;
  tests::ManualScheduler sched(clock);
  std::vector<int> order;
  sched.schedule_after(30ms, [&] { order.push_back(3); });
  sched.schedule_after(10ms, [&] { order.push_back(1); });
  const auto id = sched.schedule_after(20ms, [&] { order.push_back(2); });
  sched.cancel(id);
  sched.advance(25ms);
  EXPECT_EQ(order, (std::vector<int>{1}));
  sched.advance(5ms);
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
}

TEST(PeriodicTimerTest, TicksOnAFixedGridWithoutDrift) {
  tests::ManualClock clock;
  tests::ManualScheduler sched(clock);
  common::PeriodicTimer timer(sched, [&] { return clock.steady_now(); });
  const auto start = clock.steady_now();
  std::vector<std::chrono::milliseconds> at;
  timer.start(100ms, [&] {
    at.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - start));
    clock.advance(7ms);  // handler takes time: must not push later ticks back
  }, 50ms);
  sched.advance(400ms);
  EXPECT_EQ(at, (std::vector<std::chrono::milliseconds>{50ms, 150ms, 250ms, 350ms}));
  timer.stop();
  sched.advance(1s);
  EXPECT_EQ(at.size(), 4u);
  EXPECT_EQ(sched.pending(), 0u);
}

TEST(PeriodicTimerTest, SkipsTicksItIsMoreThanAPeriodLateFor) {
  tests::ManualClock clock;
  tests::ManualScheduler sched(clock);
  common::PeriodicTimer timer(sched, [&] { return clock.steady_now(); });
  const auto start = clock.steady_now();
  std::vector<std::chrono::milliseconds> at;
  timer.start(100ms, [&] {
    at.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now() - start));
    if (at.size() == 1) clock.advance(350ms);  // a stall of 3.5 periods inside the first tick
  }, 0ms);
  sched.advance(1ms);
  ASSERT_EQ(at.size(), 1u);
  sched.advance(200ms);  // to 550 ms: the overdue tick once (at 350), then back on the grid at 400 and 500
  EXPECT_EQ(at, (std::vector<std::chrono::milliseconds>{0ms, 350ms, 400ms, 500ms}));
}

TEST(PeriodicTimerTest, HandlerMayStopItsOwnTimer) {
  tests::ManualClock clock;
  tests::ManualScheduler sched(clock);
  common::PeriodicTimer timer(sched, [&] { return clock.steady_now(); });
  int ticks = 0;
  timer.start(10ms, [&] {
    if (++ticks == 2) timer.stop();
  }, 10ms);
  sched.advance(100ms);
  EXPECT_EQ(ticks, 2);
  EXPECT_FALSE(timer.running());
}

TEST(AsioSchedulerTest, RunsPostedWorkLaterNotInlineAndCancels) {
  boost::asio::io_context io;
  common::AsioScheduler sched(io);
  std::vector<int> order;
  sched.post([&] { order.push_back(1); });
  const auto id = sched.schedule_after(1ms, [&] { order.push_back(99); });
  sched.schedule_after(2ms, [&] { order.push_back(2); });
  order.push_back(0);
  sched.cancel(id);
  io.run();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(sched.pending(), 0u);
}

}  // namespace
