// Logging: spdlog to stderr, shaped for where the agent runs.
// - Under journald (JOURNAL_STREAM set) lines carry a "<N>" syslog priority prefix and no timestamp:
//   the journal adds its own and maps the prefix to PRIORITY=.
// - Every line passes through redact() first, so a secret that slips into a message never reaches a log.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "common/clock/clock.h"
#include "common/result/result.h"

namespace common::log {

struct LogOptions {
  std::string level = "info";  // trace|debug|info|warn|error|off
  bool journald = false;       // detected from JOURNAL_STREAM by the caller
};

// Installs the default logger (idempotent: a second call replaces level and format).
void setup(const LogOptions& options);

// Changes the level at run time (SIGHUP reload). Returns false for an unknown name.
bool set_level(std::string_view level);

// Masks credentials in text: secret keys, session tokens, signatures and the second half of access key ids.
// Pure and allocation-light; applied to every formatted line by the sink installed by setup().
std::string redact(std::string_view text);

// Rate limiter for repeated errors of one kind: the first `burst` in each window pass, the rest are
// counted; the first pass after a suppressed stretch reports how many were dropped.
class RateLimiter {
 public:
  RateLimiter(const Clock& clock, std::chrono::seconds window, int burst);
  // Returns true if a line for `key` may be logged now; *suppressed gets the count dropped since the last pass.
  bool allow(std::string_view key, uint64_t* suppressed);
  // allow() and, when it passes, logs `message` at `level`, followed by " (N similar line(s)
  // suppressed)" when lines of this key were dropped since the last one. True when logged.
  bool log(spdlog::level::level_enum level, std::string_view key, std::string_view message);

 private:
  struct Slot {
    SteadyTime window_start{};
    int used = 0;
    uint64_t suppressed = 0;
  };
  const Clock& clock_;
  std::chrono::seconds window_;
  int burst_;
  std::unordered_map<std::string, Slot> slots_;
};

}  // namespace common::log
