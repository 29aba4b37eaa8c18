#include "agent/app/metrics_pipeline.h"

#include <spdlog/spdlog.h>

namespace agent {

MetricsPipeline::MetricsPipeline(const common::Clock& clock, common::Scheduler& scheduler,
                                 ProcSamplerOptions options, std::chrono::milliseconds interval,
                                 MetricOutput& output)
    : clock_(clock),
      sampler_(std::move(options)),
      interval_(interval),
      output_(output),
      timer_(scheduler, [&clock] { return clock.steady_now(); }),
      error_limiter_(clock, std::chrono::seconds(60), 3) {}

void MetricsPipeline::start() {
  // Prime the counters so the first tick already has deltas.
  buffer_.clear();
  if (auto st = sampler_.sample(clock_.wall_now(), buffer_); !st.ok()) {
    spdlog::warn("metrics: first read failed: {}", st.error().to_string());
  }
  const auto since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall_now().time_since_epoch());
  auto first = interval_ - since_epoch % interval_;
  timer_.start(interval_, [this] { tick(); }, first);
}

void MetricsPipeline::stop() { timer_.stop(); }

void MetricsPipeline::tick() {
  ++stats_.ticks;
  buffer_.clear();
  const common::WallTime now = clock_.wall_now();
  if (auto st = sampler_.sample(now, buffer_); !st.ok()) {
    ++stats_.failed_ticks;
    uint64_t suppressed = 0;
    if (error_limiter_.allow("sample", &suppressed)) {
      spdlog::error("metrics: sample failed: {}{}", st.error().to_string(),
                    suppressed ? fmt::format(" ({} similar errors suppressed)", suppressed) : std::string());
    }
    // A partial round (e.g. net/dev unreadable) still carries what was read.
  }
  stats_.samples += buffer_.size();
  spdlog::debug("metrics: {} samples", buffer_.size());
  output_.publish(buffer_, now);
}

}  // namespace agent
