#include "agent/pipeline/metric_sample.h"

namespace agent {

std::string_view unit_name(Unit unit) noexcept {
  switch (unit) {
    case Unit::kNone: return "None";
    case Unit::kPercent: return "Percent";
    case Unit::kBytes: return "Bytes";
    case Unit::kKilobytes: return "Kilobytes";
    case Unit::kMegabytes: return "Megabytes";
    case Unit::kBits: return "Bits";
    case Unit::kCount: return "Count";
    case Unit::kSeconds: return "Seconds";
    case Unit::kMilliseconds: return "Milliseconds";
    case Unit::kMicroseconds: return "Microseconds";
    case Unit::kBytesPerSecond: return "Bytes/Second";
    case Unit::kBitsPerSecond: return "Bits/Second";
    case Unit::kCountPerSecond: return "Count/Second";
  }
  return "None";
}

}  // namespace agent
