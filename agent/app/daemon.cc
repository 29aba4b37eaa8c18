#include "agent/app/daemon.h"

#include <csignal>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/app/aws_context.h"
#include "agent/app/host_discovery.h"
#include "agent/app/instance_state.h"
#include "agent/app/runtime.h"
#include "agent/app/ssm_config.h"
#include "agent/sinks/cloudwatch_cost.h"
#include "agent/config/agent_config.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/event/sd_notify.h"
#include "common/log/log.h"

namespace agent {
namespace {

constexpr auto kStatusLogPeriod = std::chrono::minutes(10);

void print_diagnostics(const ConfigLoad& load) {
  for (const auto& w : load.warnings) std::fprintf(stderr, "warning: %s\n", w.to_string().c_str());
  for (const auto& e : load.errors) std::fprintf(stderr, "error: %s\n", e.to_string().c_str());
}

void setup_logging(const std::string& level) {
  common::log::LogOptions lo;
  lo.level = level;
  lo.journald = std::getenv("JOURNAL_STREAM") != nullptr;
  common::log::setup(lo);
}

// Loads and reports a config; nullopt (after printing why) when it has errors.
std::optional<AgentConfig> load_or_report(const std::string& path, const common::Environment& env) {
  ConfigLoad load = load_config_file(path, env);
  print_diagnostics(load);
  if (!load.errors.empty() || !load.config) {
    std::fprintf(stderr, "%s: %zu error(s); trailwatch validate --config %s lists them again\n", path.c_str(),
                 load.errors.size(), path.c_str());
    return std::nullopt;
  }
  return std::move(load.config);
}

// The start-up config of run/once: a file, or an ssm: parameter (fetched, else the cached copy).
// Sets exit_code when there is none.
std::optional<AgentConfig> load_startup_config(const ConfigSource& source, const common::Environment& env,
                                               int& exit_code) {
  const auto name = ssm_parameter_of(source.config_path);
  if (!name) {
    auto config = load_or_report(source.config_path, env);
    if (!config) exit_code = kExitConfig;
    return config;
  }
  SsmConfigResult got = obtain_ssm_config(*name, source.state_dir, env, source.allow_cache);
  for (const auto& m : got.messages) spdlog::log(m.starts_with("warning") ? spdlog::level::warn : spdlog::level::err,
                                                "{}", m.substr(m.find(": ") + 2));
  for (const auto& w : got.warnings) spdlog::warn("config: {}", w.to_string());
  if (!got.config) {
    exit_code = got.fetched_invalid ? kExitConfig : kExitUnavailable;
    spdlog::critical("no configuration from {} (trailwatch validate --config {} checks it)", source.config_path,
                     source.config_path);
    return std::nullopt;
  }
  if (!got.from_cache) spdlog::info("configuration fetched from {}", source.config_path);
  return got.config;
}

class Daemon {
 public:
  Daemon(ConfigSource source, const common::Environment& env, AgentConfig config)
      : config_path_(source.config_path),
        source_(std::move(source)),
        ssm_name_(ssm_parameter_of(source_.config_path)),
        env_(env),
        config_(std::move(config)),
        scheduler_(io_),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        notifier_(common::SystemdNotifier::from_environment()),
        watchdog_(scheduler_, [this] { return clock_.steady_now(); }),
        status_timer_(scheduler_, [this] { return clock_.steady_now(); }) {}

