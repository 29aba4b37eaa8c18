// AggregatingMetricOutput: what every metrics output shares. Samples go into a MetricAggregator;
// every flush_interval (on a grid offset by a random phase, so a fleet does not call at the same
// second) the closed buckets become datums, are validated and packed into PutMetricData requests
// within the API's limits, and handed to deliver(). The local output writes them; the CloudWatch
// output sends them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "agent/pipeline/metric_output.h"
#include "agent/sinks/cloudwatch_encoder.h"
#include "agent/sinks/metric_aggregator.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"

namespace agent {

struct FlushOptions {
  std::chrono::milliseconds interval{60'000};  // metrics.flush_interval
  bool jitter = true;                          // random phase of the flush grid (off in tests)
};

class AggregatingMetricOutput : public MetricOutput {
 public:
  AggregatingMetricOutput(const common::Clock& clock, common::Scheduler& scheduler, MetricAggregator aggregator,
                          std::string metric_namespace, FlushOptions flush);
  ~AggregatingMetricOutput() override = default;

  void start();  // arms the flush timer
  void publish(std::span<const MetricSample> samples, common::WallTime now) override;
  // Final flush: every open bucket, then deliver; done runs when delivery has finished (or failed).
  void flush(std::function<void()> done) override;
  // One flush of the buckets closed by now (public for tests and `once`).
  void flush_now(bool final, std::function<void()> done);

  struct Batch {
    std::vector<cloudwatch::Datum> datums;          // valid datums, in request order
    std::vector<cloudwatch::PackedRequest> requests;
    cloudwatch::PackStats stats;
    bool final = false;  // the last flush before stopping
  };
  const MetricAggregator& aggregator() const { return aggregator_; }
  const cloudwatch::PackStats& pack_totals() const { return totals_; }
  const std::string& metric_namespace() const { return namespace_; }

 protected:
  // Hands one flush's requests to the destination; must call done exactly once.
  virtual void deliver(Batch batch, std::function<void()> done) = 0;

  const common::Clock& clock_;
  common::Scheduler& scheduler_;

 private:
  MetricAggregator aggregator_;
  std::string namespace_;
  FlushOptions flush_;
  common::PeriodicTimer timer_;
  cloudwatch::PackStats totals_;
  std::minstd_rand rng_;
};

}  // namespace agent
