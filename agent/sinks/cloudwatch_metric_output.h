// CloudWatchMetricOutput: each flush's PutMetricData requests handed to the Outbox
// (agent/delivery), which sends them through CloudWatchMetricTransport one at a time, oldest first.
// What to retry is the one table (common::aws::classify): transient and setup problems keep a
// request; a request refused for good is dropped and counted. Between flushes the Outbox retries
// on its backoff (full jitter, base Options::backoff_base, capped at Options::backoff_cap, by
// default one flush interval); every flush tries again at once.
//
// The spool (Options::spool_path, a DurableQueue: <state_dir>/metrics-spool.jsonl) holds every
// request from the moment it is handed over until it is settled (delivered, refused, or dropped at
// the bound), so a restart, a crash or SIGKILL loses at most the open aggregation window (one flush
// interval). On the first turn of the loop after construction the spool is opened and what it
// holds is sent first, oldest first, before any new data. A spool that cannot be opened is logged
// and the output keeps requests in memory only. Bounds: max_queued_datums (delivery.max_queue_records,
// as a cap on requests) and max_queued_bytes; beyond them the oldest requests are dropped and counted.
// Record: {"datums":<n>,"body":"<uncompressed form body>"}. See docs/metrics.md and docs/delivery.md.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/delivery/outbox.h"
#include "agent/pipeline/durable_queue.h"
#include "agent/sinks/aggregating_metric_output.h"
#include "agent/sinks/cloudwatch_metric_transport.h"
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
    std::size_t max_queued_datums = 100'000;  // delivery.max_queue_records (a cap on queued requests)
    std::size_t max_queued_bytes = 8u << 20;  // spool record bytes held in memory
    std::string spool_path;             // <state_dir>/kMetricsSpoolFile; empty = memory only
    std::chrono::milliseconds backoff_base{1'000};
    std::chrono::milliseconds backoff_cap{0};  // 0: the flush interval
    common::aws::Rng* rng = nullptr;           // backoff jitter; null: seeded here (tests pin it)
  };
  CloudWatchMetricOutput(const common::Clock& clock, common::Scheduler& scheduler, MetricAggregator aggregator,
                         std::string metric_namespace, FlushOptions flush, common::aws::AwsClient& aws,
                         Options options);
  ~CloudWatchMetricOutput() override;

  std::string describe() const override;
  std::string status_line() const;  // counters for the periodic status log

  struct Stats {
    std::uint64_t requests_sent = 0;
    std::uint64_t requests_failed = 0;   // calls that failed (the request is kept unless refused)
    std::uint64_t datums_delivered = 0;
    std::uint64_t datums_rejected = 0;   // refused for good by the service
    std::uint64_t datums_overflowed = 0; // dropped at the queue bounds
    std::uint64_t bytes_sent = 0;
    std::uint64_t datums_spooled = 0;    // appended to the spool (every request handed over, when it is open)
    std::uint64_t datums_restored = 0;   // read back from the spool at start
    std::uint64_t spool_skipped = 0;     // unreadable spool lines or records, skipped at start
    std::uint64_t spool_errors = 0;      // failed spool writes or removals
  };
  const Stats& stats() const;
  const delivery::OutboxStats* outbox_stats() const { return outbox_ ? &outbox_->stats() : nullptr; }
  std::size_t queued_requests() const { return outbox_ ? outbox_->stats().queued_items : 0; }
  std::size_t queued_datums() const { return queued_datums_; }
  bool spooling() const { return spool_ != nullptr; }                   // the spool is open
  std::size_t spooled_requests() const { return spool_ ? spool_->size() : 0; }  // records on disk

 protected:
  void deliver(Batch batch, std::function<void()> done) override;

 private:
  void open_spool();  // once, on the first loop turn (or the first delivery, if sooner): builds the Outbox
  void on_settled(const delivery::OutboxItem& item, delivery::Settlement how);
  void report_final();

  common::aws::AwsClient& aws_;
  Options options_;
  std::unique_ptr<common::aws::Rng> own_rng_;
  CloudWatchMetricTransport transport_;
  bool spool_opened_ = false;              // open_spool() has run (whatever its outcome)
  std::unique_ptr<DurableQueue> spool_;    // null: memory only
  std::unique_ptr<delivery::Outbox> outbox_;
  std::size_t queued_datums_ = 0;
  mutable Stats stats_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // calls in flight outlive a reloaded output
};

}  // namespace agent
