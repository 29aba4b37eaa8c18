// Pure parsers and formatters for the human units used in configuration files:
// durations ("500ms", "10s", "1h30m", "2d") and sizes ("64MiB", "10MB", "100B", "4096").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace common {

// One or more <integer><unit> parts, units ms, s, m, h, d ("1h30m" = 90 minutes).
// A bare number is an error (the message says to add a unit); so are negatives, fractions,
// unknown units and values that overflow.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// <integer>[unit]: B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (powers of 1024).
// No unit means bytes. Negative values, fractions, unknown units and overflow are errors.
Result<uint64_t> parse_size(std::string_view text);

// Inverse of parse_duration: "0s", "500ms", "1m30s", "1d2h". parse_duration(format_duration(d)) == d.
std::string format_duration(std::chrono::milliseconds duration);

// The largest exact unit: binary first ("64MiB"), then decimal ("10MB"), else bytes ("1000001B").
std::string format_size(uint64_t bytes);

}  // namespace common
