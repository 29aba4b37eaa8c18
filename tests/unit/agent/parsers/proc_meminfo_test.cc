#include "agent/parsers/proc_meminfo.h"

#include <gtest/gtest.h>

namespace {

using agent::MemInfo;
using agent::parse_proc_meminfo;

constexpr std::string_view kModern =
    "MemTotal:       16316412 kB\n"
    "MemFree:         1834220 kB\n"
    "MemAvailable:   11342420 kB\n"
    "Buffers:          402112 kB\n"
    "Cached:          9012344 kB\n"
    "SwapCached:         1024 kB\n"
    "Active:          5234112 kB\n"
    "Inactive:        8012344 kB\n"
    "Active(anon):    1234112 kB\n"
    "SwapTotal:       2097148 kB\n"
    "SwapFree:        2000000 kB\n"
    "Slab:             412340 kB\n"
    "SReclaimable:     301220 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

TEST(ProcMeminfo, ParsesAndConvertsKilobytesToBytes) {
  MemInfo m;
  ASSERT_TRUE(parse_proc_meminfo(kModern, m).ok());
  EXPECT_EQ(m.total, 16316412ull * 1024);
  EXPECT_EQ(m.free, 1834220ull * 1024);
  EXPECT_EQ(m.available, 11342420ull * 1024);
  EXPECT_TRUE(m.has_available);
  EXPECT_EQ(m.buffers, 402112ull * 1024);
  EXPECT_EQ(m.cached, 9012344ull * 1024);
  EXPECT_EQ(m.swap_cached, 1024ull * 1024);
  EXPECT_EQ(m.active, 5234112ull * 1024);  // not "Active(anon)"
  EXPECT_EQ(m.inactive, 8012344ull * 1024);
  EXPECT_EQ(m.swap_total, 2097148ull * 1024);
  EXPECT_EQ(m.swap_free, 2000000ull * 1024);
  EXPECT_EQ(m.slab, 412340ull * 1024);
  EXPECT_EQ(m.sreclaimable, 301220ull * 1024);
}

TEST(ProcMeminfo, WithoutMemAvailableFallsBackToFreePlusBuffersPlusCached) {
  MemInfo m;
  ASSERT_TRUE(parse_proc_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n", m).ok());
  EXPECT_FALSE(m.has_available);
  EXPECT_EQ(m.available, (100ull + 20 + 300) * 1024);
}

TEST(ProcMeminfo, OverwritesThePreviousParse) {
  MemInfo m;
  ASSERT_TRUE(parse_proc_meminfo(kModern, m).ok());
  ASSERT_TRUE(parse_proc_meminfo("MemTotal: 10 kB\nMemFree: 1 kB\n", m).ok());
  EXPECT_EQ(m.swap_total, 0u);
  EXPECT_FALSE(m.has_available);
  EXPECT_EQ(m.available, 1024u);
}

TEST(ProcMeminfo, Errors) {
  MemInfo m;
  for (std::string_view bad : {
           std::string_view(""),
           std::string_view("MemFree: 1 kB\n"),                         // no MemTotal
           std::string_view("MemTotal: 1 kB\n"),                        // no MemFree
           std::string_view("MemTotal: 1 kB\nMemFree 1 kB\n"),          // no colon
           std::string_view("MemTotal: 1 kB\nMemFree: one kB\n"),       // not a number
           std::string_view("MemTotal: 1 MB\nMemFree: 1 kB\n"),         // unknown unit
           std::string_view("MemTotal: 1 kB extra\nMemFree: 1 kB\n"),   // trailing field
           std::string_view("MemTotal: 18014398509481984 kB\nMemFree: 1 kB\n"),  // * 1024 overflows
           std::string_view(": 5 kB\nMemTotal: 1 kB\nMemFree: 1 kB\n"),  // empty key
           std::string_view("MemTotal: 1 kB\nMemFree: 18014398509481983 kB\nBuffers: 18014398509481983 kB\n"),
       }) {
    const common::Status st = parse_proc_meminfo(bad, m);
    ASSERT_FALSE(st.ok()) << "accepted: " << bad;
    EXPECT_EQ(st.error().code(), common::ErrorCode::kParse);
  }
}

}  // namespace
