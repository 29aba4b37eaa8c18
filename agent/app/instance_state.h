// Instance-specific state: what must not carry over from one EC2 instance to another launched from
// the same image (checkpoints, spools, alarm states, the stored host identity). One function removes
// it; `trailwatch prepare-image` and the new-instance check at start both call it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace agent {

// Files in state_dir that belong to this instance (names relative to state_dir).
inline constexpr const char* kIdentityFile = "identity.json";
inline constexpr const char* kPidFile = "trailwatch.pid";

struct ResetReport {
  std::vector<std::string> removed;  // paths removed
  std::vector<std::string> errors;   // "path: reason" for what could not be removed
};

// Removes the instance-specific state under state_dir and everything in spool_dir (dead letters);
// missing files are not errors (idempotent). Leaves state_dir itself, the pid file and anything it
// does not know.
ResetReport reset_instance_state(const std::string& state_dir, const std::string& spool_dir);

struct HostIdentity {
  std::string instance_id;  // empty when IMDS did not answer
  std::string machine_id;   // empty when the file is missing or not 32 hex digits
  // The name event ids are made from (HostContext::event_host): chosen once per instance and kept.
  // Empty in a file written before it existed (plan_identity then derives it).
  std::string event_host;
  bool operator==(const HostIdentity&) const = default;
};

// /etc/machine-id (or another path): 32 hex digits, else empty.
std::string read_machine_id(const std::string& path);

std::optional<HostIdentity> load_identity(const std::string& state_dir);
common::Status store_identity(const std::string& state_dir, const HostIdentity& id);

// What to do with the identity at a start, or when IMDS answers later. Pure.
struct IdentityPlan {
  bool new_instance = false;  // reset the instance state before anything reads it
  HostIdentity identity;      // in effect from now on; identity.event_host is never empty if any id is known
  bool store = false;         // identity differs from what is stored (or nothing is): write it
  std::string what;           // for a new instance: "instance id A -> B" / "machine id A -> B"
};

// The rule (docs/delivery.md "Host identity"):
// - New instance: a changed instance id; or, with no stored instance id, a changed machine id. An
//   unknown instance id now (IMDS silent) with a stored one is never a new instance.
// - event_host: on the first start and on a new instance, the instance id, else the machine id,
//   else the boot id (so a first start with IMDS silent persists the machine id); otherwise the
//   stored one, whatever IMDS says now. A stored identity without event_host (older file) gets the
//   one the older agent used whenever IMDS answered: the instance id, else the machine id.
// - Unknown ids are filled in from `current`; the stored ids are never overwritten otherwise.
IdentityPlan plan_identity(const std::optional<HostIdentity>& stored, const HostIdentity& current,
                           std::string_view boot_id);

struct IdentityCheck {
  bool reset = false;     // the state was reset (a new instance)
  std::string log_line;   // one line for the log; empty when nothing worth saying
  ResetReport report;
  HostIdentity identity;  // plan_identity's identity (event_host for the HostContext)
};

// Loads the identity stored in state_dir, applies plan_identity, resets the instance state for a new
// instance and writes the identity (atomically) only when it changed.
IdentityCheck check_instance_identity(const std::string& state_dir, const std::string& spool_dir,
                                      const HostIdentity& current, std::string_view boot_id = {});

// A lock held by the running daemon: <state_dir>/trailwatch.pid with flock. Returns the fd (kept
// open for the life of the process) or an error when another process holds it.
common::Result<int> acquire_daemon_lock(const std::string& state_dir);
// True when some process holds the daemon lock in state_dir (a missing file: false).
bool daemon_lock_held(const std::string& state_dir);

}  // namespace agent
