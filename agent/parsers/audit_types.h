// Audit record types: the names auditd prints in "type=NAME" and their numbers (linux/audit.h,
// libaudit.h), plus the rule libauparse uses to close an event at a record of a given type.
#pragma once

#include <cstdint>
#include <string_view>

namespace agent {

inline constexpr int32_t kAuditTypeUnknown = -1;  // a name nobody knows ("type=FOO")
inline constexpr int32_t kAuditTypeUserAvc = 1107;
inline constexpr int32_t kAuditTypeSyscall = 1300;
inline constexpr int32_t kAuditTypeEoe = 1320;
inline constexpr int32_t kAuditTypeProctitle = 1327;
inline constexpr int32_t kAuditTypeAvc = 1400;

// "SYSCALL" -> 1300; "UNKNOWN[1420]" -> 1420; "1420" -> 1420; anything else -> kAuditTypeUnknown.
int32_t audit_type_number(std::string_view name) noexcept;

// 1300 -> "SYSCALL"; "" for numbers without a name.
std::string_view audit_type_name(int32_t number) noexcept;

// True when a record of this type ends its event at once (libauparse 3.0.9, measured by feeding
// every type number to it): EOE, PROCTITLE, every type below 1300 (user-space messages:
// USER_*, CRED_*, DAEMON_*, SERVICE_*, LOGIN, ... and unknown names), the labelled-networking
// MAC types 1406..1419, KERNEL (2000) and everything from 2100 up (ANOM_LOGIN_*, RESP_*,
// roles, crypto, virt). SYSCALL, PATH, CWD, EXECVE, AVC, CONFIG_CHANGE, ANOM_ABEND, ... wait
// for EOE, PROCTITLE or the end-of-event timeout.
constexpr bool audit_type_ends_event(int32_t type) noexcept {
  return type < kAuditTypeSyscall || type == kAuditTypeEoe || type == kAuditTypeProctitle ||
         (type >= 1406 && type <= 1419) || type == 2000 || type >= 2100;
}

}  // namespace agent
