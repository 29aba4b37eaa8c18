// Time rendering shared by every wire format: ISO-8601 UTC ("2026-11-24T05:12:03.250Z").
#pragma once

#include <string>

#include "common/clock/clock.h"

namespace common {

// ISO-8601 in UTC with a 'Z'; milliseconds when `millis` is true.
std::string format_iso8601(WallTime t, bool millis = true);

// Same, appended to `out` (no allocation when out has capacity).
void append_iso8601(std::string& out, WallTime t, bool millis = true);

}  // namespace common
