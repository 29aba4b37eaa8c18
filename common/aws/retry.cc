#include "common/aws/retry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>

namespace common::aws {

AttemptOutcome AttemptOutcome::from_transport_error(const common::Error& error) {
  AttemptOutcome o;
  switch (error.code()) {
    case common::ErrorCode::kTimeout:
      o.kind = Kind::kTimeout;
      break;
    case common::ErrorCode::kNetwork:
    case common::ErrorCode::kUnavailable:
      o.kind = Kind::kNoResponse;
      break;
    default:
      o.kind = Kind::kLocalError;
      break;
  }
  return o;
}

AttemptOutcome AttemptOutcome::from_response(const common::http::Response& response,
                                             std::optional<common::WallTime> local_now) {
  AttemptOutcome o;
  if (response.status >= 200 && response.status < 300) {
    o.kind = Kind::kSuccess;
    return o;
  }
  o.kind = Kind::kHttpError;
  o.error = parse_aws_error(response, local_now);
  return o;
}

RetryPolicy::RetryPolicy(RetryConfig config) : config_(config), quota_(config.quota_capacity) {}

std::chrono::milliseconds full_jitter(std::chrono::milliseconds base, std::chrono::milliseconds cap, int exponent,
                                      double unit) {
  const double cap_ms = static_cast<double>(std::max<std::int64_t>(0, cap.count()));
  const double base_ms = static_cast<double>(std::max<std::int64_t>(0, base.count()));
  const double ceiling = std::min(base_ms * std::ldexp(1.0, std::clamp(exponent, 0, 62)), cap_ms);
  const auto delay = static_cast<std::int64_t>(std::clamp(unit, 0.0, 1.0) * ceiling);
  return std::chrono::milliseconds(std::min<std::int64_t>(delay, cap.count()));
}

std::chrono::milliseconds Backoff::next() {
  if (failures_ < 1 << 20) ++failures_;
  return full_jitter(base_, cap_, failures_ - 1, rng_->next_unit());
}

std::optional<std::chrono::milliseconds> RetryPolicy::next_delay(const AttemptOutcome& outcome, int attempt,
                                                                 Rng& rng) {
  using Kind = AttemptOutcome::Kind;
  if (attempt >= config_.max_attempts) return std::nullopt;
  bool throttled = false;
  int cost = config_.retry_cost;
  switch (outcome.kind) {
    case Kind::kSuccess:
    case Kind::kLocalError:
      return std::nullopt;
    case Kind::kTimeout:
      cost = config_.timeout_retry_cost;
      break;
    case Kind::kNoResponse:
      break;
    case Kind::kHttpError: {
      if (!outcome.error) return std::nullopt;
      const AwsError& e = *outcome.error;
      if (e.clock_skew || e.expired_credentials) {
        // Fix-then-retry-once: immediate, and not charged to the quota (it is not a backoff retry).
        if (outcome.corrected) return std::chrono::milliseconds(0);
        if (!e.retryable) return std::nullopt;
      }
      if (!e.retryable) return std::nullopt;
      throttled = e.throttling;
      break;
    }
  }
  if (quota_ < cost) return std::nullopt;
  quota_ -= cost;

  const auto base = throttled ? config_.throttling_backoff_base : config_.backoff_base;
  return full_jitter(base, config_.max_backoff, attempt - 1, rng.next_unit());
}

void RetryPolicy::on_success(bool was_retry) {
  quota_ = std::min(config_.quota_capacity, quota_ + (was_retry ? config_.retry_cost : config_.no_retry_increment));
}

std::optional<common::WallTime> parse_http_date(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto skip_spaces = [&] {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  };
  auto number = [&](std::size_t min_digits, std::size_t max_digits) -> std::optional<int> {
    std::size_t n = 0;
    int v = 0;
    while (n < s.size() && n < max_digits && s[n] >= '0' && s[n] <= '9') {
      v = v * 10 + (s[n] - '0');
      ++n;
    }
    if (n < min_digits) return std::nullopt;
    s.remove_prefix(n);
    return v;
  };
  auto expect = [&](char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
  };
  skip_spaces();
  if (auto comma = s.find(','); comma != std::string_view::npos && comma <= 9) {
    s.remove_prefix(comma + 1);  // weekday, unchecked
  }
  skip_spaces();
  auto day = number(1, 2);
  skip_spaces();
  if (!day || s.size() < 3) return std::nullopt;
  auto month_it = std::find(kMonths.begin(), kMonths.end(), s.substr(0, 3));
  if (month_it == kMonths.end()) return std::nullopt;
  s.remove_prefix(3);
  skip_spaces();
  auto year = number(4, 4);
  skip_spaces();
  auto hour = number(2, 2);
  if (!year || !hour || !expect(':')) return std::nullopt;
  auto minute = number(2, 2);
  if (!minute || !expect(':')) return std::nullopt;
  auto second = number(2, 2);
  skip_spaces();
  if (!second || (s != "GMT" && s != "UTC")) return std::nullopt;
  if (*day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  // WallTime (system_clock, nanoseconds) spans 1677-09-21 .. 2262-04-11: outside it from_time_t overflows.
  if (*year < 1678 || *year > 2261) return std::nullopt;

  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = static_cast<int>(month_it - kMonths.begin());
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

std::optional<std::chrono::seconds> skew_from_date_header(std::string_view rfc1123, common::WallTime local_now) {
  auto server = parse_http_date(rfc1123);
  if (!server) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*server - local_now);
}

}  // namespace common::aws
