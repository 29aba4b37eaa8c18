#include "agent/pipeline/checkpoint_store.h"

#include "common/fs/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace agent {
namespace {

constexpr int kFormatVersion = 1;

common::Error sys_error(int err, std::string_view what, std::string_view path) {
  const common::ErrorCode code = (err == ENOENT || err == ENOTDIR) ? common::ErrorCode::kNotFound
                                 : (err == EACCES || err == EPERM) ? common::ErrorCode::kPermissionDenied
                                                                   : common::ErrorCode::kIo;
  return common::Error(code, fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

common::Result<std::string> read_whole(const std::string& path) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return sys_error(errno, "open", path);
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return sys_error(err, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::vector<CheckpointEntry> sorted(std::vector<CheckpointEntry> v) {
  std::sort(v.begin(), v.end(), [](const CheckpointEntry& a, const CheckpointEntry& b) {
    return std::tie(a.path, a.key.device, a.key.inode, a.key.fingerprint.length, a.key.fingerprint.hash) <
           std::tie(b.path, b.key.device, b.key.inode, b.key.fingerprint.length, b.key.fingerprint.hash);
  });
  return v;
}

// A non-negative integer (nlohmann would quietly wrap -5 into a huge unsigned value).
uint64_t get_u64(const nlohmann::json& j) {
  if (!j.is_number_unsigned()) throw std::runtime_error("expected a non-negative integer, got " + j.dump());
  return j.get<uint64_t>();
}

// Throws nlohmann::json exceptions on a wrong shape; the caller catches.
std::vector<CheckpointEntry> parse_entries(const std::string& text) {
  const nlohmann::json doc = nlohmann::json::parse(text);
  if (!doc.is_object() || doc.at("version").get<int>() != kFormatVersion) {
    throw std::runtime_error("unsupported checkpoint format version");
  }
  std::vector<CheckpointEntry> out;
  for (const nlohmann::json& f : doc.at("files")) {
    CheckpointEntry e;
    e.path = f.at("path").get<std::string>();
    e.key.device = get_u64(f.at("device"));
    e.key.inode = get_u64(f.at("inode"));
    const nlohmann::json& fp = f.at("fingerprint");
    const uint64_t length = get_u64(fp.at("length"));
    if (length > kFingerprintBytes) throw std::runtime_error("fingerprint length out of range");
    e.key.fingerprint.length = static_cast<uint32_t>(length);
    const std::string hash = fp.at("fnv1a64").get<std::string>();
    std::size_t used = 0;
    e.key.fingerprint.hash = std::stoull(hash, &used, 16);
    if (used != hash.size() || hash.empty()) throw std::runtime_error("fingerprint hash is not hex");
    e.offset = get_u64(f.at("offset"));
    if (auto it = f.find("sinks"); it != f.end()) {  // absent before per-sink progress: all resume at offset
      for (const auto& [name, off] : it->items()) e.sinks.emplace_back(name, get_u64(off));
      std::sort(e.sinks.begin(), e.sinks.end());
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

CheckpointStore::CheckpointStore(std::string state_dir, const common::Clock& clock, CheckpointStoreOptions options)
    : state_dir_(std::move(state_dir)), clock_(clock), options_(std::move(options)) {
  file_path_ = state_dir_;
  if (!file_path_.empty() && file_path_.back() != '/') file_path_ += '/';
  file_path_ += options_.file_name;
}

common::Result<CheckpointLoad> CheckpointStore::load() {
  entries_.clear();
  dirty_ = false;
  // A temp file is what a crash during commit() leaves; the real file is still the last good one.
  if (::unlink(temp_path().c_str()) == 0) {
    spdlog::info("checkpoints: removed {} left by an interrupted write", temp_path());
  }
  auto text = read_whole(file_path_);
  if (!text.ok()) {
    if (text.error().code() == common::ErrorCode::kNotFound) {
      spdlog::warn("checkpoints: no {} yet; audit files are read from the beginning of the current files",
                   file_path_);
      return CheckpointLoad::kMissing;
    }
    return std::move(text).error().wrap("loading checkpoints");
  }
  try {
    for (CheckpointEntry& e : parse_entries(*text)) {
      const FileKey key = e.key;
      entries_[key] = std::move(e);
    }
  } catch (const std::exception& ex) {
    entries_.clear();
    const std::string aside = file_path_ + ".corrupt";
    const bool moved = ::rename(file_path_.c_str(), aside.c_str()) == 0;
    spdlog::warn("checkpoints: {} is corrupt ({}); {}; audit files are read from the beginning of the current files",
                 file_path_, ex.what(), moved ? "kept as " + aside : std::string("left in place"));
    return CheckpointLoad::kCorrupt;
  }
  return CheckpointLoad::kLoaded;
}

void CheckpointStore::set(const FileKey& key, std::string_view path, uint64_t offset) {
  auto [it, inserted] = entries_.try_emplace(key);
  CheckpointEntry& e = it->second;
  if (!inserted && e.offset == offset && e.path == path) return;
  e.key = key;
  e.path.assign(path);
  e.offset = offset;
  dirty_ = true;
}

void CheckpointStore::set(const FileKey& key, std::string_view path, uint64_t offset,
                          std::vector<std::pair<std::string, uint64_t>> sinks) {
  std::sort(sinks.begin(), sinks.end());
  auto [it, inserted] = entries_.try_emplace(key);
  CheckpointEntry& e = it->second;
  if (!inserted && e.offset == offset && e.path == path && e.sinks == sinks) return;
  e.key = key;
  e.path.assign(path);
  e.offset = offset;
  e.sinks = std::move(sinks);
  dirty_ = true;
}

bool CheckpointStore::erase(const FileKey& key) {
  if (entries_.erase(key) == 0) return false;
  dirty_ = true;
  return true;
}

std::optional<CheckpointEntry> CheckpointStore::find(const FileKey& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

std::vector<CheckpointEntry> CheckpointStore::entries_for(std::string_view path) const {
  std::vector<CheckpointEntry> out;
  for (const auto& [key, e] : entries_) {
    if (e.path == path) out.push_back(e);
  }
  return sorted(std::move(out));
}

std::vector<CheckpointEntry> CheckpointStore::entries() const {
  std::vector<CheckpointEntry> out;
  out.reserve(entries_.size());
  for (const auto& [key, e] : entries_) out.push_back(e);
  return sorted(std::move(out));
}

std::string CheckpointStore::serialize() const {
  nlohmann::json files = nlohmann::json::array();
  for (const CheckpointEntry& e : entries()) {
    files.push_back({{"path", e.path},
                     {"device", e.key.device},
                     {"inode", e.key.inode},
                     {"fingerprint",
                      {{"length", e.key.fingerprint.length},
                       {"fnv1a64", fmt::format("{:016x}", e.key.fingerprint.hash)}}},
                     {"offset", e.offset}});
    if (!e.sinks.empty()) {
      nlohmann::json sinks = nlohmann::json::object();
      for (const auto& [name, off] : e.sinks) sinks[name] = off;
      files.back()["sinks"] = std::move(sinks);
    }
  }
  nlohmann::json doc = {{"version", kFormatVersion}, {"files", std::move(files)}};
  return doc.dump(2) + "\n";
}

common::Status CheckpointStore::commit(bool force) {
  if (!dirty_) return {};
  const common::SteadyTime now = clock_.steady_now();
  if (!force && last_write_ && now - *last_write_ < options_.min_commit_interval) {
    ++stats_.deferred_commits;
    return {};
  }
  const std::string text = serialize();
  auto fail = [&](common::Error error) -> common::Status {
    ++stats_.failed_commits;
    return error.wrap("committing checkpoints to " + file_path_);
  };

  if (auto st = common::write_file_atomically(file_path_, text, 0600); !st.ok()) return fail(std::move(st).error());

  dirty_ = false;
  last_write_ = now;
  ++stats_.commits;
  return {};
}

}  // namespace agent
