// CloudWatch list prices used by estimate_cost() -- the ONE place they live. Update here only.
//
// Source: https://aws.amazon.com/cloudwatch/pricing/ (paid tier, "Metrics" and "API" tabs,
// US East (N. Virginia)), checked 2026-11-24. The tier table below was confirmed through
// secondary copies of that page (the AWS page itself renders the tables client-side, so its
// figures could not be read directly here): treat them as list prices to re-check, not a quote.
// - Custom metrics (standard or high resolution, prorated by the hour): $0.30 per metric per month
//   for the first 10,000, $0.10 for the next 240,000, $0.05 for the next 750,000, $0.02 above 1,000,000.
// - PutMetricData: $0.01 per 1,000 requests (API requests; the free tier's 1 million API requests
//   per month and 10 free metrics are NOT subtracted by estimate_cost()).
// Each distinct metric name + dimension set counts as one metric (roll-ups from
// aggregation_dimensions are metrics of their own).
#pragma once

#include <array>
#include <cstddef>

namespace agent::cloudwatch::pricing {

struct MetricTier {
  std::size_t up_to;         // metrics in this tier and below (cumulative upper bound)
  double usd_per_metric;     // per metric per month
};

inline constexpr std::array<MetricTier, 4> kMetricTiers = {{
    {10'000, 0.30},
    {250'000, 0.10},
    {1'000'000, 0.05},
    {static_cast<std::size_t>(-1), 0.02},
}};

inline constexpr double kUsdPerThousandRequests = 0.01;  // PutMetricData
inline constexpr double kHoursPerMonth = 730.0;          // AWS's billing convention (8760 h / 12)
inline constexpr const char* kPriceRegion = "us-east-1";
inline constexpr const char* kPriceSource = "https://aws.amazon.com/cloudwatch/pricing/ (checked 2026-11-24)";

// Monthly cost of `metrics` custom metrics over the tiers above.
inline double metrics_usd_per_month(std::size_t metrics) {
  double usd = 0;
  std::size_t below = 0;
  for (const MetricTier& tier : kMetricTiers) {
    if (metrics <= below) break;
    const std::size_t in_tier = (metrics < tier.up_to ? metrics : tier.up_to) - below;
    usd += static_cast<double>(in_tier) * tier.usd_per_metric;
    below = tier.up_to;
  }
  return usd;
}

}  // namespace agent::cloudwatch::pricing
