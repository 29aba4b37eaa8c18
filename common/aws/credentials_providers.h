// The credential providers of the standard AWS chain, and CachingProvider (refresh before expiry,
// single-flight, keep still-valid credentials when a refresh fails).
// Spec: shared/spec/aws-wire.md §5 (IMDS credentials), §6 (chain, STS, container credentials).
//
// Providers answer kNotFound when their source is not configured (no env vars, no such profile): the
// chain then moves on. Any other error means "configured but failing". No message carries key material.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/aws/credentials_provider.h"
#include "common/aws/endpoints.h"
#include "common/aws/imds_client.h"
#include "common/aws/shared_config.h"
#include "common/aws/sigv4.h"
#include "common/clock/clock.h"
#include "common/config/environment.h"
#include "common/http/http_types.h"

namespace common::aws {

// STS limits: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
inline constexpr std::chrono::seconds kStsMinDuration{900};
inline constexpr std::chrono::seconds kStsMaxDuration{43200};
inline constexpr std::chrono::seconds kStsDefaultDuration{3600};
// Container credentials endpoint for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:
// https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
inline constexpr std::string_view kContainerCredentialsHost = "http://169.254.170.2";

// Where STS is: resolve_endpoint(Service::kSts, region, endpoint) — endpoint.override_url wins.
struct StsOptions {
  std::string region = "us-east-1";
  EndpointOptions endpoint{};
  std::chrono::milliseconds timeout{10000};
};

// "trailwatch-<epoch seconds>": a valid RoleSessionName ([\w+=,.@-]{2,64}).
std::string default_role_session_name(const common::Clock& clock);

// ---- environment ---------------------------------------------------------------------------------
// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), read on every get().
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(const common::Environment& env) : env_(env) {}
  void get(CredentialsHandler done) override;
  std::string name() const override { return "env"; }

 private:
  const common::Environment& env_;
};

// ---- STS -----------------------------------------------------------------------------------------
struct AssumeRoleParams {
  std::string role_arn;
  std::string session_name;  // empty = default_role_session_name()
  std::string external_id;   // optional
  std::chrono::seconds duration = kStsDefaultDuration;
};

// AssumeRole signed (SigV4, service sts) with `source` credentials. done is called once on the loop.
void sts_assume_role(common::http::HttpClient& http, const common::Clock& clock, const StsOptions& sts,
                     const Credentials& source, const AssumeRoleParams& params, CredentialsHandler done);
// AssumeRoleWithWebIdentity, unsigned.
void sts_assume_role_with_web_identity(common::http::HttpClient& http, const common::Clock& clock,
                                       const StsOptions& sts, const std::string& web_identity_token,
                                       const AssumeRoleParams& params, CredentialsHandler done);
// The <Credentials> of an AssumeRole* response body.
[[nodiscard]] common::Result<Credentials> parse_sts_credentials(std::string_view xml);

// Assumes a role with credentials from another provider (aws.role_arn, profile role_arn). Not cached:
// wrap it in a CachingProvider.
class AssumeRoleCredentialsProvider final : public CredentialsProvider {
 public:
  AssumeRoleCredentialsProvider(common::http::HttpClient& http, const common::Clock& clock,
                                std::shared_ptr<CredentialsProvider> source, AssumeRoleParams params, StsOptions sts);
  void get(CredentialsHandler done) override;
  void invalidate() override { source_->invalidate(); }
  std::string name() const override;

 private:
  common::http::HttpClient& http_;
  const common::Clock& clock_;
  std::shared_ptr<CredentialsProvider> source_;
  AssumeRoleParams params_;
  StsOptions sts_;
};

// ---- web identity --------------------------------------------------------------------------------
struct WebIdentityOptions {
  std::string token_file;  // re-read on every fetch (the orchestrator rotates it)
  AssumeRoleParams role;   // role_arn, session_name (AWS_ROLE_SESSION_NAME), duration
  StsOptions sts;
};
// From AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME); nullopt when not both set.
std::optional<WebIdentityOptions> web_identity_from_environment(const common::Environment& env, StsOptions sts);

class WebIdentityCredentialsProvider final : public CredentialsProvider {
 public:
  WebIdentityCredentialsProvider(common::http::HttpClient& http, const common::Clock& clock, WebIdentityOptions options);
  void get(CredentialsHandler done) override;
  std::string name() const override { return "web identity"; }

 private:
  common::http::HttpClient& http_;
  const common::Clock& clock_;
  WebIdentityOptions options_;
};

