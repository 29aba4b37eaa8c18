// CheckpointStore: how far each tailed file has been delivered, persisted across restarts.
//
//   agent::CheckpointStore store(config.state_dir, clock);
//   auto loaded = store.load();                 // missing/corrupt file: warning, empty store
//   ...tailer starts each file at store.find(key)->offset...
//   store.set(line.key, line.path, event.source.end);   // the PIPELINE, after delivery/spooling
//   (void)store.commit();                       // written at most every min_commit_interval
//   (void)store.commit(/*force=*/true);         // at shutdown
//
// Entries are keyed by FileKey (device + inode + fingerprint) and remember the followed path,
// so that on start the tailer can find where a checkpointed file went (audit.log -> audit.log.1).
// The tailer never advances offsets; it only reads entries and erases those of files that are
// gone. Persisted as JSON in <state_dir>/checkpoints.json, replaced atomically: a temp file in the
// same directory is written, fsynced and renamed over the old one, then the directory is fsynced.
// A crash mid-write leaves the temp file behind; load() ignores (and removes) it.
// Single-threaded: call from the event loop.
#pragma once

#include "common/fs/atomic_file.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/sources/file_identity.h"
#include "common/clock/clock.h"
#include "common/result/result.h"

namespace agent {

struct CheckpointEntry {
  FileKey key;
  std::string path;  // the followed path (e.g. /var/log/audit/audit.log), even once renamed
  uint64_t offset = 0;  // where reading resumes: the lowest of the sinks' offsets
  // Per sink (by its stable name, TrailOutput::describe()): every event that begins below it was
  // delivered by that sink, so after a restart the sink skips them while a slower sink catches up.
  // Absent for a sink: it resumes at `offset`. Sorted by name.
  std::vector<std::pair<std::string, uint64_t>> sinks;

  friend bool operator==(const CheckpointEntry&, const CheckpointEntry&) = default;
};

struct CheckpointStoreOptions {
  std::string file_name = "checkpoints.json";
  std::chrono::milliseconds min_commit_interval{1000};  // unforced commits are at most this often
};

enum class CheckpointLoad : uint8_t {
  kLoaded,   // the file was read
  kMissing,  // no file: first start (files are read from the beginning)
  kCorrupt,  // unreadable JSON or wrong shape: renamed to <file>.corrupt, files read from the beginning
};

struct CheckpointStoreStats {
  uint64_t commits = 0;         // files written
  uint64_t failed_commits = 0;  // write/fsync/rename errors
  uint64_t deferred_commits = 0;  // commit() calls held back by min_commit_interval
};

class CheckpointStore {
 public:
  CheckpointStore(std::string state_dir, const common::Clock& clock, CheckpointStoreOptions options = {});

  // Replaces the in-memory entries with the file's. Missing or corrupt: a warning, an empty store and
  // kMissing/kCorrupt (not an error). Errors only for I/O failures other than "not found".
  [[nodiscard]] common::Result<CheckpointLoad> load();

  // In memory only; marks the store dirty when something changed. The first form keeps the entry's
  // per-sink offsets; the second replaces them.
  void set(const FileKey& key, std::string_view path, uint64_t offset);
  void set(const FileKey& key, std::string_view path, uint64_t offset,
           std::vector<std::pair<std::string, uint64_t>> sinks);
  bool erase(const FileKey& key);
  std::optional<CheckpointEntry> find(const FileKey& key) const;
  // Entries whose followed path is `path`.
  std::vector<CheckpointEntry> entries_for(std::string_view path) const;
  std::vector<CheckpointEntry> entries() const;

  // Writes the file if something changed since the last write, and (unless forced) if
  // min_commit_interval passed since the last write; otherwise a no-op that keeps the store dirty.
  [[nodiscard]] common::Status commit(bool force = false);

  bool dirty() const noexcept { return dirty_; }
  const std::string& file_path() const noexcept { return file_path_; }
  std::string temp_path() const { return common::atomic_temp_path(file_path_); }
  const CheckpointStoreStats& stats() const noexcept { return stats_; }

  // The JSON text of the current entries (what commit() writes); for tests and `status`.
  std::string serialize() const;

 private:
  std::string state_dir_;
  std::string file_path_;
  const common::Clock& clock_;
  CheckpointStoreOptions options_;
  std::unordered_map<FileKey, CheckpointEntry, FileKeyHash> entries_;
  bool dirty_ = false;
  std::optional<common::SteadyTime> last_write_;
  CheckpointStoreStats stats_;
};

}  // namespace agent
