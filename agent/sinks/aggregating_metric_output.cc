#include "agent/sinks/aggregating_metric_output.h"

#include <spdlog/spdlog.h>

namespace agent {

AggregatingMetricOutput::AggregatingMetricOutput(const common::Clock& clock, common::Scheduler& scheduler,
                                                 MetricAggregator aggregator, std::string metric_namespace,
                                                 FlushOptions flush)
    : clock_(clock),
      scheduler_(scheduler),
      aggregator_(std::move(aggregator)),
      namespace_(std::move(metric_namespace)),
      flush_(flush),
      timer_(scheduler, [&clock] { return clock.steady_now(); }),
      rng_(std::random_device{}()) {
  for (const auto& w : aggregator_.warnings()) spdlog::warn("metrics: {}", w);
}

void AggregatingMetricOutput::start() {
  auto first = flush_.interval;
  if (flush_.jitter) {
    std::uniform_int_distribution<long long> phase(0, flush_.interval.count());
    first = std::chrono::milliseconds(phase(rng_));
  }
  timer_.start(flush_.interval, [this] { flush_now(false, [] {}); }, first);
}

void AggregatingMetricOutput::publish(std::span<const MetricSample> samples, common::WallTime) {
  aggregator_.add(samples);
}

void AggregatingMetricOutput::flush(std::function<void()> done) {
  timer_.stop();
  flush_now(true, std::move(done));
}

void AggregatingMetricOutput::flush_now(bool final, std::function<void()> done) {
  const common::WallTime now = clock_.wall_now();
  Batch batch;
  batch.final = final;
  batch.datums = aggregator_.flush(now, final);
  if (!batch.datums.empty()) {
    std::vector<std::size_t> dropped;
    batch.requests = cloudwatch::pack_requests(namespace_, batch.datums, now, &batch.stats, {}, &dropped);
    totals_.add(batch.stats);
    if (!dropped.empty()) {
      spdlog::warn("metrics: {} invalid datum(s) dropped before sending", batch.stats.datums_dropped);
      // Drop them from the batch too, so the local view shows exactly the datums that would be sent.
      // One pass: `dropped` is ascending.
      std::size_t next = 0, index = 0;
      std::erase_if(batch.datums, [&](const cloudwatch::Datum&) {
        const bool drop = next < dropped.size() && dropped[next] == index++;
        if (drop) ++next;
        return drop;
      });
    }
  }
  deliver(std::move(batch), std::move(done));
}

}  // namespace agent
