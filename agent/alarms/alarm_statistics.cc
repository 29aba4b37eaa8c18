#include "agent/alarms/alarm_statistics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace agent {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t to_millis(common::WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::tm utc_tm(common::WallTime t, int& millis) {
  int64_t ms = to_millis(t);
  int64_t secs = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    secs -= 1;
  }
  millis = static_cast<int>(rem);
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

}  // namespace

common::Result<Statistic> parse_statistic(std::string_view text) {
  static constexpr std::pair<std::string_view, Statistic::Kind> kNamed[] = {
      {"Average", Statistic::Kind::kAverage}, {"Minimum", Statistic::Kind::kMinimum},
      {"Maximum", Statistic::Kind::kMaximum}, {"Sum", Statistic::Kind::kSum},
      {"SampleCount", Statistic::Kind::kSampleCount},
  };
  for (const auto& [name, kind] : kNamed) {
    if (text == name) return Statistic{kind, 0};
  }
  auto bad = [&] {
    return common::Error(common::ErrorCode::kInvalidArgument,
                         "unknown statistic \"" + std::string(text) +
                             "\" (expected Average, Minimum, Maximum, Sum, SampleCount or pNN[.NN])");
  };
  if (text.size() < 2 || text[0] != 'p') return bad();
  const std::string_view number = text.substr(1);
  const size_t dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  if (!all_digits(whole) || whole.size() > 2) return bad();
  if (dot != std::string_view::npos) {
    const std::string_view fraction = number.substr(dot + 1);
    if (!all_digits(fraction) || fraction.size() > 2) return bad();
  }
  double p = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
  if (ec != std::errc() || ptr != number.data() + number.size() || !(p > 0 && p < 100)) return bad();
  return Statistic{Statistic::Kind::kPercentile, p};
}

std::string_view statistic_wire_name(const Statistic& statistic) {
  switch (statistic.kind) {
    case Statistic::Kind::kAverage: return "AVERAGE";
    case Statistic::Kind::kMinimum: return "MINIMUM";
    case Statistic::Kind::kMaximum: return "MAXIMUM";
    case Statistic::Kind::kSum: return "SUM";
    case Statistic::Kind::kSampleCount: return "SAMPLE_COUNT";
    case Statistic::Kind::kPercentile: return "";
  }
  return "";
}

void PeriodAccumulator::add(double value) {
  if (count_ == 0) {
    min_ = value;
    max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += 1;
  sum_ += value;
  if (keep_values_) {
    values_.push_back(value);
    sorted_ = false;
  }
}

double PeriodAccumulator::value(const Statistic& statistic) const {
  switch (statistic.kind) {
    case Statistic::Kind::kAverage: return sum_ / count_;
    case Statistic::Kind::kMinimum: return min_;
    case Statistic::Kind::kMaximum: return max_;
    case Statistic::Kind::kSum: return sum_;
    case Statistic::Kind::kSampleCount: return count_;
    case Statistic::Kind::kPercentile: {
      if (!keep_values_ || values_.empty()) return max_;  // not constructed for percentiles: best effort
      if (!sorted_) {
        std::sort(values_.begin(), values_.end());
        sorted_ = true;
      }
      // rank = ceil(p/100 * n); the small slack keeps 99.9% of 1000 at rank 999 despite rounding.
      const auto n = static_cast<double>(values_.size());
      auto rank = static_cast<size_t>(std::ceil(statistic.percentile * n / 100.0 - 1e-9));
      rank = std::clamp<size_t>(rank, 1, values_.size());
      return values_[rank - 1];
    }
  }
  return 0;
}

double nearest_rank_percentile(std::vector<double> values, double p) {
  PeriodAccumulator acc(true);
  for (double v : values) acc.add(v);
  return acc.value(Statistic{Statistic::Kind::kPercentile, p});
}

int64_t period_index(common::WallTime t, std::chrono::milliseconds period) {
  const int64_t ms = to_millis(t);
  const int64_t p = period.count();
  int64_t q = ms / p;
  if (ms % p < 0) q -= 1;  // floor for times before the epoch
  return q;
}

common::WallTime period_start(int64_t index, std::chrono::milliseconds period) {
  return common::WallTime(std::chrono::duration_cast<common::WallTime::duration>(period * index));
}

std::string format_cloudwatch_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const double magnitude = std::fabs(value);
  if (value == 0 || (magnitude >= 1e-3 && magnitude < 1e7)) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
    std::string out(buf, ec == std::errc() ? end : buf);
    if (out.find('.') == std::string::npos) out += ".0";
    return out;
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string text(buf, ec == std::errc() ? end : buf);  // "1.5e+07", "1e-05"
  const size_t e = text.find('e');
  std::string mantissa = text.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  std::string exponent = text.substr(e + 1);
  bool negative = false;
  if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
    negative = exponent[0] == '-';
    exponent.erase(0, 1);
  }
  while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
  return mantissa + "E" + (negative ? "-" : "") + exponent;
}

std::string format_reason_time(common::WallTime t) {
  int millis = 0;
  const std::tm tm = utc_tm(t, millis);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%d/%m/%y %H:%M:%S", &tm);
  return buf;
}

std::string format_alarm_time(common::WallTime t) {
  int millis = 0;
  const std::tm tm = utc_tm(t, millis);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof(out), "%s.%03d+0000", buf, millis);
  return out;
}

}  // namespace agent
