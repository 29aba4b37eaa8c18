// AwsContext: the AWS side of the agent, built once from the config's `aws` section — the HTTP client
// on the loop, IMDS, the credential chain, the signing/retrying AwsClient — plus what was learned at
// start: region and instance identity. Outputs take endpoints and the client from here.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "agent/config/agent_config.h"
#include "common/aws/aws_client.h"
#include "common/aws/credentials_chain.h"
#include "common/aws/endpoints.h"
#include "common/aws/imds_client.h"
#include "common/clock/clock.h"
#include "common/config/environment.h"
#include "common/event/scheduler.h"
#include "common/http/curl_multi_client.h"

namespace agent {

// True when some configured output talks to AWS (else no AwsContext is built and IMDS is never asked).
bool config_needs_aws(const AgentConfig& config);

class AwsContext {
 public:
  static common::Result<std::unique_ptr<AwsContext>> create(boost::asio::io_context& io, const common::Clock& clock,
                                                             common::Scheduler& scheduler,
                                                             const common::Environment& env, const AwsConfig& config);
  ~AwsContext();

  // Asks IMDS for the instance identity (bounded: < 2 s off EC2) and settles the region. done runs on
  // the loop with an error only when no region can be found. When IMDS did not answer,
  // identity_error() says why (the caller retries with DiscoveryRetry, agent/app/host_discovery.h).
  void initialize(std::function<void(common::Status)> done);
  // One more IMDS question (for DiscoveryRetry); an error when IMDS is disabled.
  void probe_identity(std::function<void(common::Result<common::aws::InstanceIdentity>)> done);
  // The identity found by a later probe; the region stays what initialize() settled.
  void set_identity(common::aws::InstanceIdentity identity);

  const std::string& region() const { return region_; }
  const std::optional<common::aws::InstanceIdentity>& identity() const { return identity_; }
  // Why IMDS did not answer at initialize(); nullopt when it did or when IMDS is disabled.
  const std::optional<common::Error>& identity_error() const { return identity_error_; }
  common::Result<common::aws::Endpoint> endpoint(common::aws::Service service) const;
  common::aws::AwsClient& client() { return *client_; }
  const AwsConfig& config() const { return config_; }
  std::string describe() const;

 private:
  AwsContext(boost::asio::io_context& io, const common::Clock& clock, common::Scheduler& scheduler,
             const common::Environment& env, AwsConfig config);

  boost::asio::io_context& io_;
  const common::Clock& clock_;
  common::Scheduler& scheduler_;
  const common::Environment& env_;
  AwsConfig config_;
  std::unique_ptr<common::http::CurlMultiClient> http_;
  std::unique_ptr<common::aws::ImdsClient> imds_;
  std::shared_ptr<common::aws::DefaultCredentialsChain> credentials_;
  std::unique_ptr<common::aws::AwsClient> client_;
  std::string region_;
  std::optional<common::aws::InstanceIdentity> identity_;
  std::optional<common::Error> identity_error_;
};

}  // namespace agent
