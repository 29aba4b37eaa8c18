#include "agent/sinks/cloudwatch_metric_output.h"

#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/text/redact.h"

namespace agent {

CloudWatchMetricOutput::CloudWatchMetricOutput(const common::Clock& clock, common::Scheduler& scheduler,
                                               MetricAggregator aggregator, std::string metric_namespace,
                                               FlushOptions flush, common::aws::AwsClient& aws, Options options)
    : AggregatingMetricOutput(clock, scheduler, std::move(aggregator), std::move(metric_namespace), flush),
      aws_(aws),
      options_(std::move(options)),
      own_rng_(options_.rng != nullptr ? nullptr : std::make_unique<common::aws::SeededRng>(std::random_device{}())),
      transport_(scheduler, aws, options_.endpoint) {
  if (options_.rng == nullptr) options_.rng = own_rng_.get();
  if (options_.backoff_cap.count() <= 0) options_.backoff_cap = flush.interval;
  // Not here: on a reload the previous output (same file) lives until the new runtime is swapped in,
  // and a runtime that fails to build must not touch the file. The loop runs only after both.
  scheduler_.post([this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    open_spool();  // the restored requests go out now, not at the first flush
  });
}

CloudWatchMetricOutput::~CloudWatchMetricOutput() = default;

std::string CloudWatchMetricOutput::describe() const {
  return fmt::format("cloudwatch({}, namespace {}{})", common::redact_url_userinfo(options_.endpoint.url),
                     metric_namespace(),
                     options_.spool_path.empty() ? std::string() : ", spool " + options_.spool_path);
}

const CloudWatchMetricOutput::Stats& CloudWatchMetricOutput::stats() const {
  stats_.requests_sent = transport_.stats().requests_sent;
  stats_.requests_failed = transport_.stats().requests_failed;
  stats_.bytes_sent = transport_.stats().bytes_sent;
  stats_.spool_errors = outbox_ ? outbox_->stats().spool_errors : 0;
  return stats_;
}

std::string CloudWatchMetricOutput::status_line() const {
  const Stats& st = stats();
  return fmt::format("cloudwatch: {} requests sent ({} datums), {} failed attempts, {} datums rejected, {} overflowed; "
                     "{} requests queued ({} on disk), {} datums spooled, {} restored, {} spool errors",
                     st.requests_sent, st.datums_delivered, st.requests_failed, st.datums_rejected,
                     st.datums_overflowed, queued_requests(), spooled_requests(), st.datums_spooled,
                     st.datums_restored, st.spool_errors);
}

void CloudWatchMetricOutput::open_spool() {
  if (spool_opened_) return;
  spool_opened_ = true;
  if (!options_.spool_path.empty()) {
    auto q = DurableQueue::open(options_.spool_path);
    if (!q.ok()) {
      spdlog::warn("metrics: cannot open the spool: {}; requests that fail are kept in memory only and are lost at "
                   "a restart",
                   q.error().to_string());
    } else {
      spool_ = std::move(*q);
    }
  }
  if (spool_) {
    // Records that are not requests (or not PutMetricData) are removed and counted before the Outbox
    // replays the rest.
    stats_.spool_skipped += spool_->corrupt_lines();
    std::vector<std::uint64_t> unreadable;
    std::size_t restored = 0;
    for (const auto& e : spool_->entries()) {
      if (!parse_metric_spool_record(e.data)) {
        unreadable.push_back(e.id);
        continue;
      }
      const std::size_t datums = metric_spool_record_datums(e.data);
      stats_.datums_restored += datums;
      queued_datums_ += datums;
      ++restored;
    }
    for (const auto id : unreadable) {
      ++stats_.spool_skipped;
      if (auto st = spool_->remove(id); !st.ok()) {
        spdlog::error("metrics: removing an unreadable spool record: {}", st.error().to_string());
      }
    }
    if (stats_.spool_skipped > 0) {
      spdlog::warn("metrics: {} unreadable line(s) or record(s) skipped in {}", stats_.spool_skipped, spool_->path());
    }
    if (restored > 0) {
      spdlog::info("metrics: {} datum(s) in {} request(s) restored from {}; they are sent before new data",
                   stats_.datums_restored, restored, spool_->path());
    }
  }
  delivery::OutboxPolicy policy;
  policy.overflow = delivery::Overflow::kDropOldest;
  policy.max_queued_items = std::max<std::size_t>(1, options_.max_queued_datums);
  policy.max_queued_bytes = options_.max_queued_bytes;
  policy.backoff_base = options_.backoff_base;
  policy.backoff_cap = options_.backoff_cap;
  outbox_ = std::make_unique<delivery::Outbox>(clock_, scheduler_, transport_, policy, *options_.rng, spool_.get());
  outbox_->set_on_settled(
      [this](const delivery::OutboxItem& item, delivery::Settlement how) { on_settled(item, how); });
  outbox_->start();
}

void CloudWatchMetricOutput::on_settled(const delivery::OutboxItem& item, delivery::Settlement how) {
  const std::size_t datums = metric_spool_record_datums(item.payload);
  queued_datums_ -= std::min(queued_datums_, datums);
  switch (how) {
    case delivery::Settlement::kDelivered: stats_.datums_delivered += datums; break;
    case delivery::Settlement::kRefused: stats_.datums_rejected += datums; break;
    case delivery::Settlement::kDropped: stats_.datums_overflowed += datums; break;
  }
}

void CloudWatchMetricOutput::deliver(Batch batch, std::function<void()> done) {
  open_spool();  // normally done already, on the first loop turn
  for (const auto& r : batch.requests) {
    bool spooled = false;
    queued_datums_ += r.datum_count;
    if (outbox_->submit(metric_spool_record(r), nullptr, &spooled) != delivery::SubmitResult::kAccepted) {
      queued_datums_ -= r.datum_count;  // cannot happen with kDropOldest but for an in-flight giant; counted
      stats_.datums_overflowed += r.datum_count;
      continue;
    }
    if (spooled) stats_.datums_spooled += r.datum_count;
  }
  if (!batch.final) {
    outbox_->flush(std::move(done));
    return;
  }
  // Stopping: everything not yet delivered is on disk already (spooled when handed over), so
  // neither the shutdown deadline nor a crash during the last sends can lose it. The last attempt
  // starts on the next loop turn: a SIGHUP reload flushes the old runtime and replaces it at once,
  // so the old output is gone by then and sends nothing, and the new one (which reads the spool on
  // that turn) sends every request once instead of racing a copy the old one had in flight.
  scheduler_.post([this, alive = std::weak_ptr<int>(alive_), done = std::move(done)]() mutable {
    if (alive.expired()) return;
    outbox_->flush([this, alive, done = std::move(done)] {
      if (!alive.expired()) report_final();
      done();
    });
  });
}

void CloudWatchMetricOutput::report_final() {
  std::size_t spooled = 0;
  std::size_t spooled_requests = 0;
  std::size_t lost = 0;
  std::size_t lost_requests = 0;
  outbox_->visit_unsettled([&](const delivery::OutboxItem& item) {
    const std::size_t datums = metric_spool_record_datums(item.payload);
    if (item.spool_id != 0) {
      spooled += datums;
      ++spooled_requests;
    } else {
      lost += datums;
      ++lost_requests;
    }
  });
  if (spooled > 0) {
    spdlog::warn("metrics: {} datum(s) in {} request(s) not delivered before stopping; spooled in {}, sent first "
                 "at the next start",
                 spooled, spooled_requests, spool_->path());
  }
  if (lost > 0) {
    spdlog::error("metrics: {} datum(s) in {} request(s) could not be delivered before stopping and are lost ({})",
                  lost, lost_requests,
                  spool_                        ? "writing the spool failed"
                  : options_.spool_path.empty() ? "no spool"
                                                : "the spool could not be opened");
  }
}

}  // namespace agent
