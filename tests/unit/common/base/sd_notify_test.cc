#include "common/event/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Binds an abstract-namespace datagram socket, the way systemd offers NOTIFY_SOCKET.
class NotifyListener {
 public:
  NotifyListener() {
    name_ = "@trailwatch-test-" + std::to_string(::getpid());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    addr.sun_path[0] = '\0';
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr),
                    static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size())) == 0;
  }
  ~NotifyListener() { ::close(fd_); }
  bool bound() const { return bound_; }
  const std::string& name() const { return name_; }
  std::string receive() {
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string name_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SystemdNotifierTest, SendsDatagramToAbstractSocket) {
  NotifyListener listener;
  ASSERT_TRUE(listener.bound());
  common::SystemdNotifier notifier(listener.name());
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.notify("READY=1\nSTATUS=ok").ok());
  EXPECT_EQ(listener.receive(), "READY=1\nSTATUS=ok");
}

TEST(SystemdNotifierTest, DisabledWithoutSocketAndErrorsOnMissingPeer) {
  common::SystemdNotifier off("");
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.notify("READY=1").ok());
  common::SystemdNotifier missing("/nonexistent/trailwatch-notify.sock");
  EXPECT_FALSE(missing.notify("READY=1").ok());
}

TEST(SystemdNotifierTest, WatchdogPeriodIsHalfOfWatchdogUsecForThisPid) {
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  auto p = common::SystemdNotifier::watchdog_period_from_environment();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->count(), 1500000);
  ::setenv("WATCHDOG_PID", "1", 1);  // meant for another process
  EXPECT_FALSE(common::SystemdNotifier::watchdog_period_from_environment().has_value());
  ::unsetenv("WATCHDOG_PID");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_FALSE(common::SystemdNotifier::watchdog_period_from_environment().has_value());
}

}  // namespace
