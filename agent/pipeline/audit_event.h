// AuditEvent: the records auditd wrote for one kernel or user-space event, grouped by
// (node, timestamp, serial) by AuditAssembler, in the order they arrived. Each record keeps its
// raw line and fields (agent/parsers/audit_record.h); the event also remembers which bytes of
// the source file its lines came from, so a tailer can checkpoint behind delivered events.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/parsers/audit_record.h"

namespace agent {

// Byte range [begin, end) of a line (with its newline) in the source file; begin == end when
// the caller did not say.
struct SourceRange {
  uint64_t begin = 0;
  uint64_t end = 0;

  friend bool operator==(const SourceRange&, const SourceRange&) = default;
};

struct AuditEventId {
  std::string node;  // "" when the lines had no node=
  AuditTimestamp timestamp;

  friend bool operator==(const AuditEventId&, const AuditEventId&) = default;
};

// Why an event was closed.
enum class AuditEventEnd : uint8_t {
  kEndRecord,    // a record that ends events (EOE, PROCTITLE, single-record types)
  kLogTimeout,   // a later record was eoe_timeout newer in log time (libauparse's rule)
  kIdleTimeout,  // tick(): no record for idle_timeout of steady time
  kEvicted,      // too many open events: the oldest was closed
  kFlush,        // flush_all() (end of input, shutdown)
};

struct AuditEvent {
  AuditEventId id;
  std::vector<AuditRecord> records;  // arrival order; an EOE record is kept when it closed the event
  SourceRange source;                // smallest begin .. largest end of its lines
  AuditEventEnd end = AuditEventEnd::kFlush;

  std::string_view node() const noexcept { return id.node; }
  const AuditTimestamp& timestamp() const noexcept { return id.timestamp; }
  uint64_t serial() const noexcept { return id.timestamp.serial; }
};

// "node:sec.mmm:serial" (node and its colon left out when empty), e.g. "1700000000.123:42".
std::string to_string(const AuditEventId& id);
std::string_view to_string(AuditEventEnd end) noexcept;

}  // namespace agent
