// AuditTailer: follows auditd's log files from a checkpoint and hands out complete lines,
// surviving every kind of rotation (docs/audit-rotation.md has the matrix and the tests).
//
//   agent::AuditTailer tailer(io, scheduler, clock, options, store,
//                             [&](const agent::TailedLine& line) { assembler.add_line(line.bytes, ...); });
//   tailer.start();
//   ...the pipeline, once an event is delivered or spooled:
//   store.set(key, path, event.source.end);
//
// Watching: inotify on each followed file's DIRECTORY (so a file created after a rename is seen),
// read through a non-blocking posix::stream_descriptor; plus a poll timer (poll_interval) that
// re-checks everything, which is all there is when inotify is off or fails (NFS, watch limits).
// Reading: pread in 64 KiB chunks into a reused buffer; a line is handed out only once its '\n'
// is there. A line longer than max_line_bytes is cut at the cap, flagged truncated, and handed
// out when its newline arrives (its end offset is after the newline; the bytes in between are
// counted as skipped).
// Rotation: each followed path P is a chain of files: rotated-away ones still being read (by
// their open fd, to EOF, oldest first) and the current one at P. A new inode at P, or a copy or
// truncation of the same inode, or a sibling P.1, P.2... holding the checkpointed file on start,
// are all handled there.
// copytruncate: when the file at P was truncated or rewritten in place (same inode, size < offset
// or other first bytes), or on start P no longer holds the checkpointed content, the siblings
// P.1..P.N are searched for a plain copy with the same fingerprint at least as long as our offset.
// That copy joins the chain as an older file and is read from our offset to its end first, with
// its OWN FileKey (its device + inode, the fingerprint it shares with the original) and offsets
// that equal the original's (the copy is byte-identical up to the truncate). So the pipeline
// checkpoints the copy like any rotated file, and a restart in the middle resumes inside it, found
// by inode + fingerprint wherever it has moved to (P.1, P.2...). No copy: P from 0, a warning and
// stats().truncation_losses; when P kept its first bytes (truncated in place, maybe inside a line),
// the line still open where the bytes written after the truncation begin is the rest of a cut line:
// dropped there and counted (stats().torn_lines), so the first new line is read whole. The last
// bytes read (4 KiB) are compared on every look, which also catches a truncation written up to or
// past our offset again before we looked.
// Checkpoints: the tailer READS the CheckpointStore on start (each file resumes exactly at its
// checkpointed offset) and erases entries of files that no longer exist; it never advances
// offsets: the pipeline calls store.set(line.key, line.path, end) once the data is delivered or
// durably queued. On its poll tick the tailer calls store.commit() (rate-limited by the store),
// so offsets set by the pipeline reach the disk even when deliveries stop.
// Single-threaded: everything runs on the io_context's thread. The callback may call stop(),
// but must not destroy the tailer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "agent/pipeline/checkpoint_store.h"
#include "agent/sources/file_identity.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/log/log.h"

namespace agent {

struct TailedLine {
  FileKey key;              // the file the line came from (stable across renames)
  std::string_view path;    // the followed path (as configured/globbed), also for rotated-away files and copies
  std::string_view bytes;   // the line without its '\n'; valid only during the callback
  uint64_t begin = 0;       // offset of the line's first byte in the file
  uint64_t end = 0;         // offset after its '\n' (what to checkpoint once it is delivered)
  bool truncated = false;   // cut at max_line_bytes; the rest up to the newline was skipped
};

using TailedLineCallback = std::function<void(const TailedLine&)>;

struct AuditTailerOptions {
  std::vector<std::string> files{"/var/log/audit/audit.log"};  // paths or globs of ACTIVE files
  std::chrono::milliseconds poll_interval{1000};
  std::size_t max_line_bytes = 64 * 1024;
  bool use_inotify = true;
  std::size_t chunk_bytes = 64 * 1024;   // one pread
  std::size_t max_chunks_per_turn = 16;  // per file per turn of the loop, then yield and continue
  std::size_t max_rotated_siblings = 16; // P.1 .. P.N looked at for rotated files and copies
  // A copy with the right fingerprint but shorter than our offset may still be being written:
  // P is held (not read) and the copy looked for again until this many poll ticks have passed,
  // then P is read from 0 and the loss counted.
  uint64_t copy_wait_polls = 3;
  // Test seam: opens a file read-only (default ::open with O_RDONLY|O_CLOEXEC); returns fd or -1 + errno.
  std::function<int(const std::string& path)> open_file;
};

struct AuditTailerStats {
  uint64_t lines = 0;            // lines handed out
  uint64_t bytes = 0;            // bytes consumed from files (lines, newlines, skipped bytes)
  uint64_t truncated_lines = 0;  // lines cut at max_line_bytes
  uint64_t skipped_bytes = 0;    // bytes of over-long lines that were dropped
  uint64_t rotations = 0;        // a new file took over a followed path (rename/create, delete/create)
  uint64_t truncations = 0;      // the same inode shrank or was rewritten (copytruncate, truncate)
  uint64_t copies_read = 0;      // ...and the unread rest was found in a plain copy P.N and read from it
  uint64_t truncation_losses = 0;  // ...and no copy held it: lines written after our offset, if any, are lost
  uint64_t torn_lines = 0;       // ...and the file was cut inside a line: its rest left in the file, dropped
  uint64_t torn_bytes = 0;       //    (bytes of those rests; the line was read whole before the truncation)
  uint64_t files_opened = 0;
  uint64_t read_errors = 0;      // open/stat/read failures (permission denied included)
  uint64_t inotify_events = 0;
  uint64_t polls = 0;
  bool inotify_active = false;
};

class AuditTailer {
 public:
  AuditTailer(boost::asio::io_context& io, common::Scheduler& scheduler, const common::Clock& clock,
              AuditTailerOptions options, CheckpointStore& checkpoints, TailedLineCallback on_line);
  ~AuditTailer();
  AuditTailer(const AuditTailer&) = delete;
  AuditTailer& operator=(const AuditTailer&) = delete;

