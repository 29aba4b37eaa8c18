#include "agent/app/aws_context.h"

#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace agent {

bool config_needs_aws(const AgentConfig& config) {
  if (config.metrics.enabled && config.metrics.output == MetricsOutput::kCloudWatch) return true;
  for (const auto& a : config.alarms) {  // SNS actions
    if (!a.alarm_actions.empty() || !a.ok_actions.empty() || !a.insufficient_data_actions.empty()) return true;
  }
  if (config.audit.enabled) {  // trail sinks other than the local one
    for (const auto& sink : config.trail.sinks) {
      if (sink.type != SinkType::kLocal) return true;
    }
  }
  return false;
}

AwsContext::AwsContext(boost::asio::io_context& io, const common::Clock& clock, common::Scheduler& scheduler,
                       const common::Environment& env, AwsConfig config)
    : io_(io), clock_(clock), scheduler_(scheduler), env_(env), config_(std::move(config)) {}

AwsContext::~AwsContext() {
  // The AWS client's pending timers and the HTTP client's transfers go before the objects they use.
  client_.reset();
  credentials_.reset();
  imds_.reset();
  http_.reset();
}

common::Result<std::unique_ptr<AwsContext>> AwsContext::create(boost::asio::io_context& io,
                                                               const common::Clock& clock,
                                                               common::Scheduler& scheduler,
                                                               const common::Environment& env,
                                                               const AwsConfig& config) {
  std::unique_ptr<AwsContext> ctx(new AwsContext(io, clock, scheduler, env, config));
  common::http::HttpClientOptions http_options;
  http_options.proxy = config.proxy;
  http_options.no_proxy = config.no_proxy;
  http_options.ca_bundle = config.ca_bundle;
  ctx->http_ = std::make_unique<common::http::CurlMultiClient>(io, http_options);

  common::aws::ImdsOptions imds_options;
  imds_options.enabled = config.imds.enabled;
  imds_options.endpoint = config.imds.endpoint;
  imds_options.allow_imdsv1 = config.imds.allow_imdsv1;
  imds_options.attempt_timeout = config.imds.timeout;
  imds_options.retries = config.imds.retries;
  if (config.imds.enabled) ctx->imds_ = std::make_unique<common::aws::ImdsClient>(*ctx->http_, clock, imds_options);

  common::aws::CredentialsChainOptions chain_options;
  if (config.credentials) {
    common::aws::Credentials c;
    c.access_key_id = config.credentials->access_key_id;
    c.secret_access_key = config.credentials->secret_access_key;
    c.session_token = config.credentials->session_token;
    c.source = "config";
    chain_options.static_credentials = std::move(c);
  }
  chain_options.profile = config.profile;
  chain_options.role_arn = config.role_arn;
  chain_options.sts.region = config.region.empty() ? "us-east-1" : config.region;
  chain_options.sts.endpoint.fips = config.use_fips;
  chain_options.sts.endpoint.dualstack = config.use_dualstack;
  chain_options.sts.endpoint.override_url = config.endpoints.sts;
  common::aws::CredentialsDeps deps{io, *ctx->http_, clock, env, ctx->imds_.get()};
  auto chain = common::aws::DefaultCredentialsChain::create(deps, std::move(chain_options));
  if (!chain.ok()) return std::move(chain).error().wrap("setting up AWS credentials");
  ctx->credentials_ = std::move(*chain);
  ctx->client_ = std::make_unique<common::aws::AwsClient>(*ctx->http_, *ctx->credentials_, scheduler, clock,
                                                          common::aws::RetryConfig{}, std::random_device{}());
  return ctx;
}

void AwsContext::initialize(std::function<void(common::Status)> done) {
  region_ = config_.region;
  if (!imds_) {
    if (region_.empty()) {
      done(common::Error(common::ErrorCode::kConfig,
                         "no AWS region: set aws.region or AWS_REGION (IMDS is disabled, so it cannot be discovered)"));
      return;
    }
    done({});
    return;
  }
  imds_->instance_identity([this, done = std::move(done)](common::Result<common::aws::InstanceIdentity> id) {
    if (id.ok()) {
      identity_ = std::move(*id);
      if (region_.empty()) region_ = identity_->region;
      spdlog::info("instance {} ({}) in {}, account {}", identity_->instance_id, identity_->instance_type,
                   identity_->region, identity_->account_id);
    } else {
      identity_error_ = id.error();  // logged by whoever retries (DiscoveryRetry)
    }
    if (region_.empty()) {
      done(common::Error(common::ErrorCode::kConfig,
                         "no AWS region: set aws.region or AWS_REGION (IMDS did not answer either)"));
      return;
    }
    done({});
  });
}

void AwsContext::probe_identity(std::function<void(common::Result<common::aws::InstanceIdentity>)> done) {
  if (!imds_) {
    done(common::Error(common::ErrorCode::kUnavailable, "IMDS is disabled (aws.imds.enabled)"));
    return;
  }
  imds_->instance_identity(std::move(done));
}

void AwsContext::set_identity(common::aws::InstanceIdentity identity) {
  identity_ = std::move(identity);
  identity_error_.reset();
}

common::Result<common::aws::Endpoint> AwsContext::endpoint(common::aws::Service service) const {
  common::aws::EndpointOptions options;
  options.fips = config_.use_fips;
  options.dualstack = config_.use_dualstack;
  switch (service) {
    case common::aws::Service::kCloudWatch: options.override_url = config_.endpoints.cloudwatch; break;
    case common::aws::Service::kCloudWatchLogs: options.override_url = config_.endpoints.cloudwatch_logs; break;
    case common::aws::Service::kCloudTrailData: options.override_url = config_.endpoints.cloudtrail_data; break;
    case common::aws::Service::kS3: options.override_url = config_.endpoints.s3; break;
    case common::aws::Service::kSns: options.override_url = config_.endpoints.sns; break;
    case common::aws::Service::kSts: options.override_url = config_.endpoints.sts; break;
    case common::aws::Service::kSsm: options.override_url = config_.endpoints.ssm; break;
  }
  return common::aws::resolve_endpoint(service, region_, options);
}

std::string AwsContext::describe() const {
  return fmt::format("region {}, credentials from {}", region_, credentials_ ? credentials_->name() : "none");
}

}  // namespace agent
