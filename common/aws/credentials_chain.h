// DefaultCredentialsChain: the SDK-order credential chain, each source cached, remembering which one
// answered. make_default_credentials() adds the agent's aws.role_arn on top.
// Order (shared/spec/aws-wire.md §6): static config keys (only when configured), environment, web
// identity, shared files (profile), container, IMDS role.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/aws/credentials_process.h"
#include "common/aws/credentials_providers.h"

namespace common::aws {

struct CredentialsChainOptions {
  std::optional<Credentials> static_credentials{};  // aws.access_key_id/secret_access_key[/session_token]
  std::string profile{};                             // aws.profile; empty = AWS_PROFILE, else "default"
  SharedConfigPaths shared_files{};                  // empty fields = env / ~/.aws defaults
  StsOptions sts{};                                  // region + endpoint (override URL, fips, dualstack)
  std::string role_arn{};                            // aws.role_arn: assumed with the chain's credentials
  std::string role_session_name{};                   // empty = "trailwatch-<epoch>"
  std::string external_id{};
  std::chrono::seconds role_duration = kStsDefaultDuration;
  std::chrono::milliseconds process_timeout = kDefaultCredentialProcessTimeout;
  CachingOptions caching{};  // source_changed is set by the chain for the profile provider
};

struct CredentialsDeps {
  boost::asio::io_context& io;
  common::http::HttpClient& http;
  const common::Clock& clock;
  const common::Environment& env;
  ImdsClient* imds = nullptr;  // null = no IMDS step (disabled)
};

class DefaultCredentialsChain final : public CredentialsProvider {
 public:
  // Errors (kConfig) only for a malformed AWS_CONTAINER_CREDENTIALS_FULL_URI.
  [[nodiscard]] static common::Result<std::shared_ptr<DefaultCredentialsChain>> create(CredentialsDeps deps,
                                                                                      CredentialsChainOptions options);

  // Tries the providers in order; kNotFound from one moves on, any other error stops the chain with that
  // error (a configured but failing source must not be silently replaced by another identity). After a
  // success the chain sticks to that provider until it answers kNotFound.
  void get(CredentialsHandler done) override;
  void invalidate() override;
  std::string name() const override;

  // Name of the provider that answered last ("env", "profile default", "imds role r", ...); empty before.
  std::string answered_by() const;
  // The providers in the order they are tried.
  std::vector<std::string> provider_names() const;

  DefaultCredentialsChain(CredentialsDeps deps, std::vector<std::shared_ptr<CredentialsProvider>> providers);

 private:
  void try_from(std::size_t index, std::vector<std::string> skipped, CredentialsHandler done);

  CredentialsDeps deps_;
  std::vector<std::shared_ptr<CredentialsProvider>> providers_;
  std::optional<std::size_t> chosen_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// The chain, wrapped in a cached AssumeRole provider when options.role_arn is set.
[[nodiscard]] common::Result<std::shared_ptr<CredentialsProvider>> make_default_credentials(
    CredentialsDeps deps, CredentialsChainOptions options);

}  // namespace common::aws
