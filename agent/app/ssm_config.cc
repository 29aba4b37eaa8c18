#include "agent/app/ssm_config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/app/runtime.h"
#include "common/fs/atomic_file.h"
#include "common/text/redact.h"

namespace agent {

std::optional<std::string> ssm_parameter_of(const std::string& config_arg) {
  if (!config_arg.starts_with(kSsmConfigPrefix)) return std::nullopt;
  return config_arg.substr(std::strlen(kSsmConfigPrefix));
}

std::string ssm_cache_path(const std::string& state_dir, const std::string& name) {
  return (std::filesystem::path(state_dir) / kSsmCacheDir / common::aws::ssm_cache_file_name(name)).string();
}

common::Result<AwsConfig> ssm_bootstrap_aws_config(const std::string& name, const common::Environment& env) {
  if (auto problem = common::aws::ssm_parameter_name_problem(name); !problem.empty()) {
    return common::Error(common::ErrorCode::kConfig, fmt::format("ssm:{}: {}", name, problem));
  }
  // An empty config file reads the environment exactly as a real one does.
  ConfigLoad env_only = load_config_text("{}\n", "environment", env);
  if (!env_only.config) {
    std::string why;
    for (const auto& e : env_only.errors) why += (why.empty() ? "" : "; ") + e.to_string();
    return common::Error(common::ErrorCode::kConfig, "AWS settings for ssm:" + name + ": " + why);
  }
  AwsConfig aws = env_only.config->aws;
  if (std::string arn_region = common::aws::ssm_region_from_arn(name); !arn_region.empty()) aws.region = arn_region;
  return aws;
}

SsmConfigFetcher::SsmConfigFetcher(boost::asio::io_context& io, const common::Clock& clock,
                                   common::Scheduler& scheduler, const common::Environment& env, std::string name)
    : io_(io), clock_(clock), scheduler_(scheduler), env_(env), name_(std::move(name)) {}

SsmConfigFetcher::~SsmConfigFetcher() { *alive_ = false; }

void SsmConfigFetcher::fetch(std::function<void(common::Result<common::aws::SsmParameter>)> done) {
  auto fail_later = [this, &done](common::Error e) {
    scheduler_.post([done = std::move(done), e = std::move(e)]() mutable { done(std::move(e)); });
  };
  if (!aws_) {
    auto config = ssm_bootstrap_aws_config(name_, env_);
    if (!config.ok()) return fail_later(std::move(config).error());
    auto ctx = AwsContext::create(io_, clock_, scheduler_, env_, *config);
    if (!ctx.ok()) return fail_later(std::move(ctx).error().wrap(common::ErrorCode::kConfig, "ssm:" + name_));
    aws_ = std::move(*ctx);
  }
  if (initialized_) return call(std::move(done));
  std::weak_ptr<bool> alive = alive_;
  aws_->initialize([this, alive, done = std::move(done)](common::Status st) mutable {
    if (alive.expired()) return;
    if (!st.ok()) {
      // The bootstrap has no config file: its region comes from the ARN, AWS_REGION or IMDS only.
      done(std::move(st).error().wrap(common::ErrorCode::kConfig,
                                      "fetching ssm:" + name_ + " (region from the parameter ARN, AWS_REGION, "
                                      "AWS_DEFAULT_REGION or IMDS)"));
      return;
    }
    initialized_ = true;
    call(std::move(done));
  });
}

void SsmConfigFetcher::call(std::function<void(common::Result<common::aws::SsmParameter>)> done) {
  auto endpoint = aws_->endpoint(common::aws::Service::kSsm);
  if (!endpoint.ok()) {
    common::Error e = std::move(endpoint).error().wrap(common::ErrorCode::kConfig, "ssm endpoint");
    scheduler_.post([done = std::move(done), e = std::move(e)]() mutable { done(std::move(e)); });
    return;
  }
  const std::string where = fmt::format("ssm:{} (region {}, {})", name_, endpoint->signing_region,
                                        common::redact_url_userinfo(endpoint->url));
  std::weak_ptr<bool> alive = alive_;
  aws_->client().call(
      common::aws::get_parameter_call(*endpoint, name_),
      [alive, where, done = std::move(done)](common::aws::AwsCallOutcome outcome) mutable {
        if (alive.expired()) return;
        if (auto* ok = std::get_if<common::aws::AwsCallResult>(&outcome)) {
          auto parsed = common::aws::parse_get_parameter_response(ok->response.body);
          if (!parsed.ok()) {
            done(std::move(parsed).error().wrap(where));
            return;
          }
          done(std::move(*parsed));
          return;
        }
        const auto& err = std::get<common::aws::AwsCallError>(outcome);
        if (err.error.code == "ParameterNotFound" || err.error.code == "ParameterVersionNotFound") {
          done(common::Error(common::ErrorCode::kNotFound,
                             fmt::format("{}: parameter not found ({}{}{})", where, err.error.code,
                                         err.error.message.empty() ? "" : ": ", err.error.message)));
          return;
        }
        done(err.to_error().wrap("fetching " + where));
      });
}

common::Result<common::aws::SsmParameter> fetch_ssm_parameter_now(const std::string& name,
                                                                  const common::Environment& env) {
  boost::asio::io_context io;
  common::SystemClock clock;
  common::AsioScheduler scheduler(io);
  std::optional<common::Result<common::aws::SsmParameter>> result;
  {
    SsmConfigFetcher fetcher(io, clock, scheduler, env, name);
    fetcher.fetch([&result](common::Result<common::aws::SsmParameter> r) { result = std::move(r); });
    while (!result && io.run_one() > 0) {
    }
  }
  if (!result) return common::Error(common::ErrorCode::kInternal, "ssm:" + name + ": the fetch did not complete");
  return std::move(*result);
}

namespace {

std::string display_name(const std::string& name) { return kSsmConfigPrefix + name; }

std::string describe_age(std::chrono::seconds age) {
  const auto s = age.count();
  if (s < 120) return fmt::format("{} s", s);
  if (s < 7200) return fmt::format("{} min", s / 60);
  if (s < 172800) return fmt::format("{} h", s / 3600);
  return fmt::format("{} days", s / 86400);
}

}  // namespace

FetchedConfig accept_fetched_config(const std::string& name, const common::aws::SsmParameter& parameter,
                                    const std::string& state_dir, const common::Environment& env) {
  FetchedConfig out;
  out.cache_path = ssm_cache_path(state_dir, name);
  out.load = load_config_text(parameter.value, display_name(name), env, state_dir);
  if (!out.load.config) {
    out.refusal = fmt::format("{} (version {}) refused: {} error(s); cache {} kept", display_name(name),
                              parameter.version, out.load.errors.size(), out.cache_path);
    return out;
  }
  const std::string dir = std::filesystem::path(out.cache_path).parent_path().string();
  common::Status st = ensure_directory(dir);
  if (st.ok()) st = common::write_file_atomically(out.cache_path, parameter.value, 0600);
  if (!st.ok()) out.cache_warning = fmt::format("cannot cache {}: {}", display_name(name), st.error().to_string());
  return out;
}

std::optional<CachedConfig> load_cached_config(const std::string& name, const std::string& state_dir,
                                               const common::Environment& env) {
  CachedConfig out;
  out.path = ssm_cache_path(state_dir, name);
  std::ifstream in(out.path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  struct stat st {};
  if (::stat(out.path.c_str(), &st) == 0) {
    const auto now = std::chrono::system_clock::now();
    const auto mtime = std::chrono::system_clock::from_time_t(st.st_mtime);
    out.age = std::max(std::chrono::seconds(0), std::chrono::duration_cast<std::chrono::seconds>(now - mtime));
  }
  out.load = load_config_text(text.str(), out.path, env, state_dir);
  return out;
}

SsmConfigResult obtain_ssm_config(const std::string& name, const std::string& state_dir, const common::Environment& env,
                                  bool allow_cache) {
  SsmConfigResult out;
  // Without a usable fetch: the cached copy when allowed, else the reason is the error.
  auto fall_back = [&](const std::string& why) {
    if (!allow_cache) {
      out.messages.push_back("error: " + why);
      return;
    }
    auto cached = load_cached_config(name, state_dir, env);
    if (!cached) {
      out.messages.push_back(fmt::format("error: {}; no cached copy at {}", why, ssm_cache_path(state_dir, name)));
      return;
    }
    if (!cached->load.config) {
      for (const auto& e : cached->load.errors) out.messages.push_back("error: " + e.to_string());
      out.messages.push_back(fmt::format("error: {}; the cached copy {} is invalid too", why, cached->path));
      return;
    }
    out.messages.push_back(fmt::format("warning: {}; using the cached copy {} (last fetched {} ago)", why,
                                       cached->path, describe_age(cached->age)));
    out.config = std::move(cached->load.config);
    out.warnings = std::move(cached->load.warnings);
    out.from_cache = true;
  };

  auto parameter = fetch_ssm_parameter_now(name, env);
  if (!parameter.ok()) {
    out.fetch_failed = true;
    fall_back(parameter.error().to_string());
    return out;
  }
  FetchedConfig fetched = accept_fetched_config(name, *parameter, state_dir, env);
  if (!fetched.load.config) {
    out.fetched_invalid = true;
    for (const auto& e : fetched.load.errors) out.messages.push_back("error: " + e.to_string());
    fall_back(fetched.refusal);
    return out;
  }
  if (!fetched.cache_warning.empty()) out.messages.push_back("warning: " + fetched.cache_warning);
  out.config = std::move(fetched.load.config);
  out.warnings = std::move(fetched.load.warnings);
  return out;
}

}  // namespace agent
