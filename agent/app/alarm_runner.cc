#include "agent/app/alarm_runner.h"

#include "common/fs/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/pipeline/audit_filter.h"

namespace agent {
namespace {

// A gap after the period end so a timer firing a hair early (steady vs wall clock) still finds the
// period closed.
constexpr auto kEvaluationSlack = std::chrono::milliseconds(2);

std::string join_path(const std::string& dir, std::string_view name) {
  if (dir.empty() || dir.back() == '/') return dir + std::string(name);
  return dir + "/" + std::string(name);
}

}  // namespace

void AlarmMetricTap::publish(std::span<const MetricSample> samples, common::WallTime now) {
  inner_.publish(samples, now);
  runner_.add_samples(samples);
}

AlarmRunner::AlarmRunner(const common::Clock& clock, common::Scheduler& scheduler, AlarmEvaluator evaluator,
                         AlarmRunnerOptions options)
    : clock_(clock), scheduler_(scheduler), evaluator_(std::move(evaluator)), options_(std::move(options)) {}

AlarmRunner::~AlarmRunner() {
  stop();
  output_.reset();  // before the queue and publisher it points at
}

common::Result<std::unique_ptr<AlarmRunner>> AlarmRunner::create(std::vector<AlarmConfig> alarms,
                                                                  const common::Clock& clock,
                                                                  common::Scheduler& scheduler,
                                                                  std::unique_ptr<SnsPublisher> publisher,
                                                                  LocalSink* local, AlarmRunnerOptions options) {
  AlarmEvaluatorOptions eo;
  eo.common_dimensions = options.common_dimensions;
  const common::WallTime now = clock.wall_now();
  eo.config_updated_time = now;
  auto evaluator = AlarmEvaluator::create(std::move(alarms), std::move(eo), options.evaluate_from.value_or(now));
  if (!evaluator.ok()) return std::move(evaluator).error().wrap("alarms");
  std::unique_ptr<AlarmRunner> r(new AlarmRunner(clock, scheduler, std::move(*evaluator), std::move(options)));
  const bool has_dir = !r->options_.state_dir.empty();

  if (has_dir) {
    const std::string state_path = join_path(r->options_.state_dir, kAlarmStateFile);
    std::ifstream in(state_path, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      if (auto st = r->evaluator_.restore_state(ss.str()); !st.ok()) {
        spdlog::warn("alarms: ignoring {}: {}; every alarm starts in INSUFFICIENT_DATA", state_path,
                     st.error().to_string());
      } else {
        for (const auto& s : r->evaluator_.status()) {
          spdlog::info("alarms: \"{}\" restored in {}", s.name, to_string(s.state));
        }
      }
    }
  }

  r->publisher_ = std::move(publisher);
  if (r->publisher_ && has_dir && r->options_.persist) {
    auto q = DurableQueue::open(join_path(r->options_.state_dir, kNotificationQueueFile));
    if (!q.ok()) return std::move(q).error().wrap("alarms: opening the notification queue");
    r->queue_ = std::move(*q);  // it logs what it skipped, with the path
  } else if (r->publisher_) {
    r->publisher_.reset();  // no state_dir to queue in: record locally rather than risk losing them
  }
  r->output_ = std::make_unique<SnsNotificationOutput>(clock, scheduler, r->queue_.get(), r->publisher_.get(), local,
                                                       r->options_.delivery);
  AlarmRunner* self = r.get();
  r->output_->set_on_delivered(
      [self](const std::string& alarm, std::uint64_t id) { self->on_delivered(alarm, id); });

  if (r->queue_) {
    // Delivered before a crash, but the record was still queued: do not send it again.
    std::map<std::string, std::uint64_t> notified;
    for (const auto& s : r->evaluator_.status()) notified[s.name] = s.last_notified_id;
    r->output_->discard_delivered([&notified](const QueuedNotification& n) {
      auto it = notified.find(n.alarm_name);
      return it != notified.end() && n.transition_id <= it->second;
    });
    // Saved as a transition but never queued (a crash between the two writes): queue it now.
    for (const auto& t : r->evaluator_.unnotified()) {
      if (!r->output_->queued(t.alarm_name, t.id)) {
        spdlog::info("alarms: \"{}\" transition {} ({}) was not delivered before the restart; queueing it",
                     t.alarm_name, t.id, to_string(t.new_state));
        r->enqueue(t);
      }
    }
    if (r->queue_->size() > 0) {
      spdlog::info("alarms: {} notification(s) waiting in {}", r->queue_->size(), r->queue_->path());
    }
  }
  return r;
}

void AlarmRunner::start() {
  output_->start();
  arm();
}

void AlarmRunner::stop() {
  if (timer_ != 0) scheduler_.cancel(timer_);
  timer_ = 0;
  if (output_) output_->stop();
}

void AlarmRunner::arm() {
  if (timer_ != 0) scheduler_.cancel(timer_);
  const auto next = evaluator_.next_evaluation_time();
  auto delay = std::chrono::duration_cast<std::chrono::nanoseconds>(next - clock_.wall_now());
  if (delay < std::chrono::nanoseconds(0)) delay = std::chrono::nanoseconds(0);
  timer_ = scheduler_.schedule_after(delay + kEvaluationSlack, [this] {
    timer_ = 0;
    evaluate_now();
    arm();
  });
}

void AlarmRunner::add_samples(std::span<const MetricSample> samples) { evaluator_.add_samples(samples); }

std::size_t AlarmRunner::add_audit_record(const TrailRecord& record) {
  std::size_t counted = 0;
  const common::WallTime t{std::chrono::milliseconds(record.time_ms)};
  for (const auto& a : evaluator_.configs()) {
    if (!a.audit_filter || !audit_filter_matches(*a.audit_filter, record)) continue;
    if (evaluator_.add_count(a.name, t, 1).ok()) ++counted;
  }
  return counted;
}

common::Status AlarmRunner::add_audit_count(std::string_view alarm_name, common::WallTime t, double n) {
  return evaluator_.add_count(alarm_name, t, n);
}

void AlarmRunner::evaluate_now() {
  auto transitions = evaluator_.on_period_end(clock_.wall_now());
  if (transitions.empty()) return;
  for (const auto& t : transitions) {
    ++transitions_;
    if (t.repeat) {
      spdlog::info("alarm \"{}\": still ALARM (repeat notification): {}", t.alarm_name, t.reason);
    } else {
      spdlog::info("alarm \"{}\": {} -> {}: {}", t.alarm_name, to_string(t.old_state), to_string(t.new_state),
                   t.reason);
    }
  }
  save_state();  // the transitions are on disk before their notifications are queued
  for (const auto& t : transitions) enqueue(t);
}

void AlarmRunner::enqueue(const AlarmTransition& t) {
  auto notes = notifications_for(t, render_sns_alarm_message(t, options_.context));
  if (notes.empty()) {
    on_delivered(t.alarm_name, t.id);  // no actions: nothing to deliver
    return;
  }
  if (auto st = output_->enqueue(std::move(notes)); !st.ok()) {
    spdlog::error("alarms: \"{}\" transition {}: {}; it is sent after the next restart", t.alarm_name, t.id,
                  st.error().to_string());
  }
}

void AlarmRunner::on_delivered(const std::string& alarm, std::uint64_t id) {
  if (auto st = evaluator_.mark_notified(alarm, id); !st.ok()) {
    spdlog::debug("alarms: {}", st.error().to_string());
    return;
  }
  save_state();
}

void AlarmRunner::save_state() {
  if (options_.state_dir.empty() || !options_.persist) return;
  const std::string path = join_path(options_.state_dir, kAlarmStateFile);
  if (auto st = common::write_file_atomically(path, evaluator_.serialize_state()); !st.ok()) {
    ++state_write_errors_;
    spdlog::error("alarms: saving the alarm state: {}", st.error().to_string());
  }
}

std::string AlarmRunner::status_line() const {
  std::string states;
  for (const auto& s : evaluator_.status()) {
    if (!states.empty()) states += ", ";
    states += fmt::format("{} {}", s.name, to_string(s.state));
  }
  const auto& st = output_->stats();
  return fmt::format("alarms: {} ({}); {} transitions; notifications {} queued, {} delivered ({} delayed), {} failed "
                     "attempts, {} rejected, {} local",
                     evaluator_.configs().size(), states, transitions_, output_->queued_count(), st.delivered,
                     st.delayed, st.failed_attempts, st.rejected, st.local_written);
}

std::string AlarmRunner::describe() const {
  return fmt::format("{} alarm(s) -> {}", evaluator_.configs().size(), output_->describe());
}

}  // namespace agent
