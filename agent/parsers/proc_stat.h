// parse_proc_stat: the "cpu" lines of /proc/stat (see proc(5)).
//
//   cpu  4705 356 584 3699 23 23 0 0 0 0      <- aggregate over all online CPUs
//   cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0
//
// Columns, in USER_HZ jiffies: user nice system idle iowait irq softirq steal guest guest_nice.
// Older kernels print fewer (4 before 2.5.41, 7 before 2.6.11, 8 before 2.6.24, 9 before
// 2.6.33); missing ones are 0. guest and guest_nice are already included in user and nice.
// Other lines (intr, ctxt, btime, ...) are skipped.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace agent {

struct CpuTimes {
  uint64_t user = 0;
  uint64_t nice = 0;
  uint64_t system = 0;
  uint64_t idle = 0;
  uint64_t iowait = 0;
  uint64_t irq = 0;
  uint64_t softirq = 0;
  uint64_t steal = 0;
  uint64_t guest = 0;
  uint64_t guest_nice = 0;

  friend bool operator==(const CpuTimes&, const CpuTimes&) = default;
};

struct CpuStatLine {
  uint32_t index = 0;  // N in "cpuN"
  CpuTimes times;
  uint8_t columns = 0;  // how many columns the kernel printed
};

struct ProcStat {
  CpuTimes total;            // the aggregate "cpu" line
  uint8_t total_columns = 0;
  std::vector<CpuStatLine> cpus;  // "cpuN" lines in file order; cleared, capacity kept
};

inline constexpr std::size_t kMinCpuColumns = 4;
inline constexpr std::size_t kMaxCpuColumns = 10;  // extra columns of future kernels are ignored

// Fills `out` (overwriting it). Errors (kParse): no aggregate "cpu" line, a cpu line with fewer
// than kMinCpuColumns columns, a non-numeric or overflowing column, a "cpu" word that is neither
// "cpu" nor "cpuN". On error `out` holds whatever was parsed so far.
[[nodiscard]] common::Status parse_proc_stat(std::string_view text, ProcStat& out);

}  // namespace agent
