#include "common/clock/time_format.h"

#include <ctime>

namespace common {

void append_iso8601(std::string& out, WallTime t, bool millis) {
  const auto ms_total = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  long long secs = ms_total / 1000;
  long long ms = ms_total % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  out.append(buf, n);
  if (millis) {
    const char frac[5] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + (ms / 10) % 10),
                          static_cast<char>('0' + ms % 10), '\0'};
    out.append(frac, 4);
  }
  out.push_back('Z');
}

std::string format_iso8601(WallTime t, bool millis) {
  std::string out;
  append_iso8601(out, t, millis);
  return out;
}

}  // namespace common
