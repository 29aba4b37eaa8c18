// MetricSample: one measured value as it flows from a source (ProcSampler) through the
// aggregator, alarms and the CloudWatch sink.
//
// Names and dimension strings are views: the producer owns the storage and keeps it alive for
// its own lifetime (ProcSampler interns "cpu3", "eth0", ... and never frees them; metric names
// are string literals). Consumers that outlive the producer must copy.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/clock/clock.h"

namespace agent {

// The CloudWatch StandardUnit values we use; unit_name() gives the exact wire spelling.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html
enum class Unit : uint8_t {
  kNone,
  kPercent,
  kBytes,
  kKilobytes,
  kMegabytes,
  kBits,
  kCount,
  kSeconds,
  kMilliseconds,
  kMicroseconds,
  kBytesPerSecond,
  kBitsPerSecond,
  kCountPerSecond,
};

// "None", "Percent", "Bytes", "Kilobytes", "Megabytes", "Bits", "Count", "Seconds",
// "Milliseconds", "Microseconds", "Bytes/Second", "Bits/Second", "Count/Second".
std::string_view unit_name(Unit unit) noexcept;

struct Dimension {
  std::string_view name;
  std::string_view value;
};

struct MetricSample {
  static constexpr std::size_t kMaxDimensions = 2;

  std::string_view name;
  Unit unit = Unit::kNone;
  double value = 0.0;
  common::WallTime time{};
  std::array<Dimension, kMaxDimensions> dims{};
  uint8_t dim_count = 0;
};

}  // namespace agent
