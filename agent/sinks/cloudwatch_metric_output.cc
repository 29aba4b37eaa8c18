#include "agent/sinks/cloudwatch_metric_output.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace agent {

CloudWatchMetricOutput::CloudWatchMetricOutput(const common::Clock& clock, common::Scheduler& scheduler,
                                               MetricAggregator aggregator, std::string metric_namespace,
                                               FlushOptions flush, common::aws::AwsClient& aws, Options options)
    : AggregatingMetricOutput(clock, scheduler, std::move(aggregator), std::move(metric_namespace), flush),
      aws_(aws),
      options_(std::move(options)) {}

std::string CloudWatchMetricOutput::describe() const {
  return fmt::format("cloudwatch({}, namespace {})", options_.endpoint.url, metric_namespace());
}

void CloudWatchMetricOutput::deliver(Batch batch, std::function<void()> done) {
  final_ = final_ || batch.final;
  for (auto& r : batch.requests) {
    queued_datums_ += r.datum_count;
    queue_.push_back(std::move(r));
  }
  // Bound the backlog: drop the oldest requests beyond the cap.
  while (queued_datums_ > options_.max_queued_datums && queue_.size() > 1) {
    stats_.datums_overflowed += queue_.front().datum_count;
    queued_datums_ -= queue_.front().datum_count;
    queue_.pop_front();
    spdlog::warn("metrics: send queue over delivery.max_queue_records; dropped the oldest request");
  }
  waiters_.push_back(std::move(done));
  if (!sending_) {
    sending_ = true;
    send_next();
  }
}

void CloudWatchMetricOutput::send_next() {
  if (queue_.empty()) {
    finish_round();
    return;
  }
  cloudwatch::PackedRequest req = std::move(queue_.front());
  queue_.pop_front();
  queued_datums_ -= req.datum_count;

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

  aws_.call(std::move(call), [this, alive = std::weak_ptr<int>(alive_), req = std::move(req),
                               bytes](common::aws::AwsCallOutcome outcome) mutable {
    if (alive.expired()) return;
    if (std::holds_alternative<common::aws::AwsCallResult>(outcome)) {
      ++stats_.requests_sent;
      stats_.datums_delivered += req.datum_count;
      stats_.bytes_sent += bytes;
    } else {
      const auto& err = std::get<common::aws::AwsCallError>(outcome);
      ++stats_.requests_failed;
      if (err.transport || err.error.retryable || err.error.throttling || err.error.http_status >= 500 ||
          err.error.expired_credentials || err.error.clock_skew) {
        spdlog::warn("metrics: PutMetricData failed ({}); {} datum(s) kept for the next flush", err.summary,
                     req.datum_count);
        retry_.push_back(std::move(req));
      } else {
        stats_.datums_rejected += req.datum_count;
        spdlog::error("metrics: PutMetricData rejected ({}); {} datum(s) dropped", err.summary, req.datum_count);
      }
    }
    send_next();
  });
}

void CloudWatchMetricOutput::finish_round() {
  // Failed requests go back to the front, oldest first, for the next flush.
  while (!retry_.empty()) {
    queued_datums_ += retry_.back().datum_count;
    queue_.push_front(std::move(retry_.back()));
    retry_.pop_back();
  }
  sending_ = false;
  if (final_ && queued_datums_ > 0) {
    spdlog::warn("metrics: {} datum(s) in {} request(s) could not be delivered before stopping and are lost "
                 "(no disk spool yet)",
                 queued_datums_, queue_.size());
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w();
}

}  // namespace agent
