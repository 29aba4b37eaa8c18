// `--config ssm:NAME`: the YAML configuration kept in an SSM Parameter Store parameter (the fleet
// pattern of the CloudWatch agent's `fetch-config -c ssm:NAME`). Who calls what:
//
//   cli/daemon  -> obtain_ssm_config() at start (run, once, validate): fetch, validate, cache;
//                  without network (or an invalid fetch) the last good copy in the cache is used
//   daemon      -> SsmConfigFetcher::fetch() on SIGHUP, asynchronously on the daemon's loop; the result
//                  goes through accept_fetched_config(), which validates and caches it
//
// Bootstrap (no config exists yet): the AWS settings for the fetch come from the environment only,
// exactly as an empty config file would read them (AWS_REGION/AWS_DEFAULT_REGION, AWS_PROFILE,
// AWS_ENDPOINT_URL_SSM/AWS_ENDPOINT_URL, AWS_EC2_METADATA_*, HTTPS_PROXY, AWS_CA_BUNDLE); the
// region of a parameter ARN wins over the environment; without either, IMDS gives it. Credentials:
// the default chain (env, web identity, shared files, container, IMDS instance profile).
// The fetched config's own `aws` section applies to the agent's outputs, never to the fetch.
//
// Cache: <state_dir>/ssm-config-cache/<ssm_cache_file_name(NAME)>, mode 0600, written atomically
// after each fetched copy that validated. Relative paths in a fetched config resolve against
// state_dir.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agent/app/aws_context.h"
#include "agent/config/agent_config.h"
#include "common/aws/ssm_parameter.h"
#include "common/clock/clock.h"
#include "common/config/environment.h"
#include "common/event/scheduler.h"
#include "common/result/result.h"

namespace agent {

inline constexpr const char* kSsmConfigPrefix = "ssm:";
inline constexpr const char* kSsmCacheDir = "ssm-config-cache";
inline constexpr const char* kDefaultStateDir = "/var/lib/trailwatch";

// NAME when `config_arg` is "ssm:NAME", else nullopt.
std::optional<std::string> ssm_parameter_of(const std::string& config_arg);

// <state_dir>/ssm-config-cache/<file>.
std::string ssm_cache_path(const std::string& state_dir, const std::string& name);

// The AwsConfig the fetch uses: the environment's (see above), with the ARN's region if any.
common::Result<AwsConfig> ssm_bootstrap_aws_config(const std::string& name, const common::Environment& env);

// Fetches one parameter through an AwsContext of its own (created at the first fetch, reused after:
// credentials refresh themselves). Event-loop thread only; done runs on the loop, never inline.
// Destroying the fetcher drops the callback of a fetch in flight.
class SsmConfigFetcher {
 public:
  SsmConfigFetcher(boost::asio::io_context& io, const common::Clock& clock, common::Scheduler& scheduler,
                   const common::Environment& env, std::string name);
  ~SsmConfigFetcher();

  // Errors: kNotFound for ParameterNotFound, kConfig for a bad name or bootstrap setting, else the
  // code AwsCallError::to_error() gives (callers tell only "not fetched" from "fetched").
  void fetch(std::function<void(common::Result<common::aws::SsmParameter>)> done);
  const std::string& name() const { return name_; }

 private:
  void call(std::function<void(common::Result<common::aws::SsmParameter>)> done);

  boost::asio::io_context& io_;
  const common::Clock& clock_;
  common::Scheduler& scheduler_;
  const common::Environment& env_;
  std::string name_;
  std::unique_ptr<AwsContext> aws_;
  bool initialized_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The same, waiting on a private loop (before the daemon's loop exists). Bounded by the call's
// timeout and retries (about 30 s with no answer; immediate when nothing listens).
common::Result<common::aws::SsmParameter> fetch_ssm_parameter_now(const std::string& name,
                                                                  const common::Environment& env);

// Validates a fetched value as a config named "ssm:NAME"; when valid writes the cache (errors
// writing it are warnings). `load` holds the diagnostics either way.
struct FetchedConfig {
  ConfigLoad load;
  std::string cache_path;
  std::string cache_warning;  // non-empty when the cache could not be written
  std::string refusal;        // when invalid: "ssm:NAME (version N) refused: K error(s); cache PATH kept"
};
FetchedConfig accept_fetched_config(const std::string& name, const common::aws::SsmParameter& parameter,
                                    const std::string& state_dir, const common::Environment& env);

// The cached copy, validated; nullopt when there is none (a cached copy that no longer validates,
// e.g. after an upgrade, is reported in `errors` and not used).
struct CachedConfig {
  ConfigLoad load;
  std::string path;
  std::chrono::seconds age{0};
};
std::optional<CachedConfig> load_cached_config(const std::string& name, const std::string& state_dir,
                                               const common::Environment& env);

// What start-up gets: a valid config (fetched, or from the cache after a failed or refused fetch),
// or why there is none. messages: what to log, in order (warnings about the cache, refusals).
struct SsmConfigResult {
  std::optional<AgentConfig> config;
  std::vector<common::ConfigDiagnostic> warnings;  // of the config used
  std::vector<std::string> messages;               // "warning: ..." / "error: ..." lines
  bool from_cache = false;
  bool fetch_failed = false;     // no answer / no credentials / not found: exit kExitUnavailable
  bool fetched_invalid = false;  // answered, but the YAML has errors: exit kExitConfig
};
SsmConfigResult obtain_ssm_config(const std::string& name, const std::string& state_dir, const common::Environment& env,
                                  bool allow_cache);

}  // namespace agent
