// SnsPublisher: sends one Publish and says whether it was delivered, should be retried later, or was
// rejected for good. AwsSnsPublisher does it through the AwsClient (which signs and already retries a
// few times); tests script their own.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/sinks/sns_encoder.h"
#include "common/aws/aws_client.h"
#include "common/aws/endpoints.h"

namespace agent {

enum class PublishResult {
  kDelivered,  // SNS accepted it
  kRetry,      // unreachable, 5xx, throttled, credentials/clock trouble: keep it and try again later
  kRejected,   // a client error (invalid topic, no permission, bad parameter): sending again cannot help
};

struct SnsPublishOutcome {
  PublishResult result = PublishResult::kRetry;
  std::string detail;      // the error summary, or the MessageId when delivered
};

class SnsPublisher {
 public:
  virtual ~SnsPublisher() = default;
  // done runs exactly once, later, on the loop -- except for a request encode_sns_publish refuses,
  // which is rejected inline (callers validate first).
  virtual void publish(const SnsPublishRequest& request, std::function<void(SnsPublishOutcome)> done) = 0;
  virtual std::string describe() const = 0;
};

class AwsSnsPublisher final : public SnsPublisher {
 public:
  AwsSnsPublisher(common::aws::AwsClient& aws, common::aws::Endpoint endpoint)
      : aws_(aws), endpoint_(std::move(endpoint)) {}
  void publish(const SnsPublishRequest& request, std::function<void(SnsPublishOutcome)> done) override;
  std::string describe() const override;

 private:
  common::aws::AwsClient& aws_;
  common::aws::Endpoint endpoint_;
};

// Retry or reject, from an AwsClient failure: common::aws::classify (the one table every output uses);
// transient and setup problems are retried, a payload refused for good is rejected.
PublishResult classify_publish_error(const common::aws::AwsCallError& error);

}  // namespace agent
