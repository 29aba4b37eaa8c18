#include "agent/sinks/sns_publisher.h"

#include <fmt/format.h>

#include "common/text/redact.h"

namespace agent {
namespace {

// "<MessageId>...</MessageId>" from the PublishResponse, or "" when absent.
std::string message_id(const std::string& body) {
  constexpr std::string_view kOpen = "<MessageId>";
  constexpr std::string_view kClose = "</MessageId>";
  const auto b = body.find(kOpen);
  if (b == std::string::npos) return {};
  const auto e = body.find(kClose, b + kOpen.size());
  if (e == std::string::npos) return {};
  return body.substr(b + kOpen.size(), e - b - kOpen.size());
}

}  // namespace

PublishResult classify_publish_error(const common::aws::AwsCallError& error) {
  // The one table (common/aws/error_class), as for every output: a setup problem (topic missing,
  // no permission, KMS) keeps the notification like a transient error; only a refused payload is dropped.
  switch (common::aws::classify(error)) {
    case common::aws::DeliveryClass::kDelivered: return PublishResult::kDelivered;
    case common::aws::DeliveryClass::kRetry:
    case common::aws::DeliveryClass::kSetup: return PublishResult::kRetry;
    case common::aws::DeliveryClass::kRefused: return PublishResult::kRejected;
  }
  return PublishResult::kRejected;
}

void AwsSnsPublisher::publish(const SnsPublishRequest& request, std::function<void(SnsPublishOutcome)> done) {
  auto body = encode_sns_publish(request);
  if (!body.ok()) {
    // Callers check with encode_sns_publish first; this path exists so a bad request is never sent.
    done(SnsPublishOutcome{PublishResult::kRejected, body.error().to_string()});
    return;
  }
  common::aws::AwsCall call =
      common::aws::query_protocol_call(common::aws::Service::kSns, endpoint_, "Publish", std::move(*body));
  aws_.call(std::move(call), [done = std::move(done)](common::aws::AwsCallOutcome outcome) {
    if (const auto* ok = std::get_if<common::aws::AwsCallResult>(&outcome)) {
      done(SnsPublishOutcome{PublishResult::kDelivered, message_id(ok->response.body)});
      return;
    }
    const auto& err = std::get<common::aws::AwsCallError>(outcome);
    done(SnsPublishOutcome{classify_publish_error(err), err.summary});
  });
}

std::string AwsSnsPublisher::describe() const {
  return fmt::format("sns({})", common::redact_url_userinfo(endpoint_.url));
}

}  // namespace agent
