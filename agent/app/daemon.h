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
inline constexpr int kExitConfig = 78;

// `trailwatch run`: returns the process exit code after SIGTERM/SIGINT (0 on a clean stop).
int run_daemon(const std::string& config_path, const common::Environment& env);

// `trailwatch once`: one round of every source, printed as the local sink would, then exit.
int run_once(const std::string& config_path, const common::Environment& env);

// `trailwatch validate`: 0 when valid; every error listed on stderr otherwise.
int run_validate(const std::string& config_path, const common::Environment& env, bool print_effective);

// `trailwatch prepare-image`: removes the instance-specific state (reset_instance_state()) before an
// image is made; with machine_id also empties /etc/machine-id. Refuses (1) while the daemon runs.
int run_prepare_image(const std::string& config_path, const common::Environment& env, bool yes, bool machine_id);

}  // namespace agent
