#include "common/log/log.h"

#include <array>
#include <cstdio>
#include <memory>
#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

namespace common::log {
namespace {

// Syslog priorities by spdlog level (trace, debug, info, warn, err, critical, off).
constexpr std::array<int, 7> kSyslogPriority = {7, 7, 6, 4, 3, 2, 6};

class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto idx = static_cast<std::size_t>(msg.level);
    const int prio = idx < kSyslogPriority.size() ? kSyslogPriority[idx] : 6;
    dest.push_back('<');
    dest.push_back(static_cast<char>('0' + prio));
    dest.push_back('>');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<PriorityFlag>(); }
};

// A stderr sink that redacts each formatted line before writing it.
class RedactingStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    const std::string clean = redact(std::string_view(formatted.data(), formatted.size()));
    std::fwrite(clean.data(), 1, clean.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '+' ||
         c == '=' || c == '%' || c == '-' || c == '_';
}

bool iequals_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char a = text[pos + i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != word[i]) return false;
  }
  return true;
}

// Names after which the value is a secret (lowercase; matched case-insensitively).
constexpr std::array<std::string_view, 9> kSecretNames = {
    "secret_access_key", "secretaccesskey", "aws_secret_access_key", "session_token", "sessiontoken",
    "security-token",    "x-aws-ec2-metadata-token", "signature", "token"};

constexpr std::size_t kMinSecretLength = 16;

}  // namespace

std::string redact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // Access key ids: AKIA/ASIA + 16 upper-case alphanumerics -> keep the first 8 characters.
    if (i + 20 <= text.size() && (text.compare(i, 4, "AKIA") == 0 || text.compare(i, 4, "ASIA") == 0)) {
      bool all = true;
      for (std::size_t k = 4; k < 20 && all; ++k) {
        const char c = text[i + k];
        all = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      }
      if (all) {
        out.append(text.substr(i, 8));
        out.append("************");
        i += 20;
        continue;
      }
    }
    bool matched = false;
    for (std::string_view name : kSecretNames) {
      if (!iequals_at(text, i, name)) continue;
      // Require a separator (=, :, quotes, spaces) and then a value.
      std::size_t j = i + name.size();
      std::size_t sep_end = j;
      while (sep_end < text.size() && (text[sep_end] == '"' || text[sep_end] == '\'' || text[sep_end] == ' ' ||
                                       text[sep_end] == ':' || text[sep_end] == '=')) {
        ++sep_end;
      }
      if (sep_end == j) continue;
      bool has_sep = false;
      for (std::size_t k = j; k < sep_end; ++k) has_sep = has_sep || text[k] == ':' || text[k] == '=';
      if (!has_sep) continue;
      std::size_t v = sep_end;
      while (v < text.size() && is_key_char(text[v])) ++v;
      // Secrets are long (keys 40, signatures 64, tokens hundreds of characters); a short word after
      // "token:" is prose ("token: Failed to connect"), not a credential.
      if (v - sep_end < kMinSecretLength) continue;
      out.append(text.substr(i, sep_end - i));
      out.append("<redacted>");
      i = v;
      matched = true;
      break;
    }
    if (matched) continue;
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

void setup(const LogOptions& options) {
  auto sink = std::make_shared<RedactingStderrSink>();
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (options.journald) {
    formatter->add_flag<PriorityFlag>('*').set_pattern("%*%v");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %v");
  }
  sink->set_formatter(std::move(formatter));
  auto logger = std::make_shared<spdlog::logger>("trailwatch", std::move(sink));
  spdlog::set_default_logger(std::move(logger));
  if (!set_level(options.level)) spdlog::set_level(spdlog::level::info);
  spdlog::flush_on(spdlog::level::trace);
}

bool set_level(std::string_view level) {
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 7> kLevels = {{
      {"trace", spdlog::level::trace},
      {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},
      {"error", spdlog::level::err},
      {"off", spdlog::level::off},
  }};
  for (const auto& [name, value] : kLevels) {
    if (name == level) {
      spdlog::set_level(value);
      return true;
    }
  }
  return false;
}

RateLimiter::RateLimiter(const Clock& clock, std::chrono::seconds window, int burst)
    : clock_(clock), window_(window), burst_(burst) {}

bool RateLimiter::allow(std::string_view key, uint64_t* suppressed) {
  const SteadyTime now = clock_.steady_now();
  Slot& slot = slots_[std::string(key)];
  if (slot.used == 0 || now - slot.window_start >= window_) {
    slot.window_start = now;
    slot.used = 0;
  }
  if (slot.used < burst_) {
    ++slot.used;
    if (suppressed != nullptr) *suppressed = slot.suppressed;
    slot.suppressed = 0;
    return true;
  }
  ++slot.suppressed;
  return false;
}

bool RateLimiter::log(spdlog::level::level_enum level, std::string_view key, std::string_view message) {
  uint64_t suppressed = 0;
  if (!allow(key, &suppressed)) return false;
  if (suppressed > 0) {
    spdlog::log(level, "{} ({} similar line(s) suppressed)", message, suppressed);
  } else {
    spdlog::log(level, "{}", message);
  }
  return true;
}

}  // namespace common::log