// ---- container -----------------------------------------------------------------------------------
struct ContainerCredentialsOptions {
  std::string url;              // full URL of the credentials endpoint
  std::string auth_token;       // Authorization header value (AWS_CONTAINER_AUTHORIZATION_TOKEN)
  std::string auth_token_file;  // wins over auth_token; re-read on every fetch
  std::chrono::milliseconds timeout{2000};  // per attempt (botocore: 2 s)
  int attempts = 3;                         // botocore: 3 tries
};
// From AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (-> 169.254.170.2) or _FULL_URI (+ the auth token variables).
// nullopt when neither is set; kConfig when FULL_URI is plain http to a host other than loopback,
// 169.254.170.2, 169.254.170.23 or [fd00:ec2::23].
[[nodiscard]] common::Result<std::optional<ContainerCredentialsOptions>> container_credentials_from_environment(
    const common::Environment& env);

class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  ContainerCredentialsProvider(common::http::HttpClient& http, ContainerCredentialsOptions options);
  void get(CredentialsHandler done) override;
  std::string name() const override { return "container"; }

 private:
  void attempt(int n, CredentialsHandler done);
  common::http::HttpClient& http_;
  ContainerCredentialsOptions options_;
};

// ---- IMDS ----------------------------------------------------------------------------------------
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ImdsCredentialsProvider(ImdsClient& imds) : imds_(imds) {}
  void get(CredentialsHandler done) override;
  std::string name() const override { return role_.empty() ? "imds" : "imds role " + role_; }

 private:
  ImdsClient& imds_;
  std::string role_;
};

// ---- shared files --------------------------------------------------------------------------------
struct ProfileProviderOptions {
  std::string profile;          // empty = AWS_PROFILE, else "default"
  SharedConfigPaths paths{};    // empty fields = from AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE / HOME
  StsOptions sts{};             // for role_arn profiles; a profile's "region" key overrides sts.region
  std::chrono::milliseconds process_timeout = std::chrono::milliseconds(30000);
};

// What a profile provider needs from the outside world. imds may be null (credential_source
// Ec2InstanceMetadata then fails with kUnavailable).
struct ProfileProviderDeps {
  boost::asio::io_context& io;  // credential_process reads its stdout here
  common::http::HttpClient& http;
  const common::Clock& clock;
  const common::Environment& env;
  ImdsClient* imds = nullptr;
};

// A named profile of ~/.aws/credentials + ~/.aws/config: static keys, credential_process, or role_arn
// with source_profile (chains up to 5 deep) / credential_source (Environment, Ec2InstanceMetadata,
// EcsContainer). The files are re-read when their fingerprint (inode, size, mtime) changes.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  ProfileCredentialsProvider(ProfileProviderDeps deps, ProfileProviderOptions options);
  void get(CredentialsHandler done) override;
  std::string name() const override { return "profile " + profile_; }
  // True when the files changed since they were last read (also true before the first read).
  bool files_changed() const;
  const std::string& profile() const { return profile_; }

 private:
  void resolve(const std::string& profile, int depth, CredentialsHandler done);
  ProfileProviderDeps deps_;
  ProfileProviderOptions options_;
  std::string profile_;
  std::optional<SharedConfig> loaded_;
};

// ---- caching -------------------------------------------------------------------------------------
struct CachingOptions {
  std::chrono::seconds min_validity{60};     // never hand out credentials expiring within this
  std::chrono::seconds refresh_before{300};  // refresh (in the background) when less than this is left
  std::chrono::seconds retry_after_failure{10};  // after a failed background refresh, wait before the next
  std::function<bool()> source_changed{};    // e.g. shared files rewritten: drop the cache
};

class CachingProvider final : public CredentialsProvider {
 public:
  CachingProvider(std::shared_ptr<CredentialsProvider> inner, const common::Clock& clock, CachingOptions options = {});
  // Cached and fresh: answers inline. Cached, usable but inside refresh_before: answers inline with the
  // cached credentials and starts one background refresh. Otherwise waits for the (shared) fetch.
  void get(CredentialsHandler done) override;
  void invalidate() override;
  std::string name() const override { return inner_->name(); }

  std::uint64_t fetches() const { return fetches_; }  // calls made to the inner provider
  const std::shared_ptr<CredentialsProvider>& inner() const { return inner_; }

 private:
  void start_fetch();
  void fetch_done(common::Result<Credentials> result);
  bool usable(const Credentials& c) const;

  std::shared_ptr<CredentialsProvider> inner_;
  const common::Clock& clock_;
  CachingOptions options_;
  std::optional<Credentials> cached_;
  bool in_flight_ = false;
  std::vector<CredentialsHandler> waiters_;
  common::SteadyTime no_refresh_until_{};
  std::uint64_t fetches_ = 0;
  std::uint64_t generation_ = 0;  // bumped by invalidate(): a fetch started before it is not cached
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace common::aws
