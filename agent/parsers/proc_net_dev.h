// parse_proc_net_dev: /proc/net/dev, one line per interface after two header lines.
//
//   Inter-|   Receive                                                |  Transmit
//    face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs ...
//       lo: 1214400   13480    0    0    0     0          0         0  1214400   13480    0 ...
//     eth0:123 4 0 0 0 0 0 0 5 6 0 0 0 0 0 0      <- old kernels: no space after a long name
//
// The kernel prints the name right-aligned, then ':', then 16 counters (8 receive, 8 transmit).
// Counters never contain ':', so the LAST ':' on a line ends the name; names of up to 15
// characters (IFNAMSIZ - 1) may themselves contain ':'.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace agent {

struct NetDevCounters {
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t rx_errs = 0;
  uint64_t rx_drop = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_errs = 0;
  uint64_t tx_drop = 0;

  friend bool operator==(const NetDevCounters&, const NetDevCounters&) = default;
};

struct NetDevEntry {
  std::string_view name;  // a view into the parsed text: copy it before the text changes
  NetDevCounters counters;
};

struct ProcNetDev {
  std::vector<NetDevEntry> interfaces;  // file order; cleared, capacity kept
};

inline constexpr std::size_t kMaxInterfaceNameLength = 15;  // IFNAMSIZ - 1
inline constexpr std::size_t kNetDevColumns = 16;

// Fills `out` (overwriting it). Errors (kParse): missing header lines, a line without ':', an
// empty, too long or blank-containing name, fewer than 16 counters, a non-numeric counter.
[[nodiscard]] common::Status parse_proc_net_dev(std::string_view text, ProcNetDev& out);

}  // namespace agent
