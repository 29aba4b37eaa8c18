// parse_proc_meminfo: /proc/meminfo (see proc(5)), lines of "Key:   value [kB]".
//
//   MemTotal:       16316412 kB
//   MemAvailable:   11342420 kB    <- since Linux 3.14
//   HugePages_Total:       0       <- no unit: a plain count
//
// Values in kB are converted to bytes. Keys we do not use are checked for shape and skipped.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result/result.h"

namespace agent {

struct MemInfo {
  uint64_t total = 0;      // MemTotal, bytes
  uint64_t free = 0;       // MemFree
  uint64_t available = 0;  // MemAvailable, or free + buffers + cached when the kernel lacks it
  uint64_t buffers = 0;    // Buffers
  uint64_t cached = 0;     // Cached
  uint64_t active = 0;     // Active
  uint64_t inactive = 0;   // Inactive
  uint64_t swap_total = 0;
  uint64_t swap_free = 0;
  uint64_t swap_cached = 0;
  uint64_t slab = 0;
  uint64_t sreclaimable = 0;
  bool has_available = false;  // the kernel printed MemAvailable
};

// Fills `out` (overwriting it). Errors (kParse): a line without ':', a value that is not a
// number (optionally followed by "kB"), a byte value that overflows 64 bits, a missing MemTotal
// or MemFree.
[[nodiscard]] common::Status parse_proc_meminfo(std::string_view text, MemInfo& out);

}  // namespace agent
