#include "agent/app/runtime.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/sinks/local_metric_output.h"

namespace agent {

common::Status ensure_directory(const std::string& dir) {
  if (dir.empty()) return common::Error(common::ErrorCode::kInvalidArgument, "empty directory path");
  std::string partial;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0750) != 0 && errno != EEXIST) {
      return common::Error(errno == EACCES ? common::ErrorCode::kPermissionDenied : common::ErrorCode::kIo,
                           fmt::format("cannot create directory {}: {}", partial, std::strerror(errno)));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return common::Error(common::ErrorCode::kIo, fmt::format("{} is not a directory", dir));
  }
  return {};
}

common::Result<std::unique_ptr<Runtime>> Runtime::build(const AgentConfig& config, const common::Clock& clock,
                                                        common::Scheduler& scheduler, RuntimeOptions options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  auto local = LocalSink::open(options.force_local_stdout ? std::string("-") : config.local.path, config.local.pretty);
  if (!local.ok()) return std::move(local).error().wrap("opening the local output");
  rt->local_ = std::move(*local);

  if (config.metrics.enabled) {
    const bool high_res = config.metrics.high_resolution && config.metrics.interval < std::chrono::seconds(60);
    const int resolution = high_res ? 1 : 60;
    if (config.metrics.output == MetricsOutput::kCloudWatch && !options.force_local_stdout) {
      return common::Error(common::ErrorCode::kConfig,
                           "metrics.output: cloudwatch is not available in this build yet; use \"local\"");
    }
    rt->metric_output_ = std::make_unique<LocalMetricOutput>(*rt->local_, config.metrics.namespace_name, resolution);

    ProcSamplerOptions po;
    po.proc_root = config.agent.proc_root;
    po.cpu = config.metrics.cpu.enabled;
    po.cpu_total = config.metrics.cpu.total;
    po.per_cpu = config.metrics.cpu.per_cpu;
    po.memory = config.metrics.memory.enabled;
    po.swap = config.metrics.memory.swap;
    po.network = config.metrics.network.enabled;
    po.net_include = config.metrics.network.include;
    po.net_exclude = config.metrics.network.exclude;
    rt->metrics_ = std::make_unique<MetricsPipeline>(clock, scheduler, std::move(po), config.metrics.interval,
                                                     *rt->metric_output_);
  }
  return rt;
}

Runtime::~Runtime() { stop_sources(); }

void Runtime::start() {
  if (metrics_) metrics_->start();
}

void Runtime::stop_sources() {
  if (metrics_) metrics_->stop();
}

void Runtime::flush(std::function<void()> done) {
  if (metric_output_) {
    metric_output_->flush(std::move(done));
    return;
  }
  done();
}

void Runtime::reopen_outputs() {
  if (local_) {
    if (auto st = local_->reopen(); !st.ok()) spdlog::error("{}", st.error().to_string());
  }
}

std::string Runtime::describe() const {
  if (!metrics_) return "metrics off";
  return fmt::format("metrics -> {}", metric_output_->describe());
}

std::string Runtime::status_line() const {
  if (!metrics_) return "metrics off";
  const auto& s = metrics_->stats();
  const auto& ps = metrics_->sampler().stats();
  return fmt::format("metrics: {} rounds, {} samples, {} failed rounds, {} read errors, {} parse errors; local records {}",
                     s.ticks, s.samples, s.failed_ticks, ps.read_errors, ps.parse_errors,
                     local_ ? local_->records_written() : 0);
}

}  // namespace agent
