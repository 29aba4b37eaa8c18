// The local sink's trail payload: the same CloudTrail record the S3 and CloudWatch Logs sinks
// send, for LocalSink::write(now, kLocalTrailDestination, kLocalTrailApi, payload).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/pipeline/trail_record.h"

namespace agent {

inline constexpr std::string_view kLocalTrailDestination = "trail";
inline constexpr std::string_view kLocalTrailApi = "CloudTrailRecord";

// cloudtrail_event_json(record) as nlohmann::json (key order is the library's sorted order).
nlohmann::json local_trail_payload(const TrailRecord& record);

}  // namespace agent
