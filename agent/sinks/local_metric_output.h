// MetricOutput that writes each round as one PutMetricData payload to the LocalSink.
#pragma once

#include <string>

#include "agent/pipeline/metric_output.h"
#include "agent/sinks/local_sink.h"
#include "agent/sinks/metric_json.h"

namespace agent {

class LocalMetricOutput final : public MetricOutput {
 public:
  LocalMetricOutput(LocalSink& sink, std::string metric_namespace, int storage_resolution)
      : sink_(sink), namespace_(std::move(metric_namespace)), resolution_(storage_resolution) {}

  void publish(std::span<const MetricSample> samples, common::WallTime now) override;
  void flush(std::function<void()> done) override;
  std::string describe() const override { return "local(" + (sink_.path() == "-" ? std::string("stdout") : sink_.path()) + ")"; }

  std::uint64_t write_errors() const { return write_errors_; }

 private:
  LocalSink& sink_;
  std::string namespace_;
  int resolution_;
  std::uint64_t write_errors_ = 0;
};

}  // namespace agent