  int run() {
    if (auto st = prepare_state_dir(config_.agent.state_dir); !st.ok()) {
      spdlog::critical("cannot start: agent.state_dir: {}", st.error().to_string());
      return st.error().code() == common::ErrorCode::kConfig ? kExitConfig : kExitFailure;
    }
    for (const auto& w : file_mode_warnings(config_, env_)) spdlog::warn("{}", w);
    auto lock = acquire_daemon_lock(config_.agent.state_dir);
    if (!lock.ok()) {
      spdlog::critical("cannot start: {}", lock.error().to_string());
      return kExitFailure;
    }
    lock_fd_ = *lock;
    if (config_needs_aws(config_)) {
      auto aws = start_aws(config_);
      if (!aws.ok()) {
        spdlog::critical("cannot start: {}", aws.error().to_string());
        return aws.error().code() == common::ErrorCode::kConfig ? kExitConfig : kExitFailure;
      }
      aws_ = std::move(*aws);
      spdlog::info("aws: {}", aws_->describe());
    }
    check_new_instance();
    auto rt = Runtime::build(config_, clock_, scheduler_, aws_.get(), runtime_options());
    if (!rt.ok()) {
      spdlog::critical("cannot start: {}", rt.error().to_string());
      return rt.error().code() == common::ErrorCode::kConfig ? kExitConfig : kExitFailure;
    }
    runtime_ = std::move(*rt);
    runtime_->start();
    start_discovery_if_needed();
    wait_for_signal();

    if (auto period = common::SystemdNotifier::watchdog_period_from_environment()) {
      watchdog_.start(*period, [this] { (void)notifier_.notify("WATCHDOG=1"); }, std::chrono::nanoseconds(0));
    }
    status_timer_.start(kStatusLogPeriod, [this] { spdlog::info("status: {}", runtime_->status_line()); },
                        kStatusLogPeriod);
    spdlog::info("trailwatch {} running (config {}): {}", TRAILWATCH_VERSION, config_path_, runtime_->describe());
    (void)notifier_.notify(fmt::format("READY=1\nSTATUS={}\nMAINPID={}", runtime_->describe(), ::getpid()));

    io_.run();
    spdlog::info("trailwatch stopped: {}", runtime_ ? runtime_->status_line() : std::string("no runtime"));
    return exit_code_;
  }

 private:
  // Builds the AWS context and waits (on the loop, before anything else runs) for its start-up
  // discovery; IMDS gives up within 2 s off EC2.
  common::Result<std::unique_ptr<AwsContext>> start_aws(const AgentConfig& config) {
    auto ctx = AwsContext::create(io_, clock_, scheduler_, env_, config.aws);
    if (!ctx.ok()) return std::move(ctx).error();
    std::optional<common::Status> result;
    (*ctx)->initialize([&result](common::Status st) { result = std::move(st); });
    while (!result && io_.run_one() > 0) {
    }
    io_.restart();
    if (!result) return common::Error(common::ErrorCode::kInternal, "AWS start-up did not complete");
    if (!result->ok()) return std::move(*result).error();
    return std::move(*ctx);
  }

  // Before the pipelines load their state: a new instance (from an image) starts fresh. Also settles
  // the persisted host identity event ids are made from (event_host_).
  void check_new_instance() {
    HostIdentity current;
    if (aws_ && aws_->identity()) current.instance_id = aws_->identity()->instance_id;
    current.machine_id = read_machine_id(machine_id_path());
    const IdentityCheck check = check_instance_identity(config_.agent.state_dir, config_.delivery.spool_dir, current,
                                                        read_boot_id(config_.agent.proc_root));
    event_host_ = check.identity.event_host;
    if (check.log_line.empty()) return;
    if (check.reset) {
      spdlog::warn("{}", check.log_line);
    } else {
      spdlog::info("{}", check.log_line);
    }
  }

  RuntimeOptions runtime_options() {
    RuntimeOptions options;
    options.io = &io_;
    options.event_host = event_host_;
    return options;
  }

  // IMDS did not answer at start (or at a reload that brought a new AWS context): ask again with
  // backoff until it does (host_discovery.h).
  void start_discovery_if_needed() {
    if (!aws_ || aws_->identity() || !aws_->identity_error()) return;
    AwsContext* aws = aws_.get();
    discovery_ = std::make_unique<DiscoveryRetry>(
        scheduler_, rng_, [aws](auto done) { aws->probe_identity(std::move(done)); },
        [this](const common::aws::InstanceIdentity& id) { on_identity_found(id); });
    discovery_->start(*aws_->identity_error());
  }

