// AuditAssembler: groups audit records into events by (node, timestamp, serial), the way
// libauparse 3.0.9 does (tests/differential checks event for event on the shared corpus):
// - a record joins the open event with the same node + timestamp + serial; otherwise it opens
//   a new one (a second event with the same id can follow once the first was closed).
// - an event closes at a record whose type ends events (audit_type_ends_event: EOE, PROCTITLE,
//   single-record user-space types, ...). The closing EOE stays in the event; an EOE that
//   matches no open event is dropped (counted in stats().orphan_eoe).
// - log-time timeout: each record closes every open event whose seconds are log_timeout or more
//   older than its own (libauparse's eoe_timeout, which also compares log timestamps). This is
//   what separates interleaved and lost-EOE events in a file read at full speed.
// - steady-time timeout (ours): tick(now) closes events that got no record for idle_timeout, so
//   a quiet log does not hold its last event back.
// - delivery order is libauparse's: the oldest event (by sec, ms, serial; arrival order on ties)
//   is delivered first, and a newer closed event waits while an older one is still open
//   (see AuditAssemblerOptions::auparse_delivery for the one timing difference).
// - more than max_open_events open events: the oldest is closed (stats().evicted).
// Pure: no I/O, time passed in. Lines that do not parse are counted and skipped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/parsers/audit_record.h"
#include "agent/pipeline/audit_event.h"
#include "common/clock/clock.h"
#include "common/result/result.h"

namespace agent {

struct AuditAssemblerOptions {
  std::chrono::seconds log_timeout{2};  // libauparse's default eoe_timeout is 2 s
  std::chrono::milliseconds idle_timeout{3000};
  std::size_t max_open_events = 1024;
  // false: a closed event is delivered as soon as no older event is open. true: libauparse's
  // exact order, where an event closed by a record that joined it (EOE, PROCTITLE) waits until a
  // record opens a new event (or tick()/flush_all()); the differential test uses this.
  bool auparse_delivery = false;
};

struct AuditAssemblerStats {
  uint64_t lines = 0;          // add_line() calls
  uint64_t corrupt_lines = 0;  // lines that did not parse (skipped)
  uint64_t records = 0;        // records grouped
  uint64_t orphan_eoe = 0;     // EOE records without an open event (dropped)
  uint64_t events = 0;         // events closed
  uint64_t evicted = 0;        // events closed because max_open_events was reached
};

class AuditAssembler {
 public:
  explicit AuditAssembler(AuditAssemblerOptions options = {});

  // Parses one line and adds it. A line that does not parse is counted, skipped (its bytes
  // count as consumed for checkpoint()) and its error returned for the caller to log. `cut`: the
  // reader cut the line at its length cap (the record is marked, see AuditRecord::cut()).
  common::Status add_line(std::string_view line, common::SteadyTime now, SourceRange source = {}, bool cut = false);
  void add(AuditRecord record, common::SteadyTime now, SourceRange source = {});

  // Closes events idle for options.idle_timeout (steady time).
  void tick(common::SteadyTime now);
  // Closes every open event (end of input, shutdown).
  void flush_all();

  // Closed events ready for delivery, oldest first; the caller takes them.
  std::vector<AuditEvent> drain();
  std::size_t ready_count() const noexcept { return ready_.size(); }
  std::size_t open_count() const noexcept;

  // Byte offset up to which every line has been handed out by drain() or skipped: the smallest
  // begin of any line still held (open or undrained events), else the largest end seen. Nothing
  // before any line with a source range was added.
  std::optional<uint64_t> checkpoint() const noexcept;

  const AuditAssemblerStats& stats() const noexcept { return stats_; }
  const AuditAssemblerOptions& options() const noexcept { return options_; }

 private:
  enum class SlotState : uint8_t { kEmpty, kBuilding, kComplete };
  struct Slot {
    SlotState state = SlotState::kEmpty;
    AuditEvent event;
    common::SteadyTime last_record{};
  };

  void close(Slot& slot, AuditEventEnd why);
  void deliver();
  void note_source(SourceRange source) noexcept;

  AuditAssemblerOptions options_;
  AuditAssemblerStats stats_;
  std::vector<Slot> slots_;  // reused in place like libauparse's event array (ties keep its order)
  std::vector<AuditEvent> ready_;
  std::size_t open_ = 0;
  std::optional<uint64_t> high_water_;
};

}  // namespace agent
