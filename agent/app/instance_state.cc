#include "agent/app/instance_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/app/alarm_runner.h"
#include "agent/sinks/cloudwatch_metric_output.h"
#include "common/fs/atomic_file.h"

namespace agent {
namespace {

namespace fs = std::filesystem;

void remove_one(const fs::path& p, ResetReport& report) {
  std::error_code ec;
  const bool exists = fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec;
  if (!exists) return;
  fs::remove_all(p, ec);
  if (ec) {
    report.errors.push_back(fmt::format("{}: {}", p.string(), ec.message()));
  } else {
    report.removed.push_back(p.string());
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ResetReport reset_instance_state(const std::string& state_dir, const std::string& spool_dir) {
  ResetReport report;
  const fs::path dir(state_dir);
  const std::string files[] = {"checkpoints.json",
                               std::string(kMetricsSpoolFile),
                               std::string(kAlarmStateFile),
                               std::string(kNotificationQueueFile),
                               kIdentityFile};
  for (const auto& f : files) {
    remove_one(dir / f, report);
    remove_one(dir / common::atomic_temp_path(f), report);
  }
  std::error_code ec;
  if (!spool_dir.empty() && fs::is_directory(spool_dir, ec)) {
    for (auto it = fs::directory_iterator(spool_dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      remove_one(it->path(), report);
    }
  }
  return report;
}

std::string read_machine_id(const std::string& path) {
  std::string s = read_text(path);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (s.size() != 32 || !std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
    return {};
  }
  return s;
}

std::optional<HostIdentity> load_identity(const std::string& state_dir) {
  const std::string text = read_text((fs::path(state_dir) / kIdentityFile).string());
  if (text.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  HostIdentity id;
  auto get = [&j](const char* key, std::string& out) {
    if (j.contains(key) && j[key].is_string()) out = j[key].get<std::string>();
  };
  get("instance_id", id.instance_id);
  get("machine_id", id.machine_id);
  get("event_host", id.event_host);
  return id;
}

common::Status store_identity(const std::string& state_dir, const HostIdentity& id) {
  nlohmann::json j = {{"instance_id", id.instance_id}, {"machine_id", id.machine_id}, {"event_host", id.event_host}};
  return common::write_file_atomically((fs::path(state_dir) / kIdentityFile).string(), j.dump() + "\n", 0640);
}

namespace {

std::string derive_event_host(const HostIdentity& id, std::string_view boot_id) {
  if (!id.instance_id.empty()) return id.instance_id;
  if (!id.machine_id.empty()) return id.machine_id;
  return std::string(boot_id);
}

}  // namespace

IdentityPlan plan_identity(const std::optional<HostIdentity>& stored, const HostIdentity& current,
                           std::string_view boot_id) {
  IdentityPlan plan;
  auto fresh = [&] {
    plan.identity = current;
    plan.identity.event_host = derive_event_host(current, boot_id);
    plan.store = !plan.identity.event_host.empty() && plan.identity != stored;
    return plan;
  };
  if (!stored) return fresh();
  if (!current.instance_id.empty() && !stored->instance_id.empty()) {
    plan.new_instance = current.instance_id != stored->instance_id;
    plan.what = fmt::format("instance id {} -> {}", stored->instance_id, current.instance_id);
  } else if (stored->instance_id.empty() && !current.machine_id.empty() && !stored->machine_id.empty()) {
    plan.new_instance = current.machine_id != stored->machine_id;
    plan.what = fmt::format("machine id {} -> {}", stored->machine_id, current.machine_id);
  }
  if (plan.new_instance) return fresh();
  plan.what.clear();
  // Same instance: keep the stored ids, fill in what was unknown.
  plan.identity = *stored;
  if (plan.identity.instance_id.empty()) plan.identity.instance_id = current.instance_id;
  if (plan.identity.machine_id.empty()) plan.identity.machine_id = current.machine_id;
  if (plan.identity.event_host.empty()) plan.identity.event_host = derive_event_host(plan.identity, boot_id);
  plan.store = plan.identity != *stored;
  return plan;
}

IdentityCheck check_instance_identity(const std::string& state_dir, const std::string& spool_dir,
                                      const HostIdentity& current, std::string_view boot_id) {
  IdentityCheck out;
  const auto stored = load_identity(state_dir);
  const IdentityPlan plan = plan_identity(stored, current, boot_id);
  out.identity = plan.identity;
  auto show = [](const std::string& s) { return s.empty() ? std::string("unknown") : s; };
  if (plan.new_instance) {
    out.reset = true;
    out.report = reset_instance_state(state_dir, spool_dir);
    out.log_line = fmt::format("new instance ({}, machine id {} -> {}): reset instance state, removed {} file(s){}",
                               plan.what, show(stored->machine_id), show(current.machine_id), out.report.removed.size(),
                               out.report.errors.empty() ? "" : fmt::format(", {} could not be removed: {}",
                                                                            out.report.errors.size(),
                                                                            out.report.errors.front()));
  } else if (stored && current.instance_id.empty() && !stored->instance_id.empty()) {
    out.log_line = fmt::format(
        "identity: the instance metadata service did not answer; not treating this as a new instance "
        "(keeping stored instance id {})",
        stored->instance_id);
  }
  if (plan.store) {
    if (auto st = store_identity(state_dir, plan.identity); !st.ok()) {
      out.log_line += (out.log_line.empty() ? "" : "; ") +
                      fmt::format("identity: not stored ({}); event ids use {} for this run", st.error().to_string(),
                                  plan.identity.event_host);
    }
  }
  return out;
}

common::Result<int> acquire_daemon_lock(const std::string& state_dir) {
  const std::string path = (fs::path(state_dir) / kPidFile).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return common::Error(common::ErrorCode::kIo, fmt::format("{}: {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return common::Error(common::ErrorCode::kIo, fmt::format("{}: another trailwatch holds it", path));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return fd;
}

bool daemon_lock_held(const std::string& state_dir) {
  const std::string path = (fs::path(state_dir) / kPidFile).string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace agent