  // IMDS answered after all: the new-instance check runs again and the pipelines are rebuilt from the
  // running configuration, so that the InstanceId dimension and the log stream name pick it up
  // (docs/delivery.md "Host identity"). The old pipelines go first: they commit their checkpoints
  // on the way out, before a reset for a new instance could remove them.
  void on_identity_found(const common::aws::InstanceIdentity& id) {
    if (stopping_ || !aws_ || !runtime_) return;
    aws_->set_identity(id);
    runtime_->stop_sources();
    runtime_->flush([] {});
    runtime_.reset();
    check_new_instance();
    auto rt = Runtime::build(config_, clock_, scheduler_, aws_.get(), runtime_options());
    if (!rt.ok()) {
      spdlog::critical("cannot rebuild the pipelines with instance {}: {}", id.instance_id, rt.error().to_string());
      exit_code_ = kExitFailure;
      finish();
      return;
    }
    runtime_ = std::move(*rt);
    runtime_->start();
    spdlog::info("pipelines rebuilt for instance {} (event ids named by {}): {}", id.instance_id, event_host_,
                 runtime_->describe());
    (void)notifier_.notify(fmt::format("STATUS={}", runtime_->describe()));
  }

  void wait_for_signal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signo) noexcept {
      if (ec) return;
      try {
        if (signo == SIGHUP) {
          reload();
          wait_for_signal();
        } else {
          begin_stop(signo);
        }
      } catch (const std::exception& e) {
        spdlog::critical("signal handling failed: {}", e.what());
        exit_code_ = kExitFailure;
        io_.stop();
      }
    });
  }

  void reload() {
    spdlog::info("SIGHUP: reloading {}", config_path_);
    (void)notifier_.notify("RELOADING=1");
    if (ssm_name_) {
      refetch();
      return;
    }
    reload_with(load_config_file(config_path_, env_));
  }

  // SIGHUP with `--config ssm:NAME`: fetch again (on the loop; the running pipelines go on), then
  // validate and cache; any failure keeps the running configuration.
  void refetch() {
    if (refetching_) {
      spdlog::info("SIGHUP: a re-fetch of {} is already running", config_path_);
      return;
    }
    if (!fetcher_) fetcher_ = std::make_unique<SsmConfigFetcher>(io_, clock_, scheduler_, env_, *ssm_name_);
    refetching_ = true;
    fetcher_->fetch([this](common::Result<common::aws::SsmParameter> parameter) {
      refetching_ = false;
      if (stopping_) return;
      if (!parameter.ok()) {
        spdlog::error("reload rejected: {}; keeping the running configuration", parameter.error().to_string());
        (void)notifier_.notify("READY=1");
        return;
      }
      FetchedConfig fetched = accept_fetched_config(*ssm_name_, *parameter, source_.state_dir, env_);
      if (!fetched.load.config) {
        for (const auto& e : fetched.load.errors) spdlog::error("config: {}", e.to_string());
        spdlog::error("reload rejected: {}; keeping the running configuration", fetched.refusal);
        (void)notifier_.notify("READY=1");
        return;
      }
      if (!fetched.cache_warning.empty()) spdlog::warn("{}", fetched.cache_warning);
      spdlog::info("fetched {} version {}", config_path_, parameter->version);
      reload_with(std::move(fetched.load));
    });
  }

  void reload_with(ConfigLoad load) {
    for (const auto& w : load.warnings) spdlog::warn("config: {}", w.to_string());
    if (!load.errors.empty() || !load.config) {
      for (const auto& e : load.errors) spdlog::error("config: {}", e.to_string());
      spdlog::error("reload rejected: {} error(s); keeping the running configuration", load.errors.size());
      (void)notifier_.notify("READY=1");
      return;
    }
    if (auto st = prepare_state_dir(load.config->agent.state_dir); !st.ok()) {
      spdlog::error("reload rejected: agent.state_dir: {}; keeping the running configuration", st.error().to_string());
      (void)notifier_.notify("READY=1");
      return;
    }
    AgentConfig next = std::move(*load.config);
    if (!config_needs_aws(next) || (aws_ && aws_->config() == next.aws)) {
      apply(std::move(next), nullptr);
      return;
    }
    // New or changed AWS settings: discover (asynchronously, the old pipelines keep running) and then swap.
    auto ctx = AwsContext::create(io_, clock_, scheduler_, env_, next.aws);
    if (!ctx.ok()) {
      spdlog::error("reload rejected: {}; keeping the running configuration", ctx.error().to_string());
      (void)notifier_.notify("READY=1");
      return;
    }
    auto shared = std::shared_ptr<AwsContext>(std::move(*ctx));
    shared->initialize([this, shared, next = std::move(next)](common::Status st) mutable {
      if (!st.ok()) {
        spdlog::error("reload rejected: {}; keeping the running configuration", st.error().to_string());
        (void)notifier_.notify("READY=1");
        return;
      }
      pending_aws_ = shared;
      scheduler_.post([this, next = std::move(next)]() mutable {
        auto ctx_ptr = std::move(pending_aws_);
        apply(std::move(next), std::move(ctx_ptr));
      });
    });
  }

  // Swaps in a runtime built from `next` (with a new AWS context when one is given).
  void apply(AgentConfig next, std::shared_ptr<AwsContext> new_aws) {
    if (stopping_) return;
    AwsContext* aws = new_aws ? new_aws.get() : aws_.get();
    const bool new_aws_applied = new_aws != nullptr;
    // Stop the old pipelines first so the two never write at once, then build the new ones.
    runtime_->stop_sources();
    runtime_->flush([] {});
    auto rt = Runtime::build(next, clock_, scheduler_, aws, runtime_options());
    if (!rt.ok()) {
      spdlog::error("reload rejected: {}; keeping the running configuration", rt.error().to_string());
      runtime_->reopen_outputs();
      runtime_->start();
      (void)notifier_.notify("READY=1");
      return;
    }
    runtime_ = std::move(*rt);
    if (new_aws) {
      discovery_.reset();  // it asked the old context
      retired_aws_.push_back(std::move(aws_));  // in-flight calls of the old runtime finish or are dropped
      aws_ = std::move(new_aws);
    }
    config_ = std::move(next);
    common::log::set_level(to_string(config_.agent.log_level));
    runtime_->start();
    if (new_aws_applied) start_discovery_if_needed();
    spdlog::info("reload applied: {}", runtime_->describe());
    (void)notifier_.notify(fmt::format("READY=1\nSTATUS={}", runtime_->describe()));
  }

  void begin_stop(int signo) {
    if (stopping_) {
      spdlog::warn("second {} while stopping: exiting now without waiting for the flush", strsignal(signo));
      exit_code_ = kExitFailure;
      io_.stop();
      return;
    }
    stopping_ = true;
    spdlog::info("{}: stopping (flush deadline {} ms)", strsignal(signo), config_.agent.shutdown_timeout.count());
    (void)notifier_.notify("STOPPING=1");
    runtime_->stop_sources();
    watchdog_.stop();
    status_timer_.stop();
    wait_for_signal();  // a second signal cuts the flush short
    const common::TimerId deadline = scheduler_.schedule_after(config_.agent.shutdown_timeout, [this] {
      spdlog::warn("flush did not finish within agent.shutdown_timeout; exiting with records pending");
      finish();
    });
    runtime_->flush([this, deadline] {
      scheduler_.cancel(deadline);
      finish();
    });
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    signals_.cancel();
    io_.stop();
  }

  std::string config_path_;
  ConfigSource source_;
  std::optional<std::string> ssm_name_;  // set for `--config ssm:NAME`
  const common::Environment& env_;
  AgentConfig config_;
  boost::asio::io_context io_;
  common::SystemClock clock_;
  common::AsioScheduler scheduler_;
  boost::asio::signal_set signals_;
  common::SystemdNotifier notifier_;
  common::PeriodicTimer watchdog_;
  common::PeriodicTimer status_timer_;
  std::shared_ptr<AwsContext> aws_;
  std::shared_ptr<AwsContext> pending_aws_;
  std::vector<std::shared_ptr<AwsContext>> retired_aws_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<SsmConfigFetcher> fetcher_;  // SIGHUP re-fetches of an ssm: config
  common::aws::SeededRng rng_{std::random_device{}()};  // discovery backoff jitter
  std::unique_ptr<DiscoveryRetry> discovery_;           // while IMDS has not answered
  std::string event_host_;                              // the persisted host identity (check_new_instance)
  bool refetching_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  int exit_code_ = kExitOk;
  int lock_fd_ = -1;  // <state_dir>/trailwatch.pid, flock held while running (prepare-image checks it)
};

}  // namespace

