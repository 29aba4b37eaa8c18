#include "common/config/units.h"

#include <array>
#include <cctype>
#include <limits>

namespace common {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text);
  out += '"';
  return out;
}

// Reads the leading digits of `text` into `value`; returns how many characters were used
// (0 when there are no digits). Sets `overflow` when the number does not fit.
size_t read_number(std::string_view text, uint64_t& value, bool& overflow) {
  size_t i = 0;
  value = 0;
  overflow = false;
  while (i < text.size() && is_digit(text[i])) {
    const auto digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) overflow = true;
    if (!overflow) value = value * 10 + digit;
    ++i;
  }
  return i;
}

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Ordered largest first so format_duration can decompose greedily.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr uint64_t kKiB = 1024;
constexpr std::array<Unit, 10> kSizeUnits{{
    {"TiB", kKiB * kKiB * kKiB * kKiB},
    {"GiB", kKiB * kKiB * kKiB},
    {"MiB", kKiB * kKiB},
    {"KiB", kKiB},
    {"TB", 1'000'000'000'000},
    {"GB", 1'000'000'000},
    {"MB", 1'000'000},
    {"KB", 1'000},
    {"B", 1},
    {"", 1},
}};

Error duration_error(std::string_view text) {
  return Error(ErrorCode::kParse,
               "expected a duration like \"10s\", got " + quoted(text));
}

Error size_error(std::string_view text) {
  return Error(ErrorCode::kParse, "expected a size like \"64MiB\", got " + quoted(text));
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (!text.empty() && text.front() == '-') {
    return Error(ErrorCode::kParse, "a duration cannot be negative, got " + quoted(text));
  }
  if (text.empty()) return duration_error(text);
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    uint64_t value = 0;
    bool overflow = false;
    const size_t digits = read_number(text.substr(pos), value, overflow);
    if (digits == 0) return duration_error(text);
    pos += digits;
    size_t unit_end = pos;
    while (unit_end < text.size() && is_alpha(text[unit_end])) ++unit_end;
    const std::string_view unit = text.substr(pos, unit_end - pos);
    if (unit.empty()) {
      if (unit_end < text.size()) return duration_error(text);  // "1.5s", "10 s"
      return Error(ErrorCode::kParse, "expected a duration like \"10s\", got " + quoted(text) +
                                          ": add a unit (ms, s, m, h, d)");
    }
    const Unit* found = nullptr;
    for (const Unit& u : kDurationUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) return duration_error(text);
    if (overflow || value > kMax / found->factor || total > kMax - value * found->factor) {
      return Error(ErrorCode::kParse, "duration " + quoted(text) + " is too large");
    }
    total += value * found->factor;
    pos = unit_end;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

Result<uint64_t> parse_size(std::string_view text) {
  if (!text.empty() && text.front() == '-') {
    return Error(ErrorCode::kParse, "a size cannot be negative, got " + quoted(text));
  }
  uint64_t value = 0;
  bool overflow = false;
  const size_t digits = read_number(text, value, overflow);
  if (digits == 0) return size_error(text);
  const std::string_view unit = text.substr(digits);
  for (const Unit& u : kSizeUnits) {
    if (u.name != unit) continue;
    if (overflow || value > std::numeric_limits<uint64_t>::max() / u.factor) {
      return Error(ErrorCode::kParse, "size " + quoted(text) + " is too large");
    }
    return value * u.factor;
  }
  return size_error(text);
}

std::string format_duration(std::chrono::milliseconds duration) {
  int64_t count = duration.count();
  if (count == 0) return "0s";
  std::string out;
  uint64_t rest = 0;
  if (count < 0) {
    out = "-";
    rest = static_cast<uint64_t>(-(count + 1)) + 1;  // safe for INT64_MIN
  } else {
    rest = static_cast<uint64_t>(count);
  }
  for (const Unit& u : kDurationUnits) {
    const uint64_t n = rest / u.factor;
    if (n == 0) continue;
    out += std::to_string(n);
    out += u.name;
    rest -= n * u.factor;
  }
  return out;
}

std::string format_size(uint64_t bytes) {
  if (bytes == 0) return "0B";
  // The largest unit, binary or decimal, that divides exactly: 1000 -> "1KB", 2048 -> "2KiB".
  const Unit* best = &kSizeUnits[8];  // "B"
  for (const Unit& u : kSizeUnits) {
    if (bytes % u.factor == 0 && u.factor > best->factor) best = &u;
  }
  return std::to_string(bytes / best->factor) + std::string(best->name);
}

}  // namespace common
