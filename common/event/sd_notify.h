// systemd notification protocol (sd_notify(3)) without libsystemd: one datagram to $NOTIFY_SOCKET.
// A no-op when the variable is unset, so the agent behaves the same outside systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace common {

class SystemdNotifier {
 public:
  // socket_path: the value of NOTIFY_SOCKET ("" disables); '@' prefix = abstract namespace.
  explicit SystemdNotifier(std::string socket_path) : path_(std::move(socket_path)) {}
  static SystemdNotifier from_environment();

  bool enabled() const { return !path_.empty(); }
  Status notify(std::string_view state) const;  // e.g. "READY=1", "STATUS=...", "WATCHDOG=1"

  // Half the watchdog interval from WATCHDOG_USEC (honouring WATCHDOG_PID), or nullopt when not asked.
  static std::optional<std::chrono::microseconds> watchdog_period_from_environment();

 private:
  std::string path_;
};

}  // namespace common
