// MetricAggregator: buckets by sample time, Values/Counts vs StatisticValues, dimensions,
// aggregation_dimensions roll-ups, DropOldest.
#include "agent/sinks/metric_aggregator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "agent/sinks/cloudwatch_encoder.h"

namespace {

using agent::AggregatorOptions;
using agent::MetricAggregator;
using agent::MetricSample;
using agent::cloudwatch::Datum;
using agent::cloudwatch::DatumDimension;
using agent::cloudwatch::StatisticSet;
using agent::cloudwatch::ValuesCounts;

constexpr int64_t kT0 = 1'767'225'600;  // 2026-01-01T00:00:00Z

common::WallTime at(int64_t secs) { return common::WallTime(std::chrono::seconds(secs)); }

MetricSample sample(std::string_view name, double value, int64_t secs, std::string_view dim_name = {},
                    std::string_view dim_value = {}, agent::Unit unit = agent::Unit::kPercent) {
  MetricSample s;
  s.name = name;
  s.unit = unit;
  s.value = value;
  s.time = at(secs);
  if (!dim_name.empty()) {
    s.dims[0] = {dim_name, dim_value};
    s.dim_count = 1;
  }
  return s;
}

AggregatorOptions standard() {
  AggregatorOptions o;
  o.interval = std::chrono::seconds(1);
  return o;
}

TEST(MetricAggregator, OneDatumPerSeriesPerMinuteStampedWithTheMinute) {
  MetricAggregator agg(standard(), {});
  for (int64_t t = kT0 + 5; t < kT0 + 125; ++t) {  // 00:00:05 .. 00:02:04
    std::vector<MetricSample> round = {sample("cpu", 1.0 + static_cast<double>(t % 2), t, "cpu", "cpu-total"),
                                       sample("mem", 7.0, t)};
    agg.add(round);
  }
  // At 00:02:00 the first two minutes are closed; the third stays open.
  std::vector<Datum> out = agg.flush(at(kT0 + 120) + std::chrono::milliseconds(500));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].timestamp, at(kT0));
  EXPECT_EQ(out[1].timestamp, at(kT0));
  EXPECT_EQ(out[2].timestamp, at(kT0 + 60));
  EXPECT_EQ(out[3].timestamp, at(kT0 + 60));
  EXPECT_EQ(out[0].metric_name, "cpu");
  EXPECT_EQ(out[0].dimensions, (std::vector<DatumDimension>{{"cpu", "cpu-total"}}));
  EXPECT_EQ(out[0].unit, "Percent");
  EXPECT_EQ(out[0].storage_resolution, 60);
  // Minute 0 has 55 samples (t = 5..59): values 1 and 2 with their counts.
  const auto* vc = std::get_if<ValuesCounts>(&out[0].data);
  ASSERT_NE(vc, nullptr);
  EXPECT_EQ(vc->values, (std::vector<double>{1, 2}));
  EXPECT_EQ(vc->counts, (std::vector<double>{27, 28}));  // even t -> 1, odd t -> 2; t = 5..59
  const auto* mem = std::get_if<ValuesCounts>(&out[1].data);
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(mem->counts, (std::vector<double>{55}));
  EXPECT_EQ(agg.pending(), 2u);

  EXPECT_TRUE(agg.flush(at(kT0 + 179)).empty());  // minute 2 still open
  out = agg.flush(at(kT0 + 180));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].timestamp, at(kT0 + 120));
  EXPECT_EQ(agg.pending(), 0u);
}

TEST(MetricAggregator, FinalFlushEmitsOpenBuckets) {
  MetricAggregator agg(standard(), {});
  std::vector<MetricSample> round = {sample("m", 3, kT0 + 10)};
  agg.add(round);
  EXPECT_TRUE(agg.flush(at(kT0 + 11)).empty());
  std::vector<Datum> out = agg.flush(at(kT0 + 11), true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<double>(out[0].data), 3.0);  // a lone sample is a plain Value
  EXPECT_EQ(agg.stats().datums_value, 1u);
}

