#include "agent/app/runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/app/host_discovery.h"
#include "agent/sinks/cloudwatch_metric_output.h"
#include "agent/sinks/local_metric_output.h"
#include "common/aws/endpoints.h"
#include "common/aws/shared_config.h"
#include "common/config/file_modes.h"

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

common::Status prepare_state_dir(const std::string& dir) {
  const std::string fix = "make it a directory the user trailwatch runs as can write (chown/chmod), or set "
                          "agent.state_dir to one";
  if (auto st = ensure_directory(dir); !st.ok()) {
    return common::Error(common::ErrorCode::kConfig, fmt::format("{}; {}", st.error().message(), fix));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return common::Error(common::ErrorCode::kConfig,
                         fmt::format("cannot write to {}: {}; {}", dir, std::strerror(errno), fix));
  }
  return {};
}

std::vector<std::string> file_mode_warnings(const AgentConfig& config, const common::Environment& env) {
  std::vector<std::string> out;
  struct stat st {};
  const std::string& state_dir = config.agent.state_dir;
  if (::stat(state_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (auto w = common::private_directory_mode_warning(
            "agent.state_dir", state_dir, static_cast<unsigned>(st.st_mode) & 07777,
            "checkpoints, spooled audit records and alarm state");
        !w.empty()) {
      out.push_back(std::move(w));
    }
  }
  const std::string credentials = common::aws::shared_config_paths(env).credentials_file;
  if (!credentials.empty() && ::stat(credentials.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    if (auto w = common::secret_file_mode_warning("AWS shared credentials file", credentials,
                                                  static_cast<unsigned>(st.st_mode) & 07777);
        !w.empty()) {
      out.push_back(std::move(w));
    }
  }
  return out;
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

// Alarms: SNS through AWS when there is an AwsContext (and not `once`), else the local sink.
common::Result<std::unique_ptr<AlarmRunner>> build_alarms(const AgentConfig& config, const common::Clock& clock,
                                                          common::Scheduler& scheduler, AwsContext* aws,
                                                          LocalSink& local, const RuntimeOptions& options) {
  AlarmRunnerOptions ao;
  ao.state_dir = config.agent.state_dir;
  ao.persist = !options.force_local_stdout;
  ao.delivery.max_backoff = config.delivery.retry_max_backoff;
  if (config.metrics.enabled && config.metrics.interval.count() > 0) {
    // The second metrics tick: ticks sit on multiples of the interval and the read at start only
    // primes; the first tick can come so soon after it that no jiffy elapsed (no CPU sample), the
    // second always measures a whole interval.
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall_now().time_since_epoch());
    const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(config.metrics.interval);
    ao.evaluate_from = common::WallTime(now_ms - now_ms % interval + 2 * interval);
  }
  for (const auto& [k, v] : instance_metadata(aws)) ao.common_dimensions[k] = v;
  for (const auto& [k, v] : config.metrics.dimensions) ao.common_dimensions[k] = v;
  NotificationContext& ctx = ao.context;
  ctx.region = aws != nullptr ? aws->region() : config.aws.region;
  ctx.region_display_name = std::string(common::aws::region_display_name(ctx.region).value_or(ctx.region));
  ctx.namespace_name = config.metrics.namespace_name;
  if (aws != nullptr && aws->identity()) ctx.account_id = aws->identity()->account_id;
  std::unique_ptr<SnsPublisher> publisher;
  if (aws != nullptr && !options.force_local_stdout) {
    auto endpoint = aws->endpoint(common::aws::Service::kSns);
    if (!endpoint.ok()) return std::move(endpoint).error().wrap("alarms: sns endpoint");
    ctx.partition = endpoint->partition.empty() ? ctx.partition : endpoint->partition;
    publisher = std::make_unique<AwsSnsPublisher>(aws->client(), std::move(*endpoint));
  }
  if (ctx.account_id.empty()) {
    // Off EC2: the account of the first topic ARN (arn:partition:sns:region:account:name).
    for (const auto& a : config.alarms) {
      for (const auto* list : {&a.alarm_actions, &a.ok_actions, &a.insufficient_data_actions}) {
        for (const auto& arn : *list) {
          std::vector<std::string> parts;
          std::size_t b = 0;
          for (std::size_t e = arn.find(':'); e != std::string::npos; b = e + 1, e = arn.find(':', b)) {
            parts.push_back(arn.substr(b, e - b));
          }
          if (parts.size() == 5 && ctx.account_id.empty()) ctx.account_id = parts[4];
        }
      }
    }
  }
  return AlarmRunner::create(config.alarms, clock, scheduler, std::move(publisher), &local, std::move(ao));
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
      cw.spool_path = (std::filesystem::path(config.agent.state_dir) / kMetricsSpoolFile).string();
      auto output = std::make_unique<CloudWatchMetricOutput>(
          clock, scheduler, std::move(aggregator), config.metrics.namespace_name, flush, aws->client(), std::move(cw));
      rt->cloudwatch_ = output.get();
      rt->metric_output_ = std::move(output);
    } else {
      rt->metric_output_ = std::make_unique<LocalMetricOutput>(clock, scheduler, std::move(aggregator),
                                                               config.metrics.namespace_name, flush, *rt->local_);
    }

    if (!config.alarms.empty()) {
      auto alarms = build_alarms(config, clock, scheduler, aws, *rt->local_, options);
      if (!alarms.ok()) return std::move(alarms).error();
      rt->alarms_ = std::move(*alarms);
      rt->alarm_tap_ = std::make_unique<AlarmMetricTap>(*rt->metric_output_, *rt->alarms_);
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
    MetricOutput& out = rt->alarm_tap_ ? static_cast<MetricOutput&>(*rt->alarm_tap_) : *rt->metric_output_;
    rt->metrics_ = std::make_unique<MetricsPipeline>(clock, scheduler, std::move(po), config.metrics.interval, out);
  }
  if (!rt->alarms_ && !config.alarms.empty()) {  // audit-only alarms with metrics off
    auto alarms = build_alarms(config, clock, scheduler, aws, *rt->local_, options);
    if (!alarms.ok()) return std::move(alarms).error();
    rt->alarms_ = std::move(*alarms);
  }
  if (config.audit.enabled && options.io != nullptr) {
    const common::aws::InstanceIdentity* identity = aws != nullptr && aws->identity() ? &*aws->identity() : nullptr;
    HostContext host = make_host_context(config, identity, aws != nullptr ? aws->region() : config.aws.region,
                                         options.event_host);
    auto outputs = build_trail_outputs(config, clock, scheduler, aws, *rt->local_, host, options.force_local_stdout);
    if (!outputs.ok()) return std::move(outputs).error();
    AuditPipelineOptions ao = AuditPipelineOptions::from_config(config, std::move(host));
    ao.persist_checkpoints = !options.force_local_stdout;  // `once` neither reads nor moves checkpoints
    rt->audit_ = std::make_unique<AuditPipeline>(*options.io, scheduler, clock, std::move(ao), std::move(*outputs));
    if (rt->alarms_) {
      rt->audit_->set_record_tap([alarms = rt->alarms_.get()](const TrailRecord& r) { alarms->add_audit_record(r); });
    }
  }
  return rt;
}

Runtime::~Runtime() { stop_sources(); }

void Runtime::start() {
  if (audit_) audit_->start();
  if (alarms_) alarms_->start();
  if (metrics_) {
    metrics_->start();
    metric_output_->start();
  }
}

void Runtime::stop_sources() {
  if (audit_) audit_->stop();
  if (metrics_) metrics_->stop();
  if (alarms_) alarms_->stop();
}

void Runtime::flush(std::function<void()> done) {
  if (audit_) {  // audit and metrics flush side by side; done after both
    auto parts = std::make_shared<int>(metric_output_ ? 2 : 1);
    auto all = std::make_shared<std::function<void()>>(std::move(done));
    auto part = [parts, all] {
      if (--*parts == 0 && *all) (*all)();
    };
    audit_->flush(part);
    if (metric_output_) metric_output_->flush(part);
    return;
  }
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
  std::string out = metrics_ ? fmt::format("metrics -> {}", metric_output_->describe()) : "metrics off";
  if (alarms_) out += fmt::format("; {}", alarms_->describe());
  if (audit_) out += fmt::format("; {}", audit_->describe());
  return out;
}

std::string Runtime::status_line() const {
  const std::string audit = audit_ ? "; " + audit_->status_line() : std::string();
  if (!metrics_) return (alarms_ ? alarms_->status_line() : "metrics off") + audit;
  const auto& s = metrics_->stats();
  const auto& ps = metrics_->sampler().stats();
  const auto& pk = metric_output_->pack_totals();
  return fmt::format(
      "metrics: {} rounds, {} samples, {} failed rounds, {} read errors, {} parse errors; {} datums in {} requests "
      "({} bytes, {} on the wire), {} invalid dropped; local records {}",
      s.ticks, s.samples, s.failed_ticks, ps.read_errors, ps.parse_errors, pk.datums_sent, pk.requests, pk.raw_bytes,
      pk.wire_bytes, pk.datums_dropped, local_ ? local_->records_written() : 0) +
         (cloudwatch_ ? "; " + cloudwatch_->status_line() : std::string()) +
         (alarms_ ? "; " + alarms_->status_line() : std::string()) + audit;
}

}  // namespace agent
