// AuditEventFilter: decides which trail records are forwarded, per the config's audit.filters
// (agent/config/agent_config.h). Pure.
//
// One AuditFilter matches a record when every non-empty list matches (AND across lists, OR
// within a list):
//   record_types: any record of the event has that type (case-insensitive: "user_login" works)
//   keys:         any audit rule key of the event equals it
//   users:        a name or number equal to the auid or the uid (names from the enriched log or
//                 the mapper's lookup; numbers as written, "1000")
//   results:      "success" / "failure" (an event without a result matches neither)
// Exclude wins: forwarded = (include is empty or matches) and not (exclude non-empty and matches).
#pragma once

#include "agent/config/agent_config.h"
#include "agent/pipeline/trail_record.h"

namespace agent {

// True when `filter` matches `record` (an empty filter matches everything).
bool audit_filter_matches(const AuditFilter& filter, const TrailRecord& record);

class AuditEventFilter {
 public:
  explicit AuditEventFilter(AuditFilters filters) : filters_(std::move(filters)) {}

  bool accepts(const TrailRecord& record) const;

  const AuditFilters& filters() const noexcept { return filters_; }

 private:
  AuditFilters filters_;
};

}  // namespace agent
