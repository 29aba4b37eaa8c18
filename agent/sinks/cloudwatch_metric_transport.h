// CloudWatchMetricTransport: the Outbox's transport for metrics. One item = one PutMetricData
// request, held as its spool record {"datums":<n>,"body":"<uncompressed form body>"} (the format
// of metrics-spool.jsonl since the first release, so old spools replay as they are); the wire body
// is rebuilt by cloudwatch::make_packed_request (gzip by the same rule as a fresh request). The
// answer is classified by the one table (common::aws::classify). A record that is not a
// PutMetricData request is refused without a call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/delivery/outbox.h"
#include "agent/sinks/cloudwatch_encoder.h"
#include "common/aws/aws_client.h"
#include "common/aws/endpoints.h"

namespace agent {

// The record of a request, and back (nullopt: not one spool_record() wrote, or not PutMetricData).
std::string metric_spool_record(const cloudwatch::PackedRequest& r);
std::optional<cloudwatch::PackedRequest> parse_metric_spool_record(const std::string& data);
// Its datum count alone (0 when unreadable), without rebuilding the gzip.
std::size_t metric_spool_record_datums(const std::string& data);

class CloudWatchMetricTransport final : public delivery::Transport {
 public:
  struct Stats {
    std::uint64_t requests_sent = 0;    // calls answered 2xx
    std::uint64_t requests_failed = 0;  // calls that ended in an error (after the AwsClient's retries)
    std::uint64_t bytes_sent = 0;       // wire bytes of successful calls
  };
  CloudWatchMetricTransport(common::Scheduler& scheduler, common::aws::AwsClient& aws, common::aws::Endpoint endpoint)
      : scheduler_(scheduler), aws_(aws), endpoint_(std::move(endpoint)) {}

  Limits limits() const override { return {1, cloudwatch::PackLimits{}.max_body_bytes}; }
  void send(std::span<const delivery::OutboxItem> batch, std::function<void(delivery::BatchResult)> done) override;
  std::string describe() const override;
  const Stats& stats() const { return stats_; }

 private:
  common::Scheduler& scheduler_;
  common::aws::AwsClient& aws_;
  common::aws::Endpoint endpoint_;
  Stats stats_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace agent
