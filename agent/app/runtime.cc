#include "agent/app/runtime.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/sinks/cloudwatch_metric_output.h"
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

namespace {

InstanceMetadata instance_metadata(const AwsContext* aws) {
  InstanceMetadata md;
  if (aws == nullptr || !aws->identity()) return md;
  const auto& id = *aws->identity();
  if (!id.instance_id.empty()) md["InstanceId"] = id.instance_id;
  if (!id.instance_type.empty()) md["InstanceType"] = id.instance_type;
  if (!id.image_id.empty()) md["ImageId"] = id.image_id;
  return md;
}

}  // namespace

common::Result<std::unique_ptr<Runtime>> Runtime::build(const AgentConfig& config, const common::Clock& clock,
                                                        common::Scheduler& scheduler, AwsContext* aws,
                                                        RuntimeOptions options) {
  std::unique_ptr<Runtime> rt(new Runtime());
  auto local = LocalSink::open(options.force_local_stdout ? std::string("-") : config.local.path, config.local.pretty);
  if (!local.ok()) return std::move(local).error().wrap("opening the local output");
  rt->local_ = std::move(*local);

  if (config.metrics.enabled) {
    MetricAggregator aggregator(AggregatorOptions::from_config(config.metrics, config.delivery),
                                instance_metadata(aws));
    FlushOptions flush;
    flush.interval = config.metrics.flush_interval;
    flush.jitter = options.flush_jitter;
    if (config.metrics.output == MetricsOutput::kCloudWatch && !options.force_local_stdout) {
      if (aws == nullptr) return common::Error(common::ErrorCode::kInternal, "metrics.output cloudwatch without AWS");
      auto endpoint = aws->endpoint(common::aws::Service::kCloudWatch);
      if (!endpoint.ok()) return std::move(endpoint).error().wrap("metrics.output: cloudwatch endpoint");
      CloudWatchMetricOutput::Options cw;
      cw.endpoint = std::move(*endpoint);
      cw.max_queued_datums = static_cast<std::size_t>(config.delivery.max_queue_records);
      rt->metric_output_ = std::make_unique<CloudWatchMetricOutput>(
          clock, scheduler, std::move(aggregator), config.metrics.namespace_name, flush, aws->client(), std::move(cw));
    } else {
      rt->metric_output_ = std::make_unique<LocalMetricOutput>(clock, scheduler, std::move(aggregator),
                                                               config.metrics.namespace_name, flush, *rt->local_);
    }

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
  if (metrics_) {
    metrics_->start();
    metric_output_->start();
  }
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
  const auto& pk = metric_output_->pack_totals();
  return fmt::format(
      "metrics: {} rounds, {} samples, {} failed rounds, {} read errors, {} parse errors; {} datums in {} requests "
      "({} bytes, {} on the wire), {} invalid dropped; local records {}",
      s.ticks, s.samples, s.failed_ticks, ps.read_errors, ps.parse_errors, pk.datums_sent, pk.requests, pk.raw_bytes,
      pk.wire_bytes, pk.datums_dropped, local_ ? local_->records_written() : 0);
}

}  // namespace agent
