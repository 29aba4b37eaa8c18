// Instance-specific state: what must not carry over from one EC2 instance to another launched from
// the same image (checkpoints, spools, alarm states, the stored host identity). One function removes
// it; `trailwatch prepare-image` and the new-instance check at start both call it.
#pragma once

#include <optional>
#include <string>
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
};

// /etc/machine-id (or another path): 32 hex digits, else empty.
std::string read_machine_id(const std::string& path);

std::optional<HostIdentity> load_identity(const std::string& state_dir);
common::Status store_identity(const std::string& state_dir, const HostIdentity& id);

struct IdentityCheck {
  bool reset = false;     // the state was reset (a new instance)
  std::string log_line;   // one line for the log; empty when nothing worth saying
  ResetReport report;
};

// Compares `current` with the identity stored in state_dir. A changed instance id (or, with no
// instance id on either side, a changed machine id) is a new instance: the state is reset and the
// new identity stored. An unknown instance id this time (IMDS silent) is not a new instance: the
// stored identity is kept.
IdentityCheck check_instance_identity(const std::string& state_dir, const std::string& spool_dir,
                                      const HostIdentity& current);

// A lock held by the running daemon: <state_dir>/trailwatch.pid with flock. Returns the fd (kept
// open for the life of the process) or an error when another process holds it.
common::Result<int> acquire_daemon_lock(const std::string& state_dir);
// True when some process holds the daemon lock in state_dir (a missing file: false).
bool daemon_lock_held(const std::string& state_dir);

}  // namespace agent
