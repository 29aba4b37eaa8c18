// What a metrics configuration costs in CloudWatch: requests, bytes and dollars, computed by
// running the real aggregator and packer over synthetic samples (no guessed bytes-per-datum).
// Pure; `trailwatch once` prints it. Prices: agent/sinks/cloudwatch_pricing.h.
//
//   auto est = agent::cloudwatch::estimate_cost(cfg.metrics, sampler_series_count);
//   fmt::print("{:.0f} requests/h, ${:.2f}/month\n", est.requests_per_hour, est.total_usd_per_month);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/config/agent_config.h"
#include "agent/sinks/metric_aggregator.h"

namespace agent::cloudwatch {

struct CostAssumptions {
  // Placeholder values for append_dimensions (only their lengths matter).
  InstanceMetadata metadata{{"InstanceId", "i-0123456789abcdef0"},
                            {"InstanceType", "m5.large"},
                            {"ImageId", "ami-0123456789abcdef0"},
                            {"AutoScalingGroupName", "trailwatch-asg"}};
  // Samples are pseudo-random doubles in [0, 100) with full precision (every sample distinct):
  // the costliest case for Values/Counts. Fixed seed, so the estimate is reproducible.
  uint64_t seed = 42;
};

struct CostEstimate {
  std::size_t series = 0;    // base series (one per sampled metric + dimension set)
  std::size_t metrics = 0;   // billable custom metrics: series plus their roll-ups
  int storage_resolution = 60;
  double requests_per_hour = 0;
  double datums_per_hour = 0;
  double raw_bytes_per_hour = 0;   // form bodies, uncompressed
  double wire_bytes_per_hour = 0;  // as sent: gzip for bodies >= 10240 bytes
  double metrics_usd_per_month = 0;
  double requests_usd_per_month = 0;
  double total_usd_per_month = 0;

  // Multi-line, human-readable summary (the price source and region included).
  std::string to_string() const;
};

// `series_count` = samples per sampling round (e.g. what ProcSampler emitted last round).
CostEstimate estimate_cost(const MetricsConfig& config, std::size_t series_count, const CostAssumptions& assumptions = {});

}  // namespace agent::cloudwatch