int run_daemon(const ConfigSource& source, const common::Environment& env) {
  setup_logging("info");
  std::signal(SIGPIPE, SIG_IGN);
  int exit_code = kExitOk;
  auto config = load_startup_config(source, env, exit_code);
  if (!config) return exit_code;
  setup_logging(std::string(to_string(config->agent.log_level)));
  Daemon daemon(source, env, std::move(*config));
  return daemon.run();
}

int run_once(const ConfigSource& source, const common::Environment& env) {
  setup_logging("warn");
  int exit_code = kExitOk;
  auto config = load_startup_config(source, env, exit_code);
  if (!config) return exit_code;
  boost::asio::io_context io;
  common::SystemClock clock;
  common::AsioScheduler scheduler(io);
  RuntimeOptions options;
  options.force_local_stdout = true;
  options.flush_jitter = false;
  options.io = &io;
  // The ids the daemon uses on this host, when it has run here (read only: `once` writes no state).
  if (auto stored = load_identity(config->agent.state_dir)) options.event_host = stored->event_host;
  auto rt = Runtime::build(*config, clock, scheduler, nullptr, options);
  if (!rt.ok()) {
    std::fprintf(stderr, "error: %s\n", rt.error().to_string().c_str());
    return kExitFailure;
  }
  Runtime& runtime = **rt;
  if (runtime.audit() != nullptr) runtime.audit()->read_once();  // to each file's current end; flushed below
  if (runtime.metrics() != nullptr) {
    // Rates need two reads: prime now, read again after a short gap (at most one interval).
    runtime.metrics()->start();
    runtime.metrics()->stop();
    const auto gap = std::min<std::chrono::milliseconds>(config->metrics.interval, std::chrono::seconds(1));
    scheduler.schedule_after(gap, [&runtime] { runtime.metrics()->tick(); });
  }
  io.run();
  bool flushed = false;
  runtime.flush([&flushed] { flushed = true; });
  io.restart();
  io.run();
  if (runtime.alarms() != nullptr) {
    runtime.alarms()->evaluate_now();
    for (const auto& s : runtime.alarms()->status()) {
      std::fprintf(stderr, "once: alarm %s: %s%s%s\n", s.name.c_str(), std::string(to_string(s.state)).c_str(),
                   s.reason.empty() ? "" : " - ", s.reason.c_str());
    }
  }
  std::fprintf(stderr, "once: %s\n", runtime.status_line().c_str());
  if (runtime.metric_output() != nullptr) {
    const auto series = static_cast<std::size_t>(runtime.metric_output()->aggregator().stats().series);
    const cloudwatch::CostEstimate cost = cloudwatch::estimate_cost(config->metrics, series);
    std::fprintf(stderr, "once: if sent to CloudWatch: %s\n", cost.to_string().c_str());
  }
  return flushed ? kExitOk : kExitFailure;
}

