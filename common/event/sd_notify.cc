#include "common/event/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace common {

SystemdNotifier SystemdNotifier::from_environment() {
  const char* p = std::getenv("NOTIFY_SOCKET");
  return SystemdNotifier(p != nullptr ? p : "");
}

Status SystemdNotifier::notify(std::string_view state) const {
  if (path_.empty()) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(addr.sun_path)) return Error(ErrorCode::kInvalidArgument, "NOTIFY_SOCKET path too long");
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (n < 0) return Error(ErrorCode::kIo, std::string("sd_notify: ") + std::strerror(err));
  return {};
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_period_from_environment() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return std::nullopt;
  if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr) {
    if (std::strtol(pid, nullptr, 10) != static_cast<long>(::getpid())) return std::nullopt;
  }
  const long long v = std::strtoll(usec, nullptr, 10);
  if (v <= 0) return std::nullopt;
  return std::chrono::microseconds(v / 2);
}

}  // namespace common
