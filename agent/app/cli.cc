#include "agent/app/cli.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "agent/app/daemon.h"
#include "common/config/environment.h"

namespace agent {
namespace {

constexpr const char* kDefaultConfig = "/etc/trailwatch/trailwatch.yaml";

constexpr const char* kMainHelp =
    "trailwatch — host metrics, audit trail and local alarms for EC2\n"
    "\n"
    "usage: trailwatch <command> [options]\n"
    "\n"
    "commands:\n"
    "  run        run the agent in the foreground (as systemd starts it)\n"
    "  once       take one round of every source, print what would be sent, exit\n"
    "  validate   check a configuration file and list every error\n"
    "  prepare-image  clear instance-specific state before making an image (AMI)\n"
    "  version    print the version\n"
    "\n"
    "Run 'trailwatch <command> --help' for the options of a command.\n";

struct CommandHelp {
  std::string_view name;
  const char* text;
};

constexpr CommandHelp kHelp[] = {
    {"run",
     "usage: trailwatch run [--config FILE]\n"
     "\n"
     "Runs the agent in the foreground until SIGTERM or SIGINT; SIGHUP re-reads the config\n"
     "(applied only if valid) and reopens the local output file.\n"
     "\n"
     "  --config FILE   configuration file (default /etc/trailwatch/trailwatch.yaml)\n"
     "\n"
     "exit status: 0 clean stop, 78 invalid configuration, 1 other failure\n"},
    {"once",
     "usage: trailwatch once [--config FILE]\n"
     "\n"
     "Takes one round of every enabled source and prints, as JSON lines on stdout, exactly what\n"
     "would be sent (whatever the configured outputs), then exits. Nothing is sent to AWS.\n"
     "\n"
     "  --config FILE   configuration file (default /etc/trailwatch/trailwatch.yaml)\n"},
    {"validate",
     "usage: trailwatch validate [--config FILE] [--print]\n"
     "\n"
     "Checks a configuration file. Every error is printed as FILE:LINE:COL: KEY: MESSAGE.\n"
     "\n"
     "  --config FILE   configuration file (default /etc/trailwatch/trailwatch.yaml)\n"
     "  --print         also print the effective configuration (defaults and environment applied,\n"
     "                  secrets redacted)\n"
     "\n"
     "exit status: 0 valid, 78 invalid\n"},
    {"prepare-image",
     "usage: trailwatch prepare-image [--config FILE] [--yes] [--machine-id]\n"
     "\n"
     "Clears the instance-specific state so that instances launched from an image start fresh:\n"
     "checkpoints, the metrics spool, queued alarm notifications, alarm states, the stored host\n"
     "identity (agent.state_dir) and dead letters (delivery.spool_dir). Prints each path removed.\n"
     "Idempotent. Refuses while trailwatch runs (it holds <state_dir>/trailwatch.pid locked).\n"
     "Credentials are never stored on disk by trailwatch, so there are none to clear.\n"
     "\n"
     "  --config FILE   configuration file (default /etc/trailwatch/trailwatch.yaml)\n"
     "  --yes           do not ask (it asks only when stdin is a terminal)\n"
     "  --machine-id    also empty /etc/machine-id (systemd writes a new one at first boot)\n"
     "\n"
     "exit status: 0 done, 78 invalid configuration, 1 trailwatch running or a file not removable\n"},
    {"version", "usage: trailwatch version\n\nPrints the version.\n"},
};

const char* help_for(std::string_view command) {
  for (const auto& h : kHelp) {
    if (h.name == command) return h.text;
  }
  return nullptr;
}

int usage_error(std::string_view command, const std::string& message) {
  std::fprintf(stderr, "trailwatch %.*s: %s\n\n%s", static_cast<int>(command.size()), command.data(),
               message.c_str(), help_for(command) != nullptr ? help_for(command) : kMainHelp);
  return kExitUsage;
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kMainHelp, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] == "--version" || args[0] == "-V") args[0] = "version";
  const std::string_view command = args[0];
  if (help_for(command) == nullptr) {
    std::fprintf(stderr, "trailwatch: unknown command '%.*s'\n\n%s", static_cast<int>(command.size()),
                 command.data(), kMainHelp);
    return kExitUsage;
  }

  std::string config_path = kDefaultConfig;
  bool print = false;
  bool yes = false;
  bool machine_id = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(help_for(command), stdout);
      return kExitOk;
    }
    if (command != "version" && (a == "--config" || a == "-c")) {
      if (i + 1 >= args.size()) return usage_error(command, "--config needs a file name");
      config_path = std::string(args[++i]);
    } else if (command != "version" && a.starts_with("--config=")) {
      config_path = std::string(a.substr(std::strlen("--config=")));
    } else if (command == "validate" && a == "--print") {
      print = true;
    } else if (command == "prepare-image" && (a == "--yes" || a == "-y")) {
      yes = true;
    } else if (command == "prepare-image" && a == "--machine-id") {
      machine_id = true;
    } else {
      return usage_error(command, "unknown option '" + std::string(a) + "'");
    }
  }

  const common::ProcessEnvironment env;
  if (command == "version") {
    std::printf("trailwatch %s\n", TRAILWATCH_VERSION);
    return kExitOk;
  }
  if (command == "validate") return run_validate(config_path, env, print);
  if (command == "once") return run_once(config_path, env);
  if (command == "prepare-image") return run_prepare_image(config_path, env, yes, machine_id);
  return run_daemon(config_path, env);
}

}  // namespace agent
