// Pure helpers for alarm datapoints: the statistic of one period, period alignment, and the
// number/time spellings CloudWatch uses in alarm reasons and notifications.
//
// Percentiles use the nearest-rank method (CloudWatch does not publish its method): with the n
// values of a period sorted ascending, pNN is the value at rank ceil(NN/100 * n) (1-based).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock/clock.h"
#include "common/result/result.h"

namespace agent {

struct Statistic {
  enum class Kind { kAverage, kMinimum, kMaximum, kSum, kSampleCount, kPercentile };
  Kind kind = Kind::kAverage;
  double percentile = 0;  // 0 < p < 100, only for kPercentile
  bool operator==(const Statistic&) const = default;
};

// "Average", "Minimum", "Maximum", "Sum", "SampleCount", "p99", "p99.9", "p99.99" (0 < NN < 100).
common::Result<Statistic> parse_statistic(std::string_view text);

// The notification's spelling: "AVERAGE", "MINIMUM", "MAXIMUM", "SUM", "SAMPLE_COUNT"; empty for
// percentiles (they travel as ExtendedStatistic).
std::string_view statistic_wire_name(const Statistic& statistic);

// Everything one period needs to produce any statistic. `values` is kept only when asked for
// (percentile alarms), so the other statistics cost O(1) memory per period.
class PeriodAccumulator {
 public:
  explicit PeriodAccumulator(bool keep_values = false) : keep_values_(keep_values) {}
  void add(double value);
  bool empty() const { return count_ == 0; }
  double sample_count() const { return count_; }
  // The statistic's value; the accumulator must not be empty.
  double value(const Statistic& statistic) const;

 private:
  bool keep_values_;
  double count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  mutable std::vector<double> values_;
  mutable bool sorted_ = true;
};

// Nearest-rank percentile of `values` (any order; must not be empty), 0 < p < 100.
double nearest_rank_percentile(std::vector<double> values, double p);

// Periods are aligned to wall-clock multiples of `period` since the Unix epoch (like CloudWatch:
// a 60 s period covers hh:mm:00.000 .. hh:mm:59.999). Index n covers [n*period, (n+1)*period).
int64_t period_index(common::WallTime t, std::chrono::milliseconds period);
common::WallTime period_start(int64_t index, std::chrono::milliseconds period);

// CloudWatch's (Java's) number spelling in reasons: shortest round-trip form, always with a decimal
// point ("94.1", "90.0"); below 1e-3 or from 1e7 on in E notation ("1.0E-4", "1.5E7").
std::string format_cloudwatch_number(double value);

// "26/08/22 03:45:00" (dd/MM/yy HH:mm:ss, UTC): datapoint timestamps inside a StateReason.
std::string format_reason_time(common::WallTime t);

// "2022-08-26T03:46:29.897+0000" (UTC, milliseconds): notification and StateReasonData times.
std::string format_alarm_time(common::WallTime t);

}  // namespace agent