int run_validate(const ConfigSource& source, const common::Environment& env, bool print_effective) {
  const std::string& config_path = source.config_path;
  ConfigLoad load;
  if (auto name = ssm_parameter_of(config_path)) {
    // The parameter as fetched now; with --allow-cache a failed fetch validates the cached copy.
    setup_logging("warn");  // the credential chain's info lines are noise here
    auto parameter = fetch_ssm_parameter_now(*name, env);
    if (parameter.ok()) {
      load = load_config_text(parameter->value, config_path, env, source.state_dir);
    } else if (auto cached = source.allow_cache ? load_cached_config(*name, source.state_dir, env) : std::nullopt) {
      std::fprintf(stderr, "warning: %s; validating the cached copy %s\n", parameter.error().to_string().c_str(),
                   cached->path.c_str());
      load = std::move(cached->load);
    } else {
      std::fprintf(stderr, "error: %s\n%s: not validated: the parameter could not be fetched\n",
                   parameter.error().to_string().c_str(), config_path.c_str());
      return kExitUnavailable;
    }
  } else {
    load = load_config_file(config_path, env);
  }
  print_diagnostics(load);
  if (!load.errors.empty() || !load.config) {
    std::fprintf(stderr, "%s: invalid, %zu error(s)\n", config_path.c_str(), load.errors.size());
    return kExitConfig;
  }
  // The files the running agent would use (nothing is created here).
  const std::vector<std::string> mode_warnings = file_mode_warnings(*load.config, env);
  for (const auto& w : mode_warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (print_effective) std::fputs(dump_effective_config(*load.config).c_str(), stdout);
  const std::size_t warnings = load.warnings.size() + mode_warnings.size();
  std::fprintf(stderr, "%s: valid%s\n", config_path.c_str(),
               warnings == 0 ? "" : fmt::format(" ({} warning(s))", warnings).c_str());
  return kExitOk;
}

int run_prepare_image(const ConfigSource& source, const common::Environment& env, bool yes, bool machine_id) {
  const std::string& config_path = source.config_path;
  ConfigLoad load;
  if (auto name = ssm_parameter_of(config_path)) {
    // An image build: fetch (which also bakes the cache into the image, for a first boot without
    // network), else the cached copy, else the defaults (state_dir /var/lib/trailwatch).
    SsmConfigResult got = obtain_ssm_config(*name, source.state_dir, env, /*allow_cache=*/true);
    for (const auto& m : got.messages) std::fprintf(stderr, "%s\n", m.c_str());
    if (got.config) {
      load.config = std::move(got.config);
    } else if (got.fetched_invalid) {
      std::fprintf(stderr, "%s: invalid; prepare-image needs it to find agent.state_dir\n", config_path.c_str());
      return kExitConfig;
    } else {
      std::fprintf(stderr, "warning: %s not available; clearing the default locations\n", config_path.c_str());
      load = load_config_text("{}\n", "defaults", env);
    }
  } else {
    load = load_config_file(config_path, env);
  }
  print_diagnostics(load);
  if (!load.errors.empty() || !load.config) {
    std::fprintf(stderr, "%s: invalid, %zu error(s); prepare-image needs it to find agent.state_dir\n",
                 config_path.c_str(), load.errors.size());
    return kExitConfig;
  }
  const std::string& state_dir = load.config->agent.state_dir;
  const std::string& spool_dir = load.config->delivery.spool_dir;
  if (!yes && ::isatty(STDIN_FILENO) == 1) {
    std::fprintf(stderr,
                 "prepare-image removes the instance-specific state in %s (checkpoints, spools, alarm states,\n"
                 "identity) and %s%s. Proceed? [y/N] ",
                 state_dir.c_str(), spool_dir.c_str(), machine_id ? ", and empties /etc/machine-id" : "");
    const int c = std::getchar();
    if (c != 'y' && c != 'Y') {
      std::fprintf(stderr, "prepare-image: nothing done\n");
      return kExitFailure;
    }
  }
  if (daemon_lock_held(state_dir)) {
    std::fprintf(stderr,
                 "prepare-image: trailwatch is running (it holds %s/%s); stop it first "
                 "(systemctl stop trailwatch)\n",
                 state_dir.c_str(), kPidFile);
    return kExitFailure;
  }
  const ResetReport report = reset_instance_state(state_dir, spool_dir);
  for (const auto& p : report.removed) std::printf("removed %s\n", p.c_str());
  for (const auto& e : report.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  int rc = report.errors.empty() ? kExitOk : kExitFailure;
  if (machine_id) {
    const std::string path = machine_id_path();
    std::FILE* f = std::fopen(path.c_str(), "r+");
    if (f == nullptr) {
      if (errno != ENOENT) {
        std::fprintf(stderr, "error: %s: %s\n", path.c_str(), std::strerror(errno));
        rc = kExitFailure;
      }
    } else {
      std::fseek(f, 0, SEEK_END);
      const long size = std::ftell(f);
      std::fclose(f);
      if (size > 0) {
        if (::truncate(path.c_str(), 0) != 0) {
          std::fprintf(stderr, "error: %s: %s\n", path.c_str(), std::strerror(errno));
          rc = kExitFailure;
        } else {
          std::printf("emptied %s (systemd writes a new one at first boot)\n", path.c_str());
        }
      }
    }
  }
  std::fprintf(stderr, "prepare-image: %zu item(s) removed%s\n", report.removed.size(),
               rc == kExitOk ? "" : ", with errors");
  return rc;
}

}  // namespace agent
