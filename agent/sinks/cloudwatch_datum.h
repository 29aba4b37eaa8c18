// CloudWatch PutMetricData datums as the sink sends them, and the API's limits.
//
// A Datum owns its strings (the aggregator copies names out of MetricSample views). It carries
// exactly one of the three value shapes the API accepts: a single Value, Values/Counts (distinct
// values with how often each was seen), or StatisticValues (SampleCount/Sum/Minimum/Maximum).
// Spec: shared/spec/aws-wire.md §2; docs/metrics.md explains how datums are built.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "common/clock/clock.h"

namespace agent::cloudwatch {

// Limits. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
constexpr std::size_t kMaxDatumsPerRequest = 1000;
constexpr std::size_t kMaxRequestBytes = 1024 * 1024;  // kept for the uncompressed body (spec §2.3)
constexpr std::size_t kMaxDimensionsPerDatum = 30;
constexpr std::size_t kMaxValuesPerDatum = 150;
constexpr std::size_t kMaxNameLength = 255;            // namespace, metric name, dimension name
constexpr std::size_t kMaxDimensionValueLength = 1024;
constexpr int kMaxValueExponent = 360;                 // |value| <= 2^360 (and >= 2^-360 unless 0)
// Timestamps older than two weeks or more than two hours ahead are rejected.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
constexpr std::chrono::hours kMaxTimestampAge{14 * 24};
constexpr std::chrono::hours kMaxTimestampLead{2};
// SDKs gzip a request body from this size on (requestcompression trait; spec §2.4).
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-compression.html
constexpr std::size_t kGzipMinBytes = 10240;

struct DatumDimension {
  std::string name;
  std::string value;
  bool operator==(const DatumDimension&) const = default;
};

struct ValuesCounts {
  std::vector<double> values;  // distinct, ascending
  std::vector<double> counts;  // same length as values
  bool operator==(const ValuesCounts&) const = default;
};

struct StatisticSet {
  double sample_count = 0;
  double sum = 0;
  double minimum = 0;
  double maximum = 0;
  bool operator==(const StatisticSet&) const = default;
};

struct Datum {
  std::string metric_name;
  std::vector<DatumDimension> dimensions;
  common::WallTime timestamp{};
  std::string unit = "None";    // a StandardUnit spelling, e.g. "Percent", "Bytes/Second"
  int storage_resolution = 60;  // 1 (high resolution) or 60
  std::variant<double, ValuesCounts, StatisticSet> data{0.0};
  bool operator==(const Datum&) const = default;
};

}  // namespace agent::cloudwatch
