// MetricsPipeline: ProcSampler on a timer, feeding a MetricOutput.
// Ticks sit on wall-clock multiples of the interval (…:00, …:10, …:20 for 10 s), as the CloudWatch
// agent does, so datapoints from a fleet line up; the first read at start only primes the counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "agent/pipeline/metric_output.h"
#include "agent/sources/proc_sampler.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/log/log.h"

namespace agent {

class MetricsPipeline {
 public:
  MetricsPipeline(const common::Clock& clock, common::Scheduler& scheduler, ProcSamplerOptions options,
                  std::chrono::milliseconds interval, MetricOutput& output);

  void start();      // primes now, then ticks on the interval grid
  void stop();       // no further ticks
  void tick();       // one sample round, published to the output (public for `once` and tests)

  struct Stats {
    std::uint64_t ticks = 0;
    std::uint64_t samples = 0;
    std::uint64_t failed_ticks = 0;
  };
  const Stats& stats() const { return stats_; }
  const ProcSampler& sampler() const { return sampler_; }
  MetricOutput& output() { return output_; }

 private:
  const common::Clock& clock_;
  ProcSampler sampler_;
  std::chrono::milliseconds interval_;
  MetricOutput& output_;
  common::PeriodicTimer timer_;
  std::vector<MetricSample> buffer_;
  common::log::RateLimiter error_limiter_;
  Stats stats_;
};

}  // namespace agent
