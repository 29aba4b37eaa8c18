// The local sink's trail lines: the payload is the same CloudTrail record the S3 and CloudWatch
// Logs sinks send (render_cloudtrail_event), written with LocalSink::write_raw(now,
// kLocalTrailDestination, kLocalTrailApi, payload).
#pragma once

#include <string_view>

namespace agent {

inline constexpr std::string_view kLocalTrailDestination = "trail";
inline constexpr std::string_view kLocalTrailApi = "CloudTrailRecord";

}  // namespace agent
