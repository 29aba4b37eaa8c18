// The long-running agent: one io_context, signals, systemd notifications, reload and graceful stop.
#pragma once

#include <string>

#include "common/config/environment.h"

namespace agent {

// Exit codes (sysexits-style where it helps systemd: RestartPreventExitStatus=78 stops a restart loop
// on a broken config).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;
inline constexpr int kExitUnavailable = 69;  // `--config ssm:NAME` could not be fetched (network, credentials)
inline constexpr int kExitConfig = 78;

// Where the configuration comes from: config_path is a file, or "ssm:NAME" (agent/app/ssm_config.h),
// whose last good copy is cached under state_dir.
struct ConfigSource {
  std::string config_path;
  std::string state_dir = "/var/lib/trailwatch";
  bool allow_cache = true;  // ssm: use the cached copy when the fetch fails (validate: --allow-cache)
};

// `trailwatch run`: returns the process exit code after SIGTERM/SIGINT (0 on a clean stop).
int run_daemon(const ConfigSource& source, const common::Environment& env);

// `trailwatch once`: one round of every source, printed as the local sink would, then exit.
int run_once(const ConfigSource& source, const common::Environment& env);

// `trailwatch validate`: 0 when valid, 78 when invalid (every error listed on stderr), 69 when an
// ssm: parameter could not be fetched.
int run_validate(const ConfigSource& source, const common::Environment& env, bool print_effective);

// `trailwatch prepare-image`: removes the instance-specific state (reset_instance_state()) before an
// image is made; with machine_id also empties /etc/machine-id. Refuses (1) while the daemon runs.
// An ssm:NAME config is fetched (and cached), else read from the cache, else the defaults apply.
int run_prepare_image(const ConfigSource& source, const common::Environment& env, bool yes, bool machine_id);

}  // namespace agent
