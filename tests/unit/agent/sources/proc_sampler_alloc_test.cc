// Steady-state sampling must not allocate. This binary replaces the global allocation functions
// with counting ones (so it is its own test program) and counts across samples 3..10.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "agent/sources/proc_sampler.h"
#include "tests/unit/agent/sources/proc_tree.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};

void* counted_alloc(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = counted_alloc(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

// stat / net/dev content whose counters advance with `round`, prepared before counting starts.
std::string stat_for(int round) {
  std::string s;
  char line[256];
  const long r = round;
  std::snprintf(line, sizeof line, "cpu  %ld %ld %ld %ld 10 0 5 1 0 0\n", 2000 + 30 * r, 40 + r, 900 + 12 * r,
                80000 + 150 * r);
  s += line;
  for (int cpu = 0; cpu < 4; ++cpu) {
    std::snprintf(line, sizeof line, "cpu%d %ld %ld %ld %ld 2 0 1 0 0 0\n", cpu, 500 + 7 * r + cpu, 10 + r / 2,
                  225 + 3 * r, 20000 + 37 * r);
    s += line;
  }
  s += "intr 12345 0 0\nctxt 999\n";
  return s;
}

std::string net_dev_for(int round) {
  std::string s =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier "
      "compressed\n";
  char line[512];
  for (const char* name : {"lo", "eth0", "eth1", "docker0"}) {
    const long r = round;
    std::snprintf(line, sizeof line, "%6s: %ld %ld 0 0 0 0 0 0 %ld %ld 0 0 0 0 0 0\n", name, 100000 + 1500 * r,
                  100 + 3 * r, 50000 + 900 * r, 80 + 2 * r);
    s += line;
  }
  return s;
}

TEST(ProcSamplerAllocations, SteadyStateSamplingDoesNotAllocate) {
  tests::ProcTree tree;
  tree.load("two_cpu", "t0");  // meminfo (constant from here on)
  agent::ProcSamplerOptions options;
  options.proc_root = tree.root().string();
  options.per_cpu = true;
  agent::ProcSampler sampler(options);

  constexpr int kRounds = 10;
  std::vector<std::string> stats, nets;
  for (int r = 0; r < kRounds; ++r) {
    stats.push_back(stat_for(r));
    nets.push_back(net_dev_for(r));
  }

  std::vector<agent::MetricSample> out;
  long allocations = 0;
  std::size_t emitted_last = 0;
  for (int r = 0; r < kRounds; ++r) {
    tree.write("stat", stats[r]);
    tree.write("net/dev", nets[r]);
    const bool count = r >= 2;  // samples 3..10
    g_allocations.store(0);
    g_counting.store(count);
    const common::Status st = sampler.sample(common::WallTime(std::chrono::seconds(1'700'000'000 + 60 * r)), out);
    g_counting.store(false);
    allocations += g_allocations.load();
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    emitted_last = out.size();
  }
  EXPECT_EQ(allocations, 0);
  // 5 cpu lines x 11 + 13 memory/swap + 3 interfaces (lo excluded) x 8.
  EXPECT_EQ(emitted_last, 5u * 11 + 13 + 3 * 8);
  EXPECT_EQ(sampler.stats().counter_resets, 0u);
}

TEST(ProcSamplerAllocations, CounterIsLive) {
  // Guards the test above against a counter that never counts.
  g_allocations.store(0);
  g_counting.store(true);
  auto* p = new std::string(100, 'x');
  g_counting.store(false);
  delete p;
  EXPECT_GE(g_allocations.load(), 1);
}

}  // namespace
