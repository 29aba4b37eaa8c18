// common::aws::parse_http_date over arbitrary text. Checks: a parsed time is in whole seconds and
// rendered back as an RFC 1123 date (with and without the weekday) parses to the same instant.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "common/aws/retry.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parsed = common::aws::parse_http_date(tests::fuzz::as_text(data, size));
  if (!parsed) return 0;
  const auto since_epoch = parsed->time_since_epoch();
  FUZZ_CHECK(since_epoch == std::chrono::duration_cast<std::chrono::seconds>(since_epoch));

  const std::time_t t = std::chrono::system_clock::to_time_t(*parsed);
  std::tm tm{};
  FUZZ_CHECK(gmtime_r(&t, &tm) != nullptr);
  // The parser accepts 4-digit years only; a 31 Dec 9999 23:59:60 leap second normalises past them.
  if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) return 0;
  char with_day[64];
  std::snprintf(with_day, sizeof with_day, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  const auto again = common::aws::parse_http_date(with_day);
  FUZZ_CHECK(again && *again == *parsed);
  const auto without_day = common::aws::parse_http_date(with_day + 5);
  FUZZ_CHECK(without_day && *without_day == *parsed);
  return 0;
}
