// OutboxStats: the one shape of every output's delivery counters (docs/delivery.md), kept by the
// Outbox and shown by `trailwatch status` and the periodic status line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/clock/clock.h"

namespace agent::delivery {

struct OutboxStats {
  // Counters (since start).
  std::uint64_t submitted = 0;         // accepted by submit()
  std::uint64_t rejected_full = 0;     // submit() said kFull (kBlock: the producer paused; kRefuseNew: the caller dropped)
  std::uint64_t delivered = 0;         // settled: accepted by the service
  std::uint64_t refused = 0;           // settled: refused for good by the service (never sent again)
  std::uint64_t dropped_overflow = 0;  // settled: dropped to make room (kDropOldest)
  std::uint64_t resent = 0;            // items put back after kRetry / kSetup and sent again
  std::uint64_t attempts = 0;          // batches sent
  std::uint64_t failed_attempts = 0;   // batches with at least one item put back
  std::uint64_t setup_failures = 0;    // batches with a setup problem (permissions, missing resource)
  std::uint64_t bytes_sent = 0;        // payload bytes of settled-delivered items
  std::uint64_t outages = 0;           // times delivery began failing
  std::uint64_t recoveries = 0;        // times it delivered again after an outage
  std::uint64_t spooled = 0;           // records appended to the spool
  std::uint64_t spool_replayed = 0;    // records read back from the spool at start
  std::uint64_t spool_errors = 0;      // spool writes or removals that failed
  // Gauges (now).
  std::size_t queued_items = 0;  // waiting or in flight
  std::size_t queued_bytes = 0;
  std::size_t in_flight_items = 0;
  std::optional<common::WallTime> last_success;
  std::optional<common::WallTime> outage_since;  // set while delivery fails
  std::string last_error;
};

}  // namespace agent::delivery
