// map_event: AuditEvent (records grouped by AuditAssembler) -> TrailRecord. Pure; user names come
// from the enriched part of the lines (AUID="alice") or from an injected lookup. Field by field
// rules: docs/trail-mapping.md. The helpers below are exposed for tests and other mappers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/pipeline/audit_event.h"
#include "agent/pipeline/trail_record.h"

namespace agent {

// uid -> user name; std::nullopt when unknown. Default (empty function): no lookup.
using UserNameLookup = std::function<std::optional<std::string>(uint32_t uid)>;

struct TrailMapperOptions {
  UserNameLookup user_name;
  std::size_t max_raw_lines = 64;  // raw audit lines kept per record (EXECVE storms)
};

TrailRecord map_event(const AuditEvent& event, const HostContext& host, const TrailMapperOptions& options = {});

// UUID-shaped (8-4-4-4-12, version nibble 8, RFC 9562 variant) from SHA-256 of
// "<host_id_for_events>|<node>|<sec>.<mmm>|<serial>|<first line>": the same audit event always gets
// the same id, and two events with the same node, time and serial get different ones.
// `first_line`: the raw line of the event's first record (AuditRecord::line(), as read). Why that:
// auditd writes events that share (node, time, serial) but that libauparse and our assembler read
// as two (a LOGIN then the SYSCALL of the same serial: the LOGIN record ends its event), and what
// tells them apart is their records. The first record's line, and not all of them, because it is
// what a re-read sees again: a restart resumes at a checkpoint behind whole events, and an event
// split differently on a re-read (an idle timeout while tailing, none at full speed) still starts
// with the same line. The line carries the record type and, for a SYSCALL, its arguments; only two
// byte-identical first lines with one stamp collide, and those are the same text sent twice.
std::string make_trail_event_id(const HostContext& host, std::string_view node, int64_t sec, uint32_t ms,
                                uint64_t serial, std::string_view first_line);

// arch= value (hex AUDIT_ARCH_*) -> "x86_64", "aarch64", "i386", ...; "" when unknown.
std::string_view audit_arch_name(std::string_view arch_hex) noexcept;
// Syscall name for an arch name ("x86_64", "aarch64"); "" when unknown.
std::string_view syscall_name(std::string_view arch_name, int64_t number) noexcept;
// Positive errno -> "EACCES"; "" when unknown.
std::string_view errno_name(int64_t err) noexcept;

// SOCKADDR saddr= hex -> family/address/port; nullopt when not hex or too short.
std::optional<TrailSocket> decode_sockaddr(std::string_view saddr_hex);

// PROCTITLE value (quoted or hex with NUL separators) -> argv joined with ' '.
std::string decode_proctitle(std::string_view raw);

}  // namespace agent
