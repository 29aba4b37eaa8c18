// Whole-pipeline volume: an hour of 1 s samples packs into the minimum number of requests; the
// cost estimate; and the measurement quoted in docs/metrics.md (printed, not asserted on time).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "agent/sinks/cloudwatch_cost.h"
#include "agent/sinks/cloudwatch_encoder.h"
#include "agent/sinks/cloudwatch_pricing.h"
#include "agent/sinks/metric_aggregator.h"

namespace {

using agent::MetricSample;
using agent::cloudwatch::Datum;
using agent::cloudwatch::PackStats;

constexpr int64_t kT0 = 1'767'225'600;  // 2026-01-01T00:00:00Z

common::WallTime at(int64_t secs) { return common::WallTime(std::chrono::seconds(secs)); }

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

TEST(CloudWatchVolume, AnHourOf1sSamplesFor40SeriesUsesTheMinimumNumberOfRequests) {
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("series_metric_" + std::to_string(i));
  agent::AggregatorOptions o;
  o.interval = std::chrono::seconds(1);
  agent::MetricAggregator agg(o, {});
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> dist(0, 100);
  std::vector<MetricSample> round(40);
  for (int64_t t = kT0; t < kT0 + 3600; ++t) {
    for (std::size_t i = 0; i < 40; ++i) {
      round[i].name = names[i];
      round[i].unit = agent::Unit::kPercent;
      round[i].value = dist(rng);
      round[i].time = at(t);
      round[i].dims[0] = {"host", "ip-10-0-0-1"};
      round[i].dim_count = 1;
    }
    agg.add(round);
  }
  const common::WallTime now = at(kT0 + 3600);
  std::vector<Datum> datums = agg.flush(now);
  ASSERT_EQ(datums.size(), 40u * 60u);  // one per series per minute

  PackStats st;
  auto reqs = agent::cloudwatch::pack_requests("CWAgent", datums, now, &st);

  // The minimum the limits allow, computed from the limits alone: by datum count, and by bytes
  // (every datum at least as long as when it is member 1, every request carrying the header).
  std::string header;
  agent::cloudwatch::append_request_header("CWAgent", header);
  std::size_t bytes = 0;
  for (const Datum& d : datums) bytes += agent::cloudwatch::encoded_datum_size(d, 1);
  const std::size_t by_count = ceil_div(datums.size(), agent::cloudwatch::kMaxDatumsPerRequest);
  const std::size_t by_bytes = ceil_div(bytes, agent::cloudwatch::kMaxRequestBytes - header.size());
  EXPECT_EQ(reqs.size(), std::max(by_count, by_bytes));
  EXPECT_EQ(st.datums_sent, datums.size());
  EXPECT_EQ(st.datums_dropped, 0u);
}

TEST(CloudWatchVolume, CostEstimateKeepsCallsConstantAcrossSamplingIntervals) {
  agent::MetricsConfig m;
  m.interval = std::chrono::seconds(60);
  m.flush_interval = std::chrono::seconds(60);
  auto slow = agent::cloudwatch::estimate_cost(m, 32);
  m.interval = std::chrono::seconds(1);
  auto fast = agent::cloudwatch::estimate_cost(m, 32);
  EXPECT_EQ(slow.metrics, 32u);
  EXPECT_EQ(slow.storage_resolution, 60);
  EXPECT_DOUBLE_EQ(slow.requests_per_hour, 60.0);  // one request per flush
  EXPECT_DOUBLE_EQ(fast.requests_per_hour, 60.0);  // the same at 1 s sampling
  EXPECT_DOUBLE_EQ(slow.datums_per_hour, 32.0 * 60);
  EXPECT_DOUBLE_EQ(fast.datums_per_hour, 32.0 * 60);
  EXPECT_GT(fast.raw_bytes_per_hour, slow.raw_bytes_per_hour);  // StatisticValues vs one Value
  EXPECT_LE(fast.wire_bytes_per_hour, fast.raw_bytes_per_hour);
  EXPECT_NEAR(slow.metrics_usd_per_month, 32 * 0.30, 1e-9);
  EXPECT_NEAR(slow.requests_usd_per_month, 60 * 730 / 1000.0 * 0.01, 1e-9);
  EXPECT_NEAR(slow.total_usd_per_month, slow.metrics_usd_per_month + slow.requests_usd_per_month, 1e-9);

  // High resolution at 1 s: a datum per series per second, so many more requests.
  m.high_resolution = true;
  auto hires = agent::cloudwatch::estimate_cost(m, 32);
  EXPECT_EQ(hires.storage_resolution, 1);
  EXPECT_DOUBLE_EQ(hires.datums_per_hour, 32.0 * 3600);
  EXPECT_GE(hires.requests_per_hour, 32.0 * 3600 / 1000);

  // Roll-ups are metrics of their own.
  m.high_resolution = false;
  m.append_dimensions = {"InstanceId"};
  m.aggregation_dimensions = {{"InstanceId"}};
  auto rolled = agent::cloudwatch::estimate_cost(m, 32);
  EXPECT_EQ(rolled.metrics, 64u);
  std::printf("%s", rolled.to_string().c_str());
}

TEST(CloudWatchVolume, MetricTiers) {
  using agent::cloudwatch::pricing::metrics_usd_per_month;
  EXPECT_NEAR(metrics_usd_per_month(0), 0, 1e-9);
  EXPECT_NEAR(metrics_usd_per_month(10'000), 3'000, 1e-9);
  EXPECT_NEAR(metrics_usd_per_month(10'001), 3'000.10, 1e-9);
  EXPECT_NEAR(metrics_usd_per_month(250'000), 3'000 + 24'000, 1e-6);
  EXPECT_NEAR(metrics_usd_per_month(1'000'001), 3'000 + 24'000 + 37'500 + 0.02, 1e-6);
}

// The default metric set on a 2-CPU, 1-interface host (agent/sources/proc_sampler.cc with the
// default config: cpu-total only, memory, swap, one interface):
//   cpu_usage_{user,system,idle,nice,iowait,irq,softirq,steal,guest,guest_nice,active}  11, cpu=cpu-total
//   mem_{total,available,used,free,cached,buffered,active,inactive,used_percent,available_percent}  10
//   swap_{used,free,used_percent}  3
//   net_{bytes,packets}_{sent,recv}, net_{err,drop}_{in,out}  8, interface=eth0
struct DefaultSeries {
  std::string name;
  agent::Unit unit;
  std::string_view dim_name;
  std::string_view dim_value;
};

std::vector<DefaultSeries> default_set() {
  std::vector<DefaultSeries> s;
  for (const char* n : {"user", "system", "idle", "nice", "iowait", "irq", "softirq", "steal", "guest", "guest_nice",
                        "active"}) {
    s.push_back({std::string("cpu_usage_") + n, agent::Unit::kPercent, "cpu", "cpu-total"});
  }
  for (const char* n : {"total", "available", "used", "free", "cached", "buffered", "active", "inactive"}) {
    s.push_back({std::string("mem_") + n, agent::Unit::kBytes, {}, {}});
  }
  s.push_back({"mem_used_percent", agent::Unit::kPercent, {}, {}});
  s.push_back({"mem_available_percent", agent::Unit::kPercent, {}, {}});
  s.push_back({"swap_used", agent::Unit::kBytes, {}, {}});
  s.push_back({"swap_free", agent::Unit::kBytes, {}, {}});
  s.push_back({"swap_used_percent", agent::Unit::kPercent, {}, {}});
  for (const char* n : {"bytes_sent", "bytes_recv"}) s.push_back({std::string("net_") + n, agent::Unit::kBytes, "interface", "eth0"});
  for (const char* n : {"packets_sent", "packets_recv", "err_in", "err_out", "drop_in", "drop_out"}) {
    s.push_back({std::string("net_") + n, agent::Unit::kCount, "interface", "eth0"});
  }
  return s;
}

// Plausible values: percentages with full precision, memory moving by pages, counters small.
double plausible(const DefaultSeries& s, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> pct(0, 100);
  std::uniform_int_distribution<int> pages(0, 64);
  std::uniform_int_distribution<int> small(0, 3);
  std::uniform_int_distribution<int> bytes(0, 200'000);
  if (s.unit == agent::Unit::kPercent) return pct(rng);
  if (s.name.starts_with("mem_") || s.name.starts_with("swap_")) return 4.0e9 + 4096.0 * pages(rng);
  if (s.name.find("bytes") != std::string::npos) return bytes(rng);
  if (s.name.find("packets") != std::string::npos) return 10 + small(rng) * 7;
  return small(rng) == 0 ? 1 : 0;
}

TEST(CloudWatchVolume, MeasurementTenMinutesOf1sSamplingVersusOneDatumPerSample) {
  const std::vector<DefaultSeries> set = default_set();
  ASSERT_EQ(set.size(), 32u);
  agent::AggregatorOptions o;
  o.interval = std::chrono::seconds(1);
  agent::MetricAggregator agg(o, {});
  std::mt19937_64 rng(5);
  PackStats aggregated;
  PackStats naive;
  std::vector<Datum> naive_pending;
  std::vector<MetricSample> round(set.size());
  for (int64_t t = kT0; t < kT0 + 600; ++t) {
    for (std::size_t i = 0; i < set.size(); ++i) {
      MetricSample& s = round[i];
      s.name = set[i].name;
      s.unit = set[i].unit;
      s.value = plausible(set[i], rng);
      s.time = at(t);
      s.dim_count = 0;
      if (!set[i].dim_name.empty()) {
        s.dims[0] = {set[i].dim_name, set[i].dim_value};
        s.dim_count = 1;
      }
      Datum d;  // naive: the sample as its own datum
      d.metric_name = set[i].name;
      if (s.dim_count == 1) d.dimensions = {{std::string(set[i].dim_name), std::string(set[i].dim_value)}};
      d.timestamp = s.time;
      d.unit = std::string(agent::unit_name(s.unit));
      d.data = s.value;
      naive_pending.push_back(std::move(d));
    }
    agg.add(round);
    if ((t + 1 - kT0) % 60 == 0) {  // flush every 60 s
      const common::WallTime now = at(t + 1);
      (void)agent::cloudwatch::pack_requests("CWAgent", agg.flush(now), now, &aggregated);
      (void)agent::cloudwatch::pack_requests("CWAgent", naive_pending, now, &naive);
      naive_pending.clear();
    }
  }
  EXPECT_EQ(aggregated.datums_sent, 32u * 10u);
  EXPECT_EQ(naive.datums_sent, 32u * 600u);
  EXPECT_EQ(aggregated.requests, 10u);  // one per flush
  EXPECT_LT(aggregated.wire_bytes, naive.wire_bytes);
  std::printf(
      "measurement: 32 series (11 cpu + 10 mem + 3 swap + 8 net), 1 s sampling, 10 min, 60 s flushes\n"
      "  aggregated: %zu requests, %zu datums, %zu bytes raw, %zu bytes sent (%zu gzipped requests)\n"
      "  naive:      %zu requests, %zu datums, %zu bytes raw, %zu bytes sent (%zu gzipped requests)\n"
      "  ratio naive/aggregated: requests %.1fx, raw bytes %.1fx, sent bytes %.1fx\n",
      aggregated.requests, aggregated.datums_sent, aggregated.raw_bytes, aggregated.wire_bytes,
      aggregated.compressed_requests, naive.requests, naive.datums_sent, naive.raw_bytes, naive.wire_bytes,
      naive.compressed_requests, static_cast<double>(naive.requests) / static_cast<double>(aggregated.requests),
      static_cast<double>(naive.raw_bytes) / static_cast<double>(aggregated.raw_bytes),
      static_cast<double>(naive.wire_bytes) / static_cast<double>(aggregated.wire_bytes));
}

}  // namespace
