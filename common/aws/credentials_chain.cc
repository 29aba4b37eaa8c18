#include "common/aws/credentials_chain.h"

#include <spdlog/spdlog.h>

namespace common::aws {

Result<std::shared_ptr<DefaultCredentialsChain>> DefaultCredentialsChain::create(CredentialsDeps deps,
                                                                                 CredentialsChainOptions options) {
  std::vector<std::shared_ptr<CredentialsProvider>> providers;
  auto cached = [&](std::shared_ptr<CredentialsProvider> p, CachingOptions c) {
    return std::make_shared<CachingProvider>(std::move(p), deps.clock, std::move(c));
  };
  if (options.static_credentials) {
    Credentials c = *options.static_credentials;
    if (c.source.empty()) c.source = "config";
    providers.push_back(std::make_shared<StaticCredentialsProvider>(std::move(c), "config"));
  }
  providers.push_back(std::make_shared<EnvironmentCredentialsProvider>(deps.env));
  if (auto web = web_identity_from_environment(deps.env, options.sts)) {
    providers.push_back(cached(std::make_shared<WebIdentityCredentialsProvider>(deps.http, deps.clock, std::move(*web)),
                               options.caching));
  }
  {
    ProfileProviderOptions po;
    po.profile = options.profile;
    po.paths = options.shared_files;
    po.sts = options.sts;
    po.process_timeout = options.process_timeout;
    auto profile = std::make_shared<ProfileCredentialsProvider>(
        ProfileProviderDeps{deps.io, deps.http, deps.clock, deps.env, deps.imds}, std::move(po));
    CachingOptions c = options.caching;
    std::weak_ptr<ProfileCredentialsProvider> weak = profile;
    c.source_changed = [weak] {
      auto p = weak.lock();
      return p && p->files_changed();
    };
    providers.push_back(cached(profile, std::move(c)));
  }
  auto container = container_credentials_from_environment(deps.env);
  if (!container.ok()) return container.error().wrap("container credentials");
  if (container->has_value()) {
    providers.push_back(cached(std::make_shared<ContainerCredentialsProvider>(deps.http, std::move(**container)),
                               options.caching));
  }
  if (deps.imds != nullptr) {
    providers.push_back(cached(std::make_shared<ImdsCredentialsProvider>(*deps.imds), options.caching));
  }
  return std::make_shared<DefaultCredentialsChain>(deps, std::move(providers));
}

DefaultCredentialsChain::DefaultCredentialsChain(CredentialsDeps deps,
                                                 std::vector<std::shared_ptr<CredentialsProvider>> providers)
    : deps_(deps), providers_(std::move(providers)) {}

void DefaultCredentialsChain::get(CredentialsHandler done) {
  if (chosen_) {
    const std::size_t i = *chosen_;
    std::weak_ptr<int> alive = alive_;
    providers_[i]->get([this, alive, i, done = std::move(done)](Result<Credentials> r) mutable {
      if (alive.expired()) return;
      if (!r.ok() && r.error().code() == ErrorCode::kNotFound) {
        // The source went away (variables unset, profile removed): start over from the top.
        spdlog::info("credentials source {} is gone ({}); trying the chain again", providers_[i]->name(),
                     r.error().to_string());
        chosen_.reset();
        try_from(0, {}, std::move(done));
        return;
      }
      done(std::move(r));
    });
    return;
  }
  try_from(0, {}, std::move(done));
}

void DefaultCredentialsChain::try_from(std::size_t index, std::vector<std::string> skipped, CredentialsHandler done) {
  if (index >= providers_.size()) {
    std::string msg = "no AWS credentials found; tried:";
    for (const auto& s : skipped) msg += " [" + s + "]";
    done(Error(ErrorCode::kNotFound, msg));
    return;
  }
  std::weak_ptr<int> alive = alive_;
  providers_[index]->get([this, alive, index, skipped = std::move(skipped), done = std::move(done)](
                             Result<Credentials> r) mutable {
    if (alive.expired()) return;
    if (r.ok()) {
      if (chosen_ != index) spdlog::info("AWS credentials from {}", providers_[index]->name());
      chosen_ = index;
      done(std::move(r));
      return;
    }
    if (r.error().code() == ErrorCode::kNotFound) {
      skipped.push_back(providers_[index]->name() + ": " + r.error().to_string());
      try_from(index + 1, std::move(skipped), std::move(done));
      return;
    }
    done(r.error().wrap("credentials from " + providers_[index]->name()));
  });
}

void DefaultCredentialsChain::invalidate() {
  if (chosen_) providers_[*chosen_]->invalidate();
}

std::string DefaultCredentialsChain::name() const {
  return chosen_ ? "chain: " + providers_[*chosen_]->name() : "chain";
}

std::string DefaultCredentialsChain::answered_by() const { return chosen_ ? providers_[*chosen_]->name() : ""; }

std::vector<std::string> DefaultCredentialsChain::provider_names() const {
  std::vector<std::string> out;
  out.reserve(providers_.size());
  for (const auto& p : providers_) out.push_back(p->name());
  return out;
}

Result<std::shared_ptr<CredentialsProvider>> make_default_credentials(CredentialsDeps deps,
                                                                      CredentialsChainOptions options) {
  const std::string role_arn = options.role_arn;
  AssumeRoleParams params;
  params.role_arn = options.role_arn;
  params.session_name = options.role_session_name;
  params.external_id = options.external_id;
  params.duration = options.role_duration;
  StsOptions sts = options.sts;
  CachingOptions caching = options.caching;
  auto chain = DefaultCredentialsChain::create(deps, std::move(options));
  if (!chain.ok()) return std::move(chain).error();
  if (role_arn.empty()) return std::shared_ptr<CredentialsProvider>(std::move(*chain));
  auto assume = std::make_shared<AssumeRoleCredentialsProvider>(deps.http, deps.clock, std::move(*chain),
                                                                std::move(params), std::move(sts));
  return std::shared_ptr<CredentialsProvider>(
      std::make_shared<CachingProvider>(std::move(assume), deps.clock, std::move(caching)));
}

}  // namespace common::aws
