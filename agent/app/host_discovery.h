// Host discovery: who this host is (IMDS instance identity, hostname, address, machine and boot id)
// and the retry of IMDS when it did not answer at start.
//
// - make_host_context() is the thin I/O that fills a HostContext for the trail mapper and outputs.
// - The name event ids are made from (HostContext::event_host) is not decided here: it is the
//   persisted identity of instance_state.h (plan_identity), so that it does not depend on whether
//   IMDS answered at this start.
// - DiscoveryRetry asks IMDS again, with full-jitter backoff (base 1 s, cap 5 min) on the injected
//   scheduler, until it answers; it logs the first failure and the recovery once each. The daemon
//   then rebuilds its runtime so that the InstanceId dimension, the CloudWatch Logs stream name and
//   the new-instance check pick up the identity.
// Single-threaded: everything runs on the loop thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/config/agent_config.h"
#include "agent/pipeline/trail_record.h"
#include "common/aws/imds_client.h"
#include "common/aws/retry.h"
#include "common/event/scheduler.h"
#include "common/result/result.h"

namespace agent {

// Where the machine id is read: $TRAILWATCH_MACHINE_ID_FILE (tests) when set, else /etc/machine-id.
std::string machine_id_path();

// <proc_root>/sys/kernel/random/boot_id, first line; empty when unreadable.
std::string read_boot_id(const std::string& proc_root);

// Where the agent runs, for map_event: instance/account/region from the IMDS identity when there is
// one; hostname from agent.hostname, else the identity's, else gethostname(); boot id from
// <agent.proc_root>/sys/kernel/random/boot_id and machine id from machine_id_path(); host address
// from the identity's private IP, else the first non-loopback IPv4 (then IPv6) address of an
// interface that is up. event_host is the persisted identity (empty: host_id_for_events falls back).
HostContext make_host_context(const AgentConfig& config, const common::aws::InstanceIdentity* identity,
                              std::string_view region, std::string event_host);

// IMDS discovery retry: full jitter, delay = unit * min(cap, base * 2^retry), unit in [0, 1) from
// common::aws::Rng, retry 0 for the first retry (the formula of common/aws/retry.h).
inline constexpr std::chrono::milliseconds kDiscoveryBackoffBase{1000};
inline constexpr std::chrono::milliseconds kDiscoveryBackoffCap{std::chrono::minutes(5)};

// Pure: the delay before retry number `retry` (0-based) for a random unit in [0, 1).
std::chrono::milliseconds discovery_retry_delay(int retry, double unit,
                                                std::chrono::milliseconds base = kDiscoveryBackoffBase,
                                                std::chrono::milliseconds cap = kDiscoveryBackoffCap);

class DiscoveryRetry {
 public:
  using Answer = common::Result<common::aws::InstanceIdentity>;
  // One IMDS question; calls its argument exactly once (or never, when the client went away).
  using Probe = std::function<void(std::function<void(Answer)>)>;
  using Found = std::function<void(const common::aws::InstanceIdentity&)>;

  // scheduler, rng and whatever probe uses must outlive this object.
  DiscoveryRetry(common::Scheduler& scheduler, common::aws::Rng& rng, Probe probe, Found found);
  ~DiscoveryRetry();
  DiscoveryRetry(const DiscoveryRetry&) = delete;
  DiscoveryRetry& operator=(const DiscoveryRetry&) = delete;

  // IMDS did not answer at start (first_failure says why): logs it once and retries until it answers;
  // then logs the recovery once and calls `found` (from a fresh turn of the loop, not from inside
  // the probe's callback). Later failures are logged at debug level only.
  void start(const common::Error& first_failure);
  void stop();

  bool waiting() const noexcept { return running_; }
  int retries() const noexcept { return retries_; }  // probes made since start()
  std::chrono::milliseconds last_delay() const noexcept { return last_delay_; }

 private:
  void arm();
  void attempt();

  common::Scheduler& scheduler_;
  common::aws::Rng& rng_;
  Probe probe_;
  Found found_;
  bool running_ = false;
  int retries_ = 0;
  std::chrono::milliseconds last_delay_{0};
  std::chrono::milliseconds waited_{0};
  common::TimerId timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace agent