  // Resolves the files, opens and positions each from the checkpoints, and starts watching; lines
  // flow from the next turn of the loop on (never from inside start()). Never fails:
  // missing/unreadable files are logged and retried.
  void start();
  // Stops watching and reading; closes every file. start() again resumes from the checkpoints.
  void stop();
  bool running() const noexcept { return running_; }

  const AuditTailerStats& stats() const noexcept { return stats_; }
  // The followed paths (globs expanded as of the last poll).
  std::vector<std::string> followed_paths() const;

 private:
  struct Reader;
  struct Followed;

  void poll_tick();
  void resolve_patterns();
  Followed& follow(const std::string& path);
  void resync(Followed& f);
  void initialize(Followed& f, const FileStat& at_path);
  void rotate(Followed& f, const FileStat& at_path);
  void check_current(Followed& f);
  uint64_t find_seam(Reader& r, uint64_t size);
  void cut_at_seam(Reader& r);
  enum class CopyMatch { kNo, kShort, kYes };
  // Is `r` (a sibling, opened) a copy of the file with fingerprint `fp` holding at least `min_size` bytes?
  CopyMatch copy_matches(Reader& r, const FileFingerprint& fp, uint64_t min_size);
  // True while a short copy may still grow: the caller holds off. Arms the wait on first use.
  bool wait_for_copy(Followed& f);
  std::vector<std::pair<std::string, FileStat>> scan_siblings(const std::string& path) const;
  std::unique_ptr<Reader> open_reader(const std::string& path);
  // Reads what is available; returns false when the budget ran out (more to read).
  bool pump_file(Followed& f, Reader& r, std::size_t& budget);
  bool pump_followed(Followed& f);
  void pump_all();
  void schedule_pump();
  void emit(Followed& f, Reader& r, std::string_view bytes, uint64_t begin, uint64_t end, bool truncated);
  void prune_checkpoints(Followed& f);

  void start_inotify();
  void stop_inotify();
  void watch_directory(const std::string& dir);
  void arm_inotify();
  void on_inotify_readable();

  void log_error(std::string_view kind, const std::string& path, const common::Error& error);

  boost::asio::io_context& io_;
  common::Scheduler& scheduler_;
  const common::Clock& clock_;
  AuditTailerOptions options_;
  CheckpointStore& checkpoints_;
  TailedLineCallback on_line_;

  bool running_ = false;
  bool dispatching_ = false;  // inside pump_all(): stop() leaves the files for it to close
  std::vector<std::unique_ptr<Followed>> followed_;
  std::vector<char> chunk_;
  common::PeriodicTimer poll_timer_;
  common::TimerId pump_timer_ = 0;
  common::log::RateLimiter error_limiter_;

  int inotify_fd_ = -1;
  std::unique_ptr<boost::asio::posix::stream_descriptor> inotify_;
  std::unordered_map<int, std::string> watches_;  // wd -> directory
  std::vector<char> inotify_buffer_;
  std::shared_ptr<bool> alive_;  // handlers hold a weak_ptr: a handler after destruction returns

  AuditTailerStats stats_;
};

}  // namespace agent
