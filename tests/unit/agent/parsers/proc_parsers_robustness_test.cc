// Until the fuzz targets exist: deterministic mutations of valid inputs must never crash
// (run under ASan/UBSan) and a parse that succeeds must leave self-consistent output.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "agent/parsers/proc_meminfo.h"
#include "agent/parsers/proc_net_dev.h"
#include "agent/parsers/proc_stat.h"

namespace {

std::string mutate(std::string s, std::mt19937& rng) {
  static constexpr char kAlphabet[] = "0123456789 :\n\t|-xkBcpu\xff";
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const std::size_t at = rng() % s.size();
    switch (rng() % 3) {
      case 0: s[at] = kAlphabet[rng() % (sizeof(kAlphabet) - 1)]; break;
      case 1: s.erase(at, 1 + rng() % 8); break;
      default: s.insert(at, 1, kAlphabet[rng() % (sizeof(kAlphabet) - 1)]); break;
    }
  }
  return s;
}

TEST(ProcParsersRobustness, MutatedInputsNeverCrash) {
  const std::string stat = "cpu  281350 6357 112767 2670950 1168 7 3429 416 4664 24\ncpu0 139928 3316 57455 1335129 623 3 1797 215 2493 14\nintr 1 2\n";
  const std::string meminfo = "MemTotal: 16316412 kB\nMemFree: 1834220 kB\nBuffers: 4 kB\nCached: 9 kB\nHugePages_Total: 0\n";
  const std::string net =
      "Inter-| R | T\n face |b|b\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nlo:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
  std::mt19937 rng(20240601);
  agent::ProcStat ps;
  agent::MemInfo mi;
  agent::ProcNetDev nd;
  int accepted = 0;
  int rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string s = mutate(stat, rng);
    const std::string m = mutate(meminfo, rng);
    const std::string n = mutate(net, rng);
    if (agent::parse_proc_stat(s, ps).ok()) {
      ++accepted;
      EXPECT_GE(ps.total_columns, agent::kMinCpuColumns);
    } else {
      ++rejected;
    }
    if (agent::parse_proc_meminfo(m, mi).ok()) {
      ++accepted;
      if (!mi.has_available) {
        EXPECT_EQ(mi.available, mi.free + mi.buffers + mi.cached);
      }
    } else {
      ++rejected;
    }
    if (agent::parse_proc_net_dev(n, nd).ok()) {
      ++accepted;
      for (const auto& e : nd.interfaces) {
        EXPECT_FALSE(e.name.empty());
        EXPECT_LE(e.name.size(), agent::kMaxInterfaceNameLength);
      }
    } else {
      ++rejected;
    }
  }
  // Both outcomes must occur, or the mutations are not exercising anything.
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 100);
}

}  // namespace
