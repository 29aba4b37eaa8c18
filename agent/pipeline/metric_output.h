// MetricOutput: where a metrics pipeline hands its samples. The local sink and (later) the
// CloudWatch outbox implement it, so the pipeline does not know which one it feeds.
#pragma once

#include <functional>
#include <span>

#include "agent/pipeline/metric_sample.h"
#include "common/clock/clock.h"

namespace agent {

class MetricOutput {
 public:
  virtual ~MetricOutput() = default;
  // Takes one round of samples (views into them are not kept past the call).
  virtual void publish(std::span<const MetricSample> samples, common::WallTime now) = 0;
  // Delivers or persists what is pending, then calls done (possibly later, on the loop).
  virtual void flush(std::function<void()> done) = 0;
  // A short name for logs and status: "local(stdout)", "cloudwatch(us-east-1)".
  virtual std::string describe() const = 0;
};

}  // namespace agent
