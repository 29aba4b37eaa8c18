// Encoding one full PutMetricData request: 1000 datums, each with 3 dimensions.
//   Query/ValuesCounts    1000 datums x 5 distinct values with counts (the aggregator's usual output)
//   Query/Value           1000 single-Value datums (same shape as the JSON baseline)
//   Query*Gzip            the same bodies, then gzip level 6 (what pack_requests adds for >= 10 KB)
//   Pack/ValuesCounts     pack_requests: validation + encoding + gzip, as the sink calls it
//   Json/Value (baseline) put_metric_data_json(...).dump() of 1000 MetricSamples (metric_json.h)
// Fixed inputs and seed; bytes/s counts the uncompressed body.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "agent/pipeline/metric_sample.h"
#include "agent/sinks/cloudwatch_encoder.h"
#include "agent/sinks/metric_json.h"
#include "common/http/gzip.h"

namespace {

using agent::cloudwatch::Datum;

const common::WallTime kTime{std::chrono::seconds(1'767'225'600)};

struct Inputs {
  std::vector<std::string> names;
  std::vector<Datum> values_counts;
  std::vector<Datum> single;
  std::vector<agent::MetricSample> samples;
};

const Inputs& inputs() {
  static const Inputs in = [] {
    Inputs r;
    std::mt19937_64 rng(1234);
    std::uniform_real_distribution<double> dist(0, 100);
    for (int i = 0; i < 1000; ++i) r.names.push_back("cpu_usage_metric_" + std::to_string(i));
    for (int i = 0; i < 1000; ++i) {
      Datum d;
      d.metric_name = r.names[static_cast<std::size_t>(i)];
      d.dimensions = {{"cpu", "cpu-total"}, {"InstanceId", "i-0123456789abcdef0"}, {"InstanceType", "m5.large"}};
      d.timestamp = kTime;
      d.unit = "Percent";
      agent::cloudwatch::ValuesCounts vc;
      for (int k = 0; k < 5; ++k) {
        vc.values.push_back(dist(rng));
        vc.counts.push_back(1 + k * 3);
      }
      std::sort(vc.values.begin(), vc.values.end());
      d.data = vc;
      r.values_counts.push_back(d);
      d.data = vc.values[0];
      r.single.push_back(d);
    }
    for (const Datum& d : r.single) {
      agent::MetricSample s;
      s.name = d.metric_name;
      s.unit = agent::Unit::kPercent;
      s.value = std::get<double>(d.data);
      s.time = kTime;
      s.dims[0] = {d.dimensions[0].name, d.dimensions[0].value};
      s.dims[1] = {d.dimensions[1].name, d.dimensions[1].value};
      s.dim_count = 2;  // MetricSample holds at most 2; the third costs the JSON side nothing extra
      r.samples.push_back(s);
    }
    return r;
  }();
  return in;
}

void run_query(benchmark::State& state, const std::vector<Datum>& datums, bool gzip) {
  std::string body;
  std::size_t bytes = 0;
  for (auto _ : state) {
    body.clear();
    agent::cloudwatch::encode_put_metric_data("CWAgent", datums, body);
    if (gzip) {
      std::string z = common::http::gzip_compress(body, 6);
      benchmark::DoNotOptimize(z.data());
      state.counters["gzip_bytes"] = static_cast<double>(z.size());
    }
    benchmark::DoNotOptimize(body.data());
    bytes += body.size();
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_Query_ValuesCounts(benchmark::State& state) { run_query(state, inputs().values_counts, false); }
void BM_QueryGzip_ValuesCounts(benchmark::State& state) { run_query(state, inputs().values_counts, true); }
void BM_Query_Value(benchmark::State& state) { run_query(state, inputs().single, false); }
void BM_QueryGzip_Value(benchmark::State& state) { run_query(state, inputs().single, true); }

void BM_Pack_ValuesCounts(benchmark::State& state) {
  const auto& datums = inputs().values_counts;
  for (auto _ : state) {
    auto reqs = agent::cloudwatch::pack_requests("CWAgent", datums, kTime);
    benchmark::DoNotOptimize(reqs.data());
  }
}

void BM_Json_Value(benchmark::State& state) {
  const auto& samples = inputs().samples;
  std::size_t bytes = 0;
  std::string body;
  for (auto _ : state) {
    body = agent::put_metric_data_json("CWAgent", samples, 60).dump();
    benchmark::DoNotOptimize(body.data());
    bytes += body.size();
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(BM_Json_Value)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Query_Value)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QueryGzip_Value)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Query_ValuesCounts)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_QueryGzip_ValuesCounts)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Pack_ValuesCounts)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
