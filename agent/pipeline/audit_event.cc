#include "agent/pipeline/audit_event.h"

#include <cstdio>

namespace agent {

std::string to_string(const AuditEventId& id) {
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%lld.%03u:%llu", static_cast<long long>(id.timestamp.sec), id.timestamp.ms,
                static_cast<unsigned long long>(id.timestamp.serial));
  if (id.node.empty()) return stamp;
  return id.node + ":" + stamp;
}

std::string_view to_string(AuditEventEnd end) noexcept {
  switch (end) {
    case AuditEventEnd::kEndRecord: return "end-record";
    case AuditEventEnd::kLogTimeout: return "log-timeout";
    case AuditEventEnd::kIdleTimeout: return "idle-timeout";
    case AuditEventEnd::kEvicted: return "evicted";
    case AuditEventEnd::kFlush: return "flush";
  }
  return "unknown";
}

}  // namespace agent
