#include "agent/sinks/local_metric_output.h"

#include <spdlog/spdlog.h>

namespace agent {

void LocalMetricOutput::publish(std::span<const MetricSample> samples, common::WallTime now) {
  if (samples.empty()) return;
  auto st = sink_.write(now, "cloudwatch", "PutMetricData", put_metric_data_json(namespace_, samples, resolution_));
  if (st.ok()) st = sink_.flush();
  if (!st.ok()) {
    ++write_errors_;
    spdlog::error("local output: {}", st.error().to_string());
  }
}

void LocalMetricOutput::flush(std::function<void()> done) {
  if (auto st = sink_.flush(); !st.ok()) spdlog::error("local output: {}", st.error().to_string());
  done();
}

}  // namespace agent
