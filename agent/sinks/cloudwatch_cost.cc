#include "agent/sinks/cloudwatch_cost.h"

#include <random>

#include <fmt/format.h>

#include "agent/sinks/cloudwatch_encoder.h"
#include "agent/sinks/cloudwatch_pricing.h"

namespace agent::cloudwatch {

CostEstimate estimate_cost(const MetricsConfig& config, std::size_t series_count, const CostAssumptions& assumptions) {
  using std::chrono::milliseconds;
  AggregatorOptions options = AggregatorOptions::from_config(config, DeliveryConfig{});
  options.max_pending = static_cast<std::size_t>(-1);  // the estimate must not drop anything
  MetricAggregator aggregator(options, assumptions.metadata);

  const milliseconds interval = config.interval.count() > 0 ? config.interval : milliseconds(60'000);
  const milliseconds flush = config.flush_interval.count() > 0 ? config.flush_interval : milliseconds(60'000);
  // Simulate whole flush intervals covering at least one standard-resolution bucket, then scale.
  const milliseconds bucket(60'000);
  const int64_t flushes = std::max<int64_t>(1, (bucket.count() + flush.count() - 1) / flush.count());
  const milliseconds window = flush * flushes;

  std::vector<std::string> names(series_count);
  std::vector<std::string> values(series_count);
  for (std::size_t i = 0; i < series_count; ++i) {
    names[i] = fmt::format("metric_{:06}", i);  // 13 characters, like "mem_available"
    values[i] = fmt::format("s{}", i);
  }
  std::mt19937_64 rng(assumptions.seed);
  std::uniform_real_distribution<double> dist(0.0, 100.0);

  const common::WallTime t0{std::chrono::seconds(1'767'225'600)};  // 2026-01-01T00:00:00Z, minute-aligned
  std::vector<MetricSample> round(series_count);
  PackStats stats;
  std::size_t datums = 0;
  milliseconds next_sample(0);
  for (int64_t f = 1; f <= flushes; ++f) {
    const milliseconds flush_at = flush * f;
    for (; next_sample < flush_at; next_sample += interval) {
      for (std::size_t i = 0; i < series_count; ++i) {
        MetricSample& s = round[i];
        s.name = names[i];
        s.unit = Unit::kPercent;
        s.value = dist(rng);
        s.time = t0 + next_sample;
        s.dims[0] = Dimension{"series", values[i]};
        s.dim_count = 1;
      }
      aggregator.add(round);
    }
    const common::WallTime now = t0 + flush_at;
    std::vector<Datum> out = aggregator.flush(now);
    datums += out.size();
    (void)pack_requests(config.namespace_name, out, now, &stats);
  }

  CostEstimate e;
  e.series = series_count;
  e.metrics = static_cast<std::size_t>(aggregator.stats().series);
  e.storage_resolution = options.storage_resolution();
  const double scale = 3'600'000.0 / static_cast<double>(window.count());
  e.requests_per_hour = static_cast<double>(stats.requests) * scale;
  e.datums_per_hour = static_cast<double>(datums) * scale;
  e.raw_bytes_per_hour = static_cast<double>(stats.raw_bytes) * scale;
  e.wire_bytes_per_hour = static_cast<double>(stats.wire_bytes) * scale;
  e.metrics_usd_per_month = pricing::metrics_usd_per_month(e.metrics);
  e.requests_usd_per_month = e.requests_per_hour * pricing::kHoursPerMonth / 1000.0 * pricing::kUsdPerThousandRequests;
  e.total_usd_per_month = e.metrics_usd_per_month + e.requests_usd_per_month;
  return e;
}

std::string CostEstimate::to_string() const {
  return fmt::format(
      "CloudWatch cost estimate ({} list prices, {}):\n"
      "  metrics: {} ({} sampled series incl. roll-ups), storage resolution {} s\n"
      "  PutMetricData: {:.1f} requests/hour, {:.0f} datums/hour\n"
      "  bytes/hour: {:.0f} raw, {:.0f} sent (gzip for bodies >= 10240 bytes)\n"
      "  $/month: {:.2f} metrics + {:.2f} requests = {:.2f} (free tier not subtracted)\n",
      pricing::kPriceRegion, pricing::kPriceSource, metrics, series, storage_resolution, requests_per_hour,
      datums_per_hour, raw_bytes_per_hour, wire_bytes_per_hour, metrics_usd_per_month, requests_usd_per_month,
      total_usd_per_month);
}

}  // namespace agent::cloudwatch
