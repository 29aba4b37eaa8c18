// CloudWatchMetricOutput: each flush's PutMetricData requests sent through the AwsClient (which signs,
// retries and corrects skew). Requests that still fail with a retryable error are kept, encoded as
// they are, and sent again before the next flush's — bounded by a datum count, oldest dropped first
// and counted. Client errors (a 400 for a malformed request) are dropped with a log line: sending them
// again cannot succeed.
//
// The spool (Options::spool_path, a DurableQueue: <state_dir>/metrics-spool.jsonl) makes the kept
// requests survive a restart or a crash. A request is appended (fsync'd) when it fails retryably, and
// at the final flush every request not yet delivered is appended before anything is sent; its record
// is removed once it is delivered, rejected with a client error, or dropped at the cap. On the first
// turn of the loop after construction the spool is opened and what it holds is sent first, oldest
// first, before any new data. A spool that cannot be opened is logged and the output keeps requests in
// memory only. Record: {"datums":<n>,"body":"<uncompressed form body>"}; the gzip'd wire body is
// recomputed by cloudwatch::make_packed_request. See docs/metrics.md, "Delivery and the spool".
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/pipeline/durable_queue.h"
#include "agent/sinks/aggregating_metric_output.h"
#include "common/aws/aws_client.h"
#include "common/aws/endpoints.h"
#include "common/log/log.h"

namespace agent {

// The metrics spool in agent.state_dir (next to the alarms' notifications.jsonl).
inline constexpr std::string_view kMetricsSpoolFile = "metrics-spool.jsonl";

class CloudWatchMetricOutput final : public AggregatingMetricOutput {
 public:
  struct Options {
    common::aws::Endpoint endpoint;     // resolved monitoring endpoint
    std::size_t max_queued_datums = 100'000;  // delivery.max_queue_records
    std::string spool_path;             // <state_dir>/kMetricsSpoolFile; empty = memory only
  };
  CloudWatchMetricOutput(const common::Clock& clock, common::Scheduler& scheduler, MetricAggregator aggregator,
                         std::string metric_namespace, FlushOptions flush, common::aws::AwsClient& aws,
                         Options options);

  std::string describe() const override;
  std::string status_line() const;  // counters for the periodic status log

  struct Stats {
    std::uint64_t requests_sent = 0;
    std::uint64_t requests_failed = 0;   // final failures of an attempt round (retryable ones re-queued)
    std::uint64_t datums_delivered = 0;
    std::uint64_t datums_rejected = 0;   // dropped on a client error
    std::uint64_t datums_overflowed = 0; // dropped at the queue cap
    std::uint64_t bytes_sent = 0;
    std::uint64_t datums_spooled = 0;    // appended to the spool (retryable failure, or undelivered at the final flush)
    std::uint64_t datums_restored = 0;   // read back from the spool at start
    std::uint64_t spool_skipped = 0;     // unreadable spool lines or records, skipped at start
    std::uint64_t spool_errors = 0;      // failed spool writes (the request stays in memory)
  };
  const Stats& stats() const { return stats_; }
  std::size_t queued_requests() const { return queue_.size(); }
  std::size_t queued_datums() const { return queued_datums_; }
  bool spooling() const { return spool_ != nullptr; }                   // the spool is open
  std::size_t spooled_requests() const { return spool_ ? spool_->size() : 0; }  // records on disk

 protected:
  void deliver(Batch batch, std::function<void()> done) override;

 private:
  struct Pending {
    cloudwatch::PackedRequest request;
    std::uint64_t spool_id = 0;  // its DurableQueue record; 0 = not in the spool
  };

  void open_spool();          // once, on the first loop turn (or the first delivery, if sooner)
  void spool(Pending& p);     // appends p unless it is already spooled
  void unspool(Pending& p);   // removes p's record, if any
  void drop_over_cap();
  void start_round();
  void send_next();
  void finish_round();
  void log_limited(std::string_view key, const std::string& message);

  common::aws::AwsClient& aws_;
  Options options_;
  bool spool_opened_ = false;                  // open_spool() has run (whatever its outcome)
  std::unique_ptr<DurableQueue> spool_;        // null: memory only
  std::deque<Pending> queue_;                  // oldest first
  std::size_t queued_datums_ = 0;              // in queue_
  std::optional<Pending> in_flight_;
  bool sending_ = false;
  bool final_ = false;         // the shutdown flush has begun
  bool round_failed_ = false;  // a retryable failure in this round
  std::vector<std::function<void()>> waiters_;  // flush() callers waiting for this round
  std::deque<Pending> retry_;                   // failed retryably in this round
  common::log::RateLimiter log_limiter_;
  Stats stats_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // calls in flight outlive a reloaded output
};

}  // namespace agent