TEST(MetricAggregator, PicksTheSmallerEncodingPerDatum) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> dist(0, 100);
  MetricAggregator agg(standard(), {});
  for (int64_t t = kT0; t < kT0 + 60; ++t) {
    std::vector<MetricSample> round = {sample("noisy", dist(rng), t), sample("flat", 42, t),
                                       sample("two", t % 2 == 0 ? 0.0 : 100.0, t)};
    agg.add(round);
  }
  std::vector<Datum> out = agg.flush(at(kT0 + 60));
  ASSERT_EQ(out.size(), 3u);
  for (const Datum& d : out) {
    // Recompute both candidates independently and check the smaller was chosen.
    ValuesCounts vc;
    StatisticSet ss;
    if (const auto* v = std::get_if<ValuesCounts>(&d.data)) {
      vc = *v;
      ss.sample_count = 0;
      ss.minimum = vc.values.front();
      ss.maximum = vc.values.back();
      for (std::size_t i = 0; i < vc.values.size(); ++i) {
        ss.sample_count += vc.counts[i];
        ss.sum += vc.values[i] * vc.counts[i];
      }
    } else {
      ss = std::get<StatisticSet>(d.data);
    }
    Datum as_values = d;
    Datum as_stats = d;
    as_stats.data = ss;
    if (std::holds_alternative<ValuesCounts>(d.data)) {
      EXPECT_LE(agent::cloudwatch::encoded_datum_size(as_values, 1000),
                agent::cloudwatch::encoded_datum_size(as_stats, 1000))
          << d.metric_name;
    } else {
      EXPECT_EQ(ss.sample_count, 60) << d.metric_name;
    }
  }
  EXPECT_TRUE(std::holds_alternative<StatisticSet>(out[0].data)) << "60 distinct full-precision values";
  EXPECT_TRUE(std::holds_alternative<ValuesCounts>(out[1].data)) << "one value seen 60 times";
  EXPECT_TRUE(std::holds_alternative<ValuesCounts>(out[2].data)) << "two values";
  const auto& noisy = std::get<StatisticSet>(out[0].data);
  EXPECT_EQ(noisy.sample_count, 60);
  EXPECT_LE(noisy.minimum, noisy.maximum);
  EXPECT_EQ(agg.stats().datums_statistics, 1u);
  EXPECT_EQ(agg.stats().datums_values, 2u);
}

TEST(MetricAggregator, ValuesCountsModeSplitsPast150DistinctValues) {
  AggregatorOptions o;
  o.interval = std::chrono::milliseconds(100);  // 600 samples in a minute
  o.encoding = agent::DatumEncoding::kValuesCounts;
  MetricAggregator agg(o, {});
  for (int i = 0; i < 400; ++i) {
    MetricSample s = sample("m", i, kT0);
    s.time += std::chrono::milliseconds(100 * (i % 600));
    agg.add(std::span<const MetricSample>(&s, 1));
  }
  std::vector<Datum> out = agg.flush(at(kT0 + 60));
  ASSERT_EQ(out.size(), 3u);
  std::size_t total = 0;
  for (const Datum& d : out) {
    EXPECT_EQ(d.timestamp, at(kT0));
    const auto& vc = std::get<ValuesCounts>(d.data);
    EXPECT_LE(vc.values.size(), 150u);
    total += vc.values.size();
  }
  EXPECT_EQ(total, 400u);
}

TEST(MetricAggregator, StorageResolutionFollowsHighResolutionAndInterval) {
  AggregatorOptions o;
  o.high_resolution = true;
  o.interval = std::chrono::seconds(1);
  EXPECT_EQ(o.storage_resolution(), 1);
  o.interval = std::chrono::seconds(59);
  EXPECT_EQ(o.storage_resolution(), 1);
  o.interval = std::chrono::seconds(60);
  EXPECT_EQ(o.storage_resolution(), 60);
  o.high_resolution = false;
  o.interval = std::chrono::seconds(1);
  EXPECT_EQ(o.storage_resolution(), 60);

  o.high_resolution = true;
  MetricAggregator agg(o, {});
  std::vector<MetricSample> round = {sample("m", 1, kT0), sample("m", 2, kT0 + 1), sample("m", 3, kT0 + 2)};
  agg.add(round);
  std::vector<Datum> out = agg.flush(at(kT0 + 2));  // 1 s buckets: two closed
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].storage_resolution, 1);
  EXPECT_EQ(out[1].timestamp, at(kT0 + 1));
}

TEST(MetricAggregator, StaticAndInstanceDimensionsWithOneWarningPerMissingValue) {
  AggregatorOptions o = standard();
  o.dimensions = {{"env", "prod"}};
  o.append_dimensions = {"InstanceId", "AutoScalingGroupName", "InstanceType"};
  MetricAggregator agg(o, {{"InstanceId", "i-0abc"}, {"InstanceType", "m5.large"}});
  ASSERT_EQ(agg.warnings().size(), 1u);
  EXPECT_NE(agg.warnings()[0].find("AutoScalingGroupName"), std::string::npos);
  std::vector<MetricSample> round = {sample("net", 5, kT0, "interface", "eth0")};
  agg.add(round);
  agg.add(round);
  EXPECT_EQ(agg.warnings().size(), 1u);  // not repeated per sample
  std::vector<Datum> out = agg.flush(at(kT0 + 60));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dimensions, (std::vector<DatumDimension>{
                                   {"interface", "eth0"}, {"env", "prod"}, {"InstanceId", "i-0abc"}, {"InstanceType", "m5.large"}}));
}

