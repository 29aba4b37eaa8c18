#include "agent/parsers/proc_stat.h"

#include <gtest/gtest.h>

namespace {

using agent::CpuTimes;
using agent::parse_proc_stat;
using agent::ProcStat;

constexpr std::string_view kModern =
    "cpu  281350 6357 112767 2670950 1168 7 3429 416 4664 24\n"
    "cpu0 139928 3316 57455 1335129 623 3 1797 215 2493 14\n"
    "cpu1 141422 3041 55312 1335821 545 4 1632 201 2171 10\n"
    "intr 1462897 9 0 0 0\n"
    "ctxt 2931487\n"
    "btime 1700000000\n"
    "softirq 1236544 0 231434 3 41232\n";

TEST(ProcStat, ParsesAggregateAndPerCpuLines) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat(kModern, stat).ok());
  EXPECT_EQ(stat.total, (CpuTimes{281350, 6357, 112767, 2670950, 1168, 7, 3429, 416, 4664, 24}));
  EXPECT_EQ(stat.total_columns, 10);
  ASSERT_EQ(stat.cpus.size(), 2u);
  EXPECT_EQ(stat.cpus[0].index, 0u);
  EXPECT_EQ(stat.cpus[0].times, (CpuTimes{139928, 3316, 57455, 1335129, 623, 3, 1797, 215, 2493, 14}));
  EXPECT_EQ(stat.cpus[1].index, 1u);
  EXPECT_EQ(stat.cpus[1].times.guest_nice, 10u);
}

TEST(ProcStat, FourColumnKernelLeavesTheRestZero) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat("cpu  2290 10 900 16300\ncpu0 1090 10 530 8300\ncpu1 1200 0 370 8000\n", stat).ok());
  EXPECT_EQ(stat.total, (CpuTimes{2290, 10, 900, 16300, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(stat.total_columns, 4);
  ASSERT_EQ(stat.cpus.size(), 2u);
  EXPECT_EQ(stat.cpus[1].times, (CpuTimes{1200, 0, 370, 8000, 0, 0, 0, 0, 0, 0}));
}

TEST(ProcStat, SevenColumnKernel) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat("cpu  1 2 3 4 5 6 7\n", stat).ok());
  EXPECT_EQ(stat.total, (CpuTimes{1, 2, 3, 4, 5, 6, 7, 0, 0, 0}));
  EXPECT_EQ(stat.total_columns, 7);
  EXPECT_TRUE(stat.cpus.empty());
}

TEST(ProcStat, ExtraColumnsOfFutureKernelsAreIgnored) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat("cpu  1 2 3 4 5 6 7 8 9 10 11 12\n", stat).ok());
  EXPECT_EQ(stat.total, (CpuTimes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(stat.total_columns, 10);
}

TEST(ProcStat, TabsAndMissingFinalNewline) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat("cpu\t1\t2\t3\t4\ncpu7 5 6 7 8", stat).ok());
  EXPECT_EQ(stat.total.idle, 4u);
  ASSERT_EQ(stat.cpus.size(), 1u);
  EXPECT_EQ(stat.cpus[0].index, 7u);
  EXPECT_EQ(stat.cpus[0].times.idle, 8u);
}

TEST(ProcStat, Errors) {
  ProcStat stat;
  for (std::string_view bad : {
           std::string_view(""),
           std::string_view("intr 1 2 3\nctxt 4\n"),                  // no cpu line at all
           std::string_view("cpu0 1 2 3 4\n"),                        // no aggregate
           std::string_view("cpu  1 2 3\n"),                          // too few columns
           std::string_view("cpu  1 2 x 4\n"),                        // not a number
           std::string_view("cpu  1 2 -3 4\n"),                       // negative
           std::string_view("cpu  1 2 3 18446744073709551616\n"),     // overflows 64 bits
           std::string_view("cpu  1 2 3 4\ncpuX 1 2 3 4\n"),          // bad cpu name
           std::string_view("cpu  1 2 3 4\ncpu 5 6 7 8\n"),           // two aggregates
           std::string_view("cpu  1 2 3 4\ncpu1 1 2 3\n"),            // short per-cpu line
       }) {
    const common::Status st = parse_proc_stat(bad, stat);
    ASSERT_FALSE(st.ok()) << "accepted: " << bad;
    EXPECT_EQ(st.error().code(), common::ErrorCode::kParse);
  }
}

TEST(ProcStat, ErrorNamesTheLine) {
  ProcStat stat;
  const common::Status st = parse_proc_stat("cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 z 4\n", stat);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("line 3"), std::string::npos) << st.error().message();
}

TEST(ProcStat, ReusesCapacityAcrossParses) {
  ProcStat stat;
  ASSERT_TRUE(parse_proc_stat(kModern, stat).ok());
  const auto* data = stat.cpus.data();
  const std::size_t capacity = stat.cpus.capacity();
  ASSERT_TRUE(parse_proc_stat("cpu  1 2 3 4\ncpu0 1 2 3 4\n", stat).ok());
  EXPECT_EQ(stat.cpus.size(), 1u);
  ASSERT_TRUE(parse_proc_stat(kModern, stat).ok());
  EXPECT_EQ(stat.cpus.data(), data);
  EXPECT_EQ(stat.cpus.capacity(), capacity);
  EXPECT_EQ(stat.cpus.size(), 2u);
}

}  // namespace
