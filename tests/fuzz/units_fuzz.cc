// common::parse_duration and parse_size over arbitrary text. Checks the documented inverses:
// parse_duration(format_duration(d)) == d and parse_size(format_size(n)) == n, that a parsed
// duration is never negative, and that the formatted forms are canonical (format(parse(format(x)))
// is format(x)). Also formats the raw input bytes read as numbers, to cover the formatters alone.
#include <chrono>
#include <cstring>
#include <string>

#include "common/config/units.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);

  if (auto d = common::parse_duration(text); d.ok()) {
    FUZZ_CHECK(d->count() >= 0);
    const std::string formatted = common::format_duration(*d);
    auto back = common::parse_duration(formatted);
    FUZZ_CHECK(back.ok() && *back == *d);
    FUZZ_CHECK(common::format_duration(*back) == formatted);
  }
  if (auto n = common::parse_size(text); n.ok()) {
    const std::string formatted = common::format_size(*n);
    auto back = common::parse_size(formatted);
    FUZZ_CHECK(back.ok() && *back == *n);
    FUZZ_CHECK(common::format_size(*back) == formatted);
  }

  // The formatters on their own, for any 64-bit value (durations: non-negative ones).
  if (size >= 8) {
    uint64_t raw = 0;
    std::memcpy(&raw, data, sizeof raw);
    const std::string size_text = common::format_size(raw);
    auto size_back = common::parse_size(size_text);
    FUZZ_CHECK(size_back.ok() && *size_back == raw);
    const std::chrono::milliseconds ms(static_cast<int64_t>(raw >> 1));
    auto ms_back = common::parse_duration(common::format_duration(ms));
    FUZZ_CHECK(ms_back.ok() && *ms_back == ms);
  }
  return 0;
}
