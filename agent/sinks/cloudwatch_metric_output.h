// CloudWatchMetricOutput: each flush's PutMetricData requests sent through the AwsClient (which signs,
// retries and corrects skew). Requests that still fail with a retryable error are kept, encoded as
// they are, and sent again before the next flush's — bounded by a datum count, oldest dropped first
// and counted. Client errors (a 400 for a malformed request) are dropped with a log line: sending them
// again cannot succeed.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "agent/sinks/aggregating_metric_output.h"
#include "common/aws/aws_client.h"
#include "common/aws/endpoints.h"

namespace agent {

class CloudWatchMetricOutput final : public AggregatingMetricOutput {
 public:
  struct Options {
    common::aws::Endpoint endpoint;     // resolved monitoring endpoint
    std::size_t max_queued_datums = 100'000;  // delivery.max_queue_records
  };
  CloudWatchMetricOutput(const common::Clock& clock, common::Scheduler& scheduler, MetricAggregator aggregator,
                         std::string metric_namespace, FlushOptions flush, common::aws::AwsClient& aws,
                         Options options);

  std::string describe() const override;

  struct Stats {
    std::uint64_t requests_sent = 0;
    std::uint64_t requests_failed = 0;   // final failures of an attempt round (retryable ones re-queued)
    std::uint64_t datums_delivered = 0;
    std::uint64_t datums_rejected = 0;   // dropped on a client error
    std::uint64_t datums_overflowed = 0; // dropped at the queue cap
    std::uint64_t bytes_sent = 0;
  };
  const Stats& stats() const { return stats_; }
  std::size_t queued_requests() const { return queue_.size(); }

 protected:
  void deliver(Batch batch, std::function<void()> done) override;

 private:
  void send_next();
  void finish_round();

  common::aws::AwsClient& aws_;
  Options options_;
  std::deque<cloudwatch::PackedRequest> queue_;    // oldest first
  std::size_t queued_datums_ = 0;
  bool sending_ = false;
  bool final_ = false;  // the shutdown flush has begun
  std::vector<std::function<void()>> waiters_;     // flush() callers waiting for this round
  std::deque<cloudwatch::PackedRequest> retry_;    // failed retryably in this round
  Stats stats_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // calls in flight outlive a reloaded output
};

}  // namespace agent
