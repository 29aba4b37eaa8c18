// Runtime: the pipelines and outputs built from one AgentConfig. SIGHUP builds a new Runtime from
// the new config and swaps it in only once it was built without error.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/app/alarm_runner.h"
#include "agent/app/audit_pipeline.h"
#include "agent/app/aws_context.h"
#include "agent/app/metrics_pipeline.h"
#include "agent/sinks/aggregating_metric_output.h"
#include "agent/config/agent_config.h"
#include "agent/sinks/local_sink.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/result/result.h"

namespace agent {

class CloudWatchMetricOutput;

struct RuntimeOptions {
  bool force_local_stdout = false;  // `once`: print everything to stdout whatever the outputs say
  bool flush_jitter = true;         // random phase of flush timers (off for `once`)
  boost::asio::io_context* io = nullptr;  // the loop; the audit pipeline (file watching) needs it
  std::string event_host;  // the persisted host identity event ids are made from (HostContext::event_host)
};

class Runtime {
 public:
  // aws may be null when no output talks to AWS (config_needs_aws() is false) or for `once`.
  static common::Result<std::unique_ptr<Runtime>> build(const AgentConfig& config, const common::Clock& clock,
                                                        common::Scheduler& scheduler, AwsContext* aws,
                                                        RuntimeOptions options = {});
  ~Runtime();

  void start();                               // sources begin producing
  void stop_sources();                        // no new records; pending ones stay
  void flush(std::function<void()> done);     // hand pending records to their outputs
  void reopen_outputs();                      // after logrotate
  std::string describe() const;               // one line for the startup log and STATUS=
  std::string status_line() const;            // counters, for the periodic status log

  MetricsPipeline* metrics() { return metrics_.get(); }
  AggregatingMetricOutput* metric_output() { return metric_output_.get(); }
  AlarmRunner* alarms() { return alarms_.get(); }  // null without `alarms:`
  AuditPipeline* audit() { return audit_.get(); }  // null when audit is off (or no io in the options)

 private:
  Runtime() = default;
  std::unique_ptr<LocalSink> local_;
  std::unique_ptr<AggregatingMetricOutput> metric_output_;
  CloudWatchMetricOutput* cloudwatch_ = nullptr;  // metric_output_ when it is the CloudWatch one (status line)
  std::unique_ptr<AlarmRunner> alarms_;        // uses local_; fed by alarm_tap_
  std::unique_ptr<AlarmMetricTap> alarm_tap_;  // metrics_ -> metric_output_ + alarms_
  std::unique_ptr<MetricsPipeline> metrics_;
  std::unique_ptr<AuditPipeline> audit_;  // trail outputs write to local_; taps alarms_
};

// Creates dir and its parents (mode 0750) if missing; an error names the path and the reason.
common::Status ensure_directory(const std::string& dir);

// agent.state_dir before anything is read from or written to it: created (0750) if missing, and
// writable. Otherwise a kConfig error naming the directory, the reason and the fix: the agent must
// not start and then fail every checkpoint commit, re-sending everything after each restart.
common::Status prepare_state_dir(const std::string& dir);

// ssh-style warnings about the modes of what holds secrets: the AWS shared credentials file
// readable by group or others, agent.state_dir open to others. Empty when all is well.
std::vector<std::string> file_mode_warnings(const AgentConfig& config, const common::Environment& env);

}  // namespace agent
