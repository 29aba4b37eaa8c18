// LocalMetricOutput: each flush's PutMetricData requests written to the LocalSink as JSON lines —
// the same datums the CloudWatch output would send, with the request count and wire sizes.
#pragma once

#include "agent/sinks/aggregating_metric_output.h"
#include "agent/sinks/local_sink.h"

namespace agent {

class LocalMetricOutput final : public AggregatingMetricOutput {
 public:
  LocalMetricOutput(const common::Clock& clock, common::Scheduler& scheduler, MetricAggregator aggregator,
                    std::string metric_namespace, FlushOptions flush, LocalSink& sink)
      : AggregatingMetricOutput(clock, scheduler, std::move(aggregator), std::move(metric_namespace), flush),
        sink_(sink) {}

  std::string describe() const override {
    return "local(" + (sink_.path() == "-" ? std::string("stdout") : sink_.path()) + ")";
  }
  std::uint64_t write_errors() const { return write_errors_; }

 protected:
  void deliver(Batch batch, std::function<void()> done) override;

 private:
  LocalSink& sink_;
  std::uint64_t write_errors_ = 0;
};

}  // namespace agent