TEST(MetricAggregator, AggregationDimensionsRollUpLikeTheCloudWatchAgent) {
  AggregatorOptions o = standard();
  o.append_dimensions = {"InstanceId", "InstanceType"};
  o.aggregation_dimensions = {{"InstanceId"}, {}, {"AutoScalingGroupName"}, {"InstanceType", "InstanceId", "cpu"},
                              {"InstanceId"}};
  MetricAggregator agg(o, {{"InstanceId", "i-1"}, {"InstanceType", "t3.micro"}});

  // Sets for a cpu sample: full {cpu, InstanceId, InstanceType}; [InstanceId]; []; the
  // ASG set is skipped (no such dimension); the 3-name set is skipped (not smaller than the
  // metric's own set); the repeated [InstanceId] is not emitted twice.
  const agent::Dimension cpu0[] = {{"cpu", "cpu0"}};
  auto sets = agg.dimension_sets(cpu0);
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[0], (std::vector<DatumDimension>{{"cpu", "cpu0"}, {"InstanceId", "i-1"}, {"InstanceType", "t3.micro"}}));
  EXPECT_EQ(sets[1], (std::vector<DatumDimension>{{"InstanceId", "i-1"}}));
  EXPECT_TRUE(sets[2].empty());

  // cpu0 and cpu1 land in their own series and together in the roll-ups.
  std::vector<MetricSample> round = {sample("cpu_usage_idle", 10, kT0, "cpu", "cpu0"),
                                     sample("cpu_usage_idle", 20, kT0, "cpu", "cpu1")};
  agg.add(round);
  EXPECT_EQ(agg.stats().series, 4u);  // cpu0, cpu1, InstanceId, no dimensions
  std::vector<Datum> out = agg.flush(at(kT0 + 60));
  ASSERT_EQ(out.size(), 4u);
  int rolled = 0;
  for (const Datum& d : out) {
    if (d.dimensions.size() <= 1) {
      ++rolled;
      const auto& vc = std::get<ValuesCounts>(d.data);
      EXPECT_EQ(vc.values, (std::vector<double>{10, 20}));
    } else {
      EXPECT_TRUE(std::holds_alternative<double>(d.data));
    }
  }
  EXPECT_EQ(rolled, 2);

  // A metric with no dimensions of its own and no instance dims: [] is not smaller, nothing extra.
  AggregatorOptions bare_options;
  bare_options.aggregation_dimensions.emplace_back();  // [[]]
  MetricAggregator bare(bare_options, {});
  EXPECT_EQ(bare.dimension_sets({}).size(), 1u);
}

TEST(MetricAggregator, DropOldestAtTheCapAndCounts) {
  AggregatorOptions o = standard();
  o.max_pending = 3;
  MetricAggregator agg(o, {});
  for (int minute = 0; minute < 5; ++minute) {
    std::vector<MetricSample> round = {sample("m", minute, kT0 + 60 * minute), sample("m", minute, kT0 + 60 * minute + 1)};
    agg.add(round);
  }
  EXPECT_EQ(agg.pending(), 3u);
  EXPECT_EQ(agg.stats().dropped_buckets, 2u);
  EXPECT_EQ(agg.stats().dropped_values, 4u);
  std::vector<Datum> out = agg.flush(at(kT0 + 600));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].timestamp, at(kT0 + 120));  // minutes 0 and 1 were the oldest
  EXPECT_EQ(out[2].timestamp, at(kT0 + 240));
}

TEST(MetricAggregator, NonFiniteSamplesAreCountedNotAggregated) {
  MetricAggregator agg(standard(), {});
  std::vector<MetricSample> round = {sample("m", std::nan(""), kT0), sample("m", HUGE_VAL, kT0), sample("m", 1, kT0)};
  agg.add(round);
  EXPECT_EQ(agg.stats().invalid_samples, 2u);
  EXPECT_EQ(agg.stats().samples, 1u);
  std::vector<Datum> out = agg.flush(at(kT0 + 60));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<double>(out[0].data), 1.0);
}

TEST(MetricAggregator, FromConfig) {
  agent::MetricsConfig m;
  m.high_resolution = true;
  m.interval = std::chrono::seconds(10);
  m.dimensions = {{"a", "b"}};
  m.append_dimensions = {"InstanceId"};
  m.aggregation_dimensions = {{"InstanceId"}};
  agent::DeliveryConfig d;
  d.max_queue_records = 1234;
  AggregatorOptions o = AggregatorOptions::from_config(m, d);
  EXPECT_EQ(o.storage_resolution(), 1);
  EXPECT_EQ(o.max_pending, 1234u);
  EXPECT_EQ(o.dimensions, m.dimensions);
  EXPECT_EQ(o.append_dimensions, m.append_dimensions);
  EXPECT_EQ(o.aggregation_dimensions, m.aggregation_dimensions);
}

}  // namespace
