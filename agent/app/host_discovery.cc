#include "agent/app/host_discovery.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/app/instance_state.h"

namespace agent {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string first_interface_address() {
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string v4;
  std::string v6;
  char buf[INET6_ADDRSTRLEN] = {};
  for (const struct ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_UP) == 0 || (a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    if (a->ifa_addr->sa_family == AF_INET && v4.empty()) {
      sockaddr_in sin{};
      std::memcpy(&sin, a->ifa_addr, sizeof(sin));
      if (::inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof(buf)) != nullptr) v4 = buf;
    } else if (a->ifa_addr->sa_family == AF_INET6 && v6.empty()) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, a->ifa_addr, sizeof(sin6));
      if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr)) continue;
      if (::inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof(buf)) != nullptr) v6 = buf;
    }
  }
  ::freeifaddrs(list);
  return !v4.empty() ? v4 : v6;
}

std::string seconds_text(std::chrono::milliseconds d) { return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0); }

}  // namespace

std::string machine_id_path() {
  const char* mid = std::getenv("TRAILWATCH_MACHINE_ID_FILE");
  return mid != nullptr && *mid != '\0' ? std::string(mid) : std::string("/etc/machine-id");
}

std::string read_boot_id(const std::string& proc_root) {
  return read_first_line(proc_root + "/sys/kernel/random/boot_id");
}

HostContext make_host_context(const AgentConfig& config, const common::aws::InstanceIdentity* identity,
                              std::string_view region, std::string event_host) {
  HostContext h;
  if (identity != nullptr) {
    h.instance_id = identity->instance_id;
    h.account_id = identity->account_id;
    h.host_address = identity->private_ip;
  }
  h.region = !region.empty() ? std::string(region) : (identity != nullptr ? identity->region : config.aws.region);
  h.hostname = config.agent.hostname;
  if (h.hostname.empty() && identity != nullptr) h.hostname = identity->hostname;
  if (h.hostname.empty()) {
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) == 0) h.hostname = name;
  }
  h.boot_id = read_boot_id(config.agent.proc_root);
  // 32 hex digits; "uninitialized" (first boot of an image) or an empty file is not an id.
  h.machine_id = read_machine_id(machine_id_path());
  h.event_host = std::move(event_host);
  if (h.host_address.empty()) h.host_address = first_interface_address();
  return h;
}

std::chrono::milliseconds discovery_retry_delay(int retry, double unit, std::chrono::milliseconds base,
                                                std::chrono::milliseconds cap) {
  // base * 2^retry, saturating at cap (no overflow for any retry count).
  double ceiling = static_cast<double>(cap.count());
  if (retry < 62) ceiling = std::min(ceiling, std::ldexp(static_cast<double>(base.count()), std::max(retry, 0)));
  const double u = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(u * ceiling));
}

DiscoveryRetry::DiscoveryRetry(common::Scheduler& scheduler, common::aws::Rng& rng, Probe probe, Found found)
    : scheduler_(scheduler), rng_(rng), probe_(std::move(probe)), found_(std::move(found)) {}

DiscoveryRetry::~DiscoveryRetry() {
  *alive_ = false;
  stop();
}

void DiscoveryRetry::start(const common::Error& first_failure) {
  if (running_) return;
  running_ = true;
  retries_ = 0;
  waited_ = std::chrono::milliseconds(0);
  spdlog::warn(
      "no instance metadata ({}); asking again with backoff ({} .. {}); until it answers, metrics have no "
      "instance dimensions, log streams are named by the hostname and event ids keep the stored host identity",
      first_failure.to_string(), seconds_text(kDiscoveryBackoffBase), seconds_text(kDiscoveryBackoffCap));
  arm();
}

void DiscoveryRetry::stop() {
  running_ = false;
  if (timer_ != 0) scheduler_.cancel(timer_);
  timer_ = 0;
}

void DiscoveryRetry::arm() {
  last_delay_ = discovery_retry_delay(retries_, rng_.next_unit());
  waited_ += last_delay_;
  timer_ = scheduler_.schedule_after(last_delay_, [this] {
    timer_ = 0;
    attempt();
  });
}

void DiscoveryRetry::attempt() {
  if (!running_) return;
  ++retries_;
  std::weak_ptr<bool> alive = alive_;
  probe_([this, alive](Answer answer) {
    if (alive.expired() || !running_) return;
    if (!answer.ok()) {
      spdlog::debug("instance metadata: retry {} failed: {}", retries_, answer.error().to_string());
      arm();
      return;
    }
    running_ = false;
    spdlog::info("instance metadata answered after {} retr{} (about {}): instance {} in {}, account {}", retries_,
                 retries_ == 1 ? "y" : "ies", seconds_text(waited_), answer->instance_id, answer->region,
                 answer->account_id);
    // Not from inside the probe's (HTTP client's) callback: `found` may tear down what made the call.
    timer_ = scheduler_.schedule_after(std::chrono::nanoseconds(0), [this, id = std::move(*answer)] {
      timer_ = 0;
      found_(id);
    });
  });
}

}  // namespace agent
