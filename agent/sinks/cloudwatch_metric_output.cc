#include "agent/sinks/cloudwatch_metric_output.h"

#include <cassert>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/text/redact.h"

namespace agent {
namespace {

constexpr std::string_view kBodyPrefix = "Action=PutMetricData&";

std::string spool_record(const cloudwatch::PackedRequest& r) {
  nlohmann::json j = {{"datums", r.datum_count}, {"body", r.body}};
  return j.dump();
}

// Null when the record is not one spool_record() wrote.
std::optional<cloudwatch::PackedRequest> parse_spool_record(const std::string& data) {
  try {
    const auto j = nlohmann::json::parse(data);
    if (!j.is_object() || !j.contains("datums") || !j.at("datums").is_number_unsigned() || !j.contains("body") ||
        !j.at("body").is_string()) {
      return std::nullopt;
    }
    const auto datums = j.at("datums").get<std::size_t>();
    auto body = j.at("body").get<std::string>();
    if (datums == 0 || datums > cloudwatch::kMaxDatumsPerRequest || body.rfind(kBodyPrefix, 0) != 0) {
      return std::nullopt;
    }
    return cloudwatch::make_packed_request(std::move(body), datums);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

bool retryable(const common::aws::AwsCallError& err) {
  return err.transport || err.error.retryable || err.error.throttling || err.error.http_status >= 500 ||
         err.error.expired_credentials || err.error.clock_skew;
}

}  // namespace

CloudWatchMetricOutput::CloudWatchMetricOutput(const common::Clock& clock, common::Scheduler& scheduler,
                                               MetricAggregator aggregator, std::string metric_namespace,
                                               FlushOptions flush, common::aws::AwsClient& aws, Options options)
    : AggregatingMetricOutput(clock, scheduler, std::move(aggregator), std::move(metric_namespace), flush),
      aws_(aws),
      options_(std::move(options)),
      log_limiter_(clock, std::chrono::seconds(60), 3) {
  // Not here: on a reload the previous output (same file) lives until the new runtime is swapped in,
  // and a runtime that fails to build must not touch the file. The loop runs only after both.
  scheduler_.post([this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    open_spool();
    start_round();  // the restored requests go out now, not at the first flush
  });
}

std::string CloudWatchMetricOutput::describe() const {
  return fmt::format("cloudwatch({}, namespace {}{})", common::redact_url_userinfo(options_.endpoint.url),
                     metric_namespace(),
                     options_.spool_path.empty() ? std::string() : ", spool " + options_.spool_path);
}

std::string CloudWatchMetricOutput::status_line() const {
  return fmt::format("cloudwatch: {} requests sent ({} datums), {} failed attempts, {} datums rejected, {} overflowed; "
                     "{} requests queued ({} on disk), {} datums spooled, {} restored, {} spool errors",
                     stats_.requests_sent, stats_.datums_delivered, stats_.requests_failed, stats_.datums_rejected,
                     stats_.datums_overflowed, queue_.size() + retry_.size() + (in_flight_ ? 1 : 0),
                     spooled_requests(), stats_.datums_spooled, stats_.datums_restored, stats_.spool_errors);
}

void CloudWatchMetricOutput::log_limited(std::string_view key, const std::string& message) {
  log_limiter_.log(spdlog::level::warn, key, "metrics: " + message);
}

void CloudWatchMetricOutput::open_spool() {
  if (spool_opened_) return;
  spool_opened_ = true;
  if (options_.spool_path.empty()) return;
  auto q = DurableQueue::open(options_.spool_path);
  if (!q.ok()) {
    spdlog::warn("metrics: cannot open the spool: {}; requests that fail are kept in memory only and are lost at "
                 "a restart",
                 q.error().to_string());
    return;
  }
  spool_ = std::move(*q);
  stats_.spool_skipped += spool_->corrupt_lines();
  std::vector<std::uint64_t> unreadable;
  std::deque<Pending> restored;
  for (const auto& e : spool_->entries()) {
    auto r = parse_spool_record(e.data);
    if (!r) {
      unreadable.push_back(e.id);
      continue;
    }
    stats_.datums_restored += r->datum_count;
    restored.push_back(Pending{std::move(*r), e.id});
  }
  for (const auto id : unreadable) {
    ++stats_.spool_skipped;
    if (auto st = spool_->remove(id); !st.ok()) {
      ++stats_.spool_errors;
      spdlog::error("metrics: removing an unreadable spool record: {}", st.error().to_string());
    }
  }
  if (stats_.spool_skipped > 0) {
    spdlog::warn("metrics: {} unreadable line(s) or record(s) skipped in {}", stats_.spool_skipped, spool_->path());
  }
  if (restored.empty()) return;
  spdlog::info("metrics: {} datum(s) in {} request(s) restored from {}; they are sent before new data",
               stats_.datums_restored, restored.size(), spool_->path());
  // Spooled requests are older than anything queued in memory (nothing is, unless a flush came first).
  for (auto it = restored.rbegin(); it != restored.rend(); ++it) {
    queued_datums_ += it->request.datum_count;
    queue_.push_front(std::move(*it));
  }
  drop_over_cap();
}

void CloudWatchMetricOutput::spool(Pending& p) {
  if (!spool_ || p.spool_id != 0) return;
  auto id = spool_->append(spool_record(p.request));
  if (!id.ok()) {
    ++stats_.spool_errors;
    log_limited("spool", fmt::format("spooling {} datum(s) failed: {}; they are kept in memory only",
                                     p.request.datum_count, id.error().to_string()));
    return;
  }
  p.spool_id = *id;
  stats_.datums_spooled += p.request.datum_count;
}

void CloudWatchMetricOutput::unspool(Pending& p) {
  if (!spool_ || p.spool_id == 0) return;
  if (auto st = spool_->remove(p.spool_id); !st.ok()) {
    ++stats_.spool_errors;
    log_limited("unspool", fmt::format("removing a spool record failed: {}; its {} datum(s) may be sent again "
                                       "after a restart",
                                       st.error().to_string(), p.request.datum_count));
  }
  p.spool_id = 0;
}

void CloudWatchMetricOutput::drop_over_cap() {
  // Bound the backlog: drop the oldest requests beyond the cap (the newest one always stays).
  while (queued_datums_ > options_.max_queued_datums && queue_.size() > 1) {
    Pending& p = queue_.front();
    stats_.datums_overflowed += p.request.datum_count;
    queued_datums_ -= p.request.datum_count;
    unspool(p);
    spdlog::warn("metrics: send queue over delivery.max_queue_records; dropped the oldest request ({} datum(s))",
                 p.request.datum_count);
    queue_.pop_front();
  }
}

void CloudWatchMetricOutput::deliver(Batch batch, std::function<void()> done) {
  open_spool();  // normally done already, on the first loop turn
  for (auto& r : batch.requests) {
    queued_datums_ += r.datum_count;
    queue_.push_back(Pending{std::move(r), 0});
  }
  drop_over_cap();
  if (batch.final) {
    // Stopping: everything not yet delivered goes to disk before anything else happens, so neither
    // the shutdown deadline nor a crash during the last sends can lose it. Oldest first: this round's
    // failures, the request in flight, then the queue.
    final_ = true;
    for (auto& p : retry_) spool(p);
    if (in_flight_) spool(*in_flight_);
    for (auto& p : queue_) spool(p);
    waiters_.push_back(std::move(done));
    // Sent from the next loop turn. A SIGHUP reload flushes the old runtime and replaces it at once:
    // the old output is gone by then and sends nothing, so the new one (which reads the spool on that
    // turn) sends every request once instead of racing a copy the old one had in flight.
    scheduler_.post([this, alive = std::weak_ptr<int>(alive_)] {
      if (!alive.expired()) start_round();
    });
    return;
  }
  waiters_.push_back(std::move(done));
  start_round();
}

void CloudWatchMetricOutput::start_round() {
  if (sending_ || (queue_.empty() && waiters_.empty())) return;
  sending_ = true;
  send_next();
}

void CloudWatchMetricOutput::send_next() {
  // In the final round one retryable failure ends it: the rest is spooled, and trying them all against
  // a failing endpoint would only run into the shutdown deadline.
  if (queue_.empty() || (final_ && round_failed_)) {
    finish_round();
    return;
  }
  in_flight_ = std::move(queue_.front());
  queue_.pop_front();
  queued_datums_ -= in_flight_->request.datum_count;
  const cloudwatch::PackedRequest& req = in_flight_->request;

  common::aws::AwsCall call;
  call.service = common::aws::Service::kCloudWatch;
  call.region = options_.endpoint.signing_region;
  call.endpoint = options_.endpoint.url;
  call.method = "POST";
  call.path = "/";
  call.operation = "PutMetricData";
  call.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  if (req.compressed()) call.headers.push_back({"Content-Encoding", "gzip"});
  call.body = std::string(req.wire_body());
  const std::size_t bytes = call.body.size();

  aws_.call(std::move(call), [this, alive = std::weak_ptr<int>(alive_), bytes](common::aws::AwsCallOutcome outcome) {
    if (alive.expired()) return;
    assert(in_flight_.has_value());
    Pending p = std::move(*in_flight_);
    in_flight_.reset();
    const std::size_t datums = p.request.datum_count;
    if (std::holds_alternative<common::aws::AwsCallResult>(outcome)) {
      ++stats_.requests_sent;
      stats_.datums_delivered += datums;
      stats_.bytes_sent += bytes;
      unspool(p);
    } else {
      const auto& err = std::get<common::aws::AwsCallError>(outcome);
      ++stats_.requests_failed;
      if (retryable(err)) {
        round_failed_ = true;
        spool(p);
        log_limited("failed", fmt::format("PutMetricData failed ({}); {} datum(s) kept for the next flush{}",
                                          err.summary, datums, p.spool_id != 0 ? " (spooled)" : ""));
        retry_.push_back(std::move(p));
      } else {
        stats_.datums_rejected += datums;
        unspool(p);
        spdlog::error("metrics: PutMetricData rejected ({}); {} datum(s) dropped", err.summary, datums);
      }
    }
    send_next();
  });
}

void CloudWatchMetricOutput::finish_round() {
  // Failed requests go back to the front, oldest first, for the next flush.
  while (!retry_.empty()) {
    queued_datums_ += retry_.back().request.datum_count;
    queue_.push_front(std::move(retry_.back()));
    retry_.pop_back();
  }
  sending_ = false;
  round_failed_ = false;
  if (final_) {
    final_ = false;  // a reload that fails restarts this output
    std::size_t spooled = 0;
    std::size_t spooled_requests = 0;
    std::size_t lost = 0;
    for (const auto& p : queue_) {
      if (p.spool_id != 0) {
        spooled += p.request.datum_count;
        ++spooled_requests;
      } else {
        lost += p.request.datum_count;
      }
    }
    if (spooled > 0) {
      spdlog::warn("metrics: {} datum(s) in {} request(s) not delivered before stopping; spooled in {}, sent first "
                   "at the next start",
                   spooled, spooled_requests, spool_->path());
    }
    if (lost > 0) {
      spdlog::error("metrics: {} datum(s) in {} request(s) could not be delivered before stopping and are lost ({})",
                    lost, queue_.size() - spooled_requests,
                    spool_                      ? "writing the spool failed"
                    : options_.spool_path.empty() ? "no spool"
                                                  : "the spool could not be opened");
    }
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w();
}

}  // namespace agent
