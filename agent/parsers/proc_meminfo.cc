#include "agent/parsers/proc_meminfo.h"

#include <array>
#include <limits>
#include <string>

#include "agent/parsers/proc_text.h"

namespace agent {
namespace {

struct Field {
  std::string_view key;
  uint64_t MemInfo::*member;
};

constexpr std::array<Field, 12> kFields = {{
    {"MemTotal", &MemInfo::total},
    {"MemFree", &MemInfo::free},
    {"MemAvailable", &MemInfo::available},
    {"Buffers", &MemInfo::buffers},
    {"Cached", &MemInfo::cached},
    {"Active", &MemInfo::active},
    {"Inactive", &MemInfo::inactive},
    {"SwapTotal", &MemInfo::swap_total},
    {"SwapFree", &MemInfo::swap_free},
    {"SwapCached", &MemInfo::swap_cached},
    {"Slab", &MemInfo::slab},
    {"SReclaimable", &MemInfo::sreclaimable},
}};

common::Error parse_error(std::size_t line_number, std::string_view what) {
  std::string message = "/proc/meminfo line ";
  message += std::to_string(line_number);
  message += ": ";
  message += what;
  return common::Error(common::ErrorCode::kParse, std::move(message));
}

}  // namespace

common::Status parse_proc_meminfo(std::string_view text, MemInfo& out) {
  out = MemInfo{};
  bool have_total = false;
  bool have_free = false;

  std::string_view rest = text;
  std::string_view line;
  std::size_t line_number = 0;
  while (proc_text::next_line(rest, line)) {
    ++line_number;
    if (proc_text::trim(line).empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return parse_error(line_number, "expected 'Key: value'");
    const std::string_view key = line.substr(0, colon);
    std::string_view values = line.substr(colon + 1);
    const std::string_view number = proc_text::next_token(values);
    const std::string_view unit = proc_text::next_token(values);
    if (!proc_text::next_token(values).empty()) return parse_error(line_number, "trailing fields");
    uint64_t value = 0;
    if (!proc_text::parse_u64(number, value)) return parse_error(line_number, "bad number");
    if (unit == "kB") {
      if (value > std::numeric_limits<uint64_t>::max() / 1024) return parse_error(line_number, "value overflows");
      value *= 1024;
    } else if (!unit.empty()) {
      return parse_error(line_number, "unknown unit");
    }
    for (const Field& field : kFields) {
      if (field.key == key) {
        out.*field.member = value;
        if (field.member == &MemInfo::total) have_total = true;
        if (field.member == &MemInfo::free) have_free = true;
        if (field.member == &MemInfo::available) out.has_available = true;
        break;
      }
    }
  }
  if (!have_total || !have_free) {
    return common::Error(common::ErrorCode::kParse, "/proc/meminfo: MemTotal or MemFree missing");
  }
  if (!out.has_available) {
    // Kernels before 3.14: the classic estimate (what free(1) and telegraf/gopsutil fall back to).
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    if (out.buffers > max - out.free || out.cached > max - out.free - out.buffers) {
      return common::Error(common::ErrorCode::kParse, "/proc/meminfo: free + buffers + cached overflows");
    }
    out.available = out.free + out.buffers + out.cached;
  }
  return {};
}

}  // namespace agent
