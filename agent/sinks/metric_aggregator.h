// MetricAggregator: turns MetricSamples into CloudWatch datums between flushes. Pure: no clock,
// no I/O; the caller passes sample times (in the samples) and the flush time.
//
//   agent::MetricAggregator agg(agent::AggregatorOptions::from_config(cfg.metrics, cfg.delivery), imds_values);
//   for (const std::string& w : agg.warnings()) log_warn(w);     // once, at start
//   agg.add(samples);                                            // every sampling round
//   std::vector<cloudwatch::Datum> datums = agg.flush(now);      // every flush_interval
//
// Series = metric name + unit + full dimension set + storage resolution. Each series' samples are
// grouped into storage-resolution buckets of sample time (60 s at standard resolution, 1 s at high
// resolution); a closed bucket becomes one datum stamped with the bucket start, carrying its samples
// as Values/Counts or as StatisticValues, whichever encodes smaller (docs/metrics.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/pipeline/metric_sample.h"
#include "agent/sinks/cloudwatch_datum.h"
#include "common/clock/clock.h"

namespace agent {

// How a bucket's samples are written: the smaller encoding (default), or always one kind.
// Values/Counts keeps the distribution (CloudWatch can compute percentiles from it);
// StatisticValues keeps only count/sum/min/max.
enum class DatumEncoding : uint8_t { kSmallest, kValuesCounts, kStatistics };

struct AggregatorOptions {
  bool high_resolution = false;  // metrics.high_resolution
  Millis interval{60'000};       // metrics.interval (sampling)
  std::map<std::string, std::string> dimensions;                // metrics.dimensions (static)
  std::vector<std::string> append_dimensions;                   // metrics.append_dimensions
  std::vector<std::vector<std::string>> aggregation_dimensions; // metrics.aggregation_dimensions
  std::size_t max_pending = 100'000;  // delivery.max_queue_records: open series-buckets kept
  DatumEncoding encoding = DatumEncoding::kSmallest;

  static AggregatorOptions from_config(const MetricsConfig& metrics, const DeliveryConfig& delivery);

  // 1 when high_resolution is on and the interval is below 60 s, else 60.
  int storage_resolution() const noexcept;
};

// Instance metadata values for append_dimensions, by dimension name:
// {"InstanceId": "i-...", "InstanceType": "m5.large", "ImageId": "ami-...", "AutoScalingGroupName": "..."}.
using InstanceMetadata = std::map<std::string, std::string>;

class MetricAggregator {
 public:
  struct Stats {
    uint64_t samples = 0;          // samples accepted (each counted once, whatever its roll-ups)
    uint64_t invalid_samples = 0;  // NaN/Inf values, never aggregated
    uint64_t series = 0;           // distinct series seen (roll-ups included)
    uint64_t dropped_buckets = 0;  // DropOldest: open buckets discarded at the max_pending cap
    uint64_t dropped_values = 0;   // samples inside those buckets
    uint64_t datums_value = 0;     // datums written with a single Value
    uint64_t datums_values = 0;    // ... with Values/Counts
    uint64_t datums_statistics = 0;  // ... with StatisticValues
  };

  MetricAggregator(AggregatorOptions options, const InstanceMetadata& metadata);

  // One warning per append_dimensions entry the metadata lacks (that dimension is skipped).
  const std::vector<std::string>& warnings() const noexcept { return warnings_; }

  void add(std::span<const MetricSample> samples);

  // Datums for the buckets that have closed by `now` (bucket end <= now), oldest first; with
  // `final` (shutdown) for every bucket. Emitted buckets are forgotten.
  std::vector<cloudwatch::Datum> flush(common::WallTime now, bool final = false);

  // The dimension sets a sample with `sample_dims` is published under: first the full set
  // (sample + static + instance dimensions), then each applicable roll-up.
  std::vector<std::vector<cloudwatch::DatumDimension>> dimension_sets(std::span<const Dimension> sample_dims) const;

  std::size_t pending() const noexcept { return buckets_.size(); }
  const Stats& stats() const noexcept { return stats_; }
  const AggregatorOptions& options() const noexcept { return options_; }

 private:
  struct Series {
    std::string name;
    std::string unit;
    std::vector<cloudwatch::DatumDimension> dims;
  };
  struct Bucket {
    std::map<double, double> counts;  // distinct value -> occurrences
    double sum = 0;
    double min = 0;
    double max = 0;
    uint64_t n = 0;
  };
  using BucketKey = std::pair<int64_t, uint32_t>;  // (bucket start, seconds since epoch; series id)

  uint32_t series_id(std::string_view name, std::string_view unit, std::vector<cloudwatch::DatumDimension> dims);
  void add_value(uint32_t series, int64_t bucket_start, double value);
  void emit(const Series& series, int64_t bucket_start, const Bucket& bucket, std::vector<cloudwatch::Datum>& out);

  AggregatorOptions options_;
  int resolution_;
  std::vector<cloudwatch::DatumDimension> extra_dims_;  // static then instance, names unique
  std::vector<std::string> warnings_;
  std::vector<Series> series_;
  std::unordered_map<std::string, uint32_t> series_index_;
  std::map<BucketKey, Bucket> buckets_;
  Stats stats_;
};

}  // namespace agent
