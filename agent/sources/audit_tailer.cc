#include "agent/sources/audit_tailer.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/error.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace agent {
namespace {

constexpr uint32_t kDirWatchMask = IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_ATTRIB |
                                   IN_DELETE_SELF | IN_MOVE_SELF | IN_CLOSE_WRITE;

// The last bytes read from a file, kept to tell whether the file still holds them (see check_current).
constexpr std::size_t kTailBytes = 4096;

// pread until `want` bytes or EOF; the bytes read, or nullopt on an error.
std::optional<std::string> pread_exact(int fd, uint64_t offset, std::size_t want) {
  std::string out(want, '\0');
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n = ::pread(fd, out.data() + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

bool has_glob_chars(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// "x.log.3" -> "x.log" when the suffix is all digits; otherwise "".
std::string rotated_stem(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || dot + 1 == path.size()) return {};
  for (std::size_t i = dot + 1; i < path.size(); ++i) {
    if (path[i] < '0' || path[i] > '9') return {};
  }
  return path.substr(0, dot);
}

}  // namespace

struct AuditTailer::Reader {
  int fd = -1;
  std::string opened_path;  // the name it had when opened (for logs)
  FileKey key;              // device + inode set at open; fingerprint once the first line is out
  bool fingerprinted = false;
  uint64_t read_offset = 0;  // next byte to pread
  std::string pending;       // bytes of the line not yet complete (at most max_line_bytes)
  uint64_t line_begin = 0;   // file offset of the first byte of that line
  bool skipping = false;     // over-long line: pending holds the cap, the rest is dropped up to '\n'
  std::string tail;          // the last bytes (up to kTailBytes) before read_offset, as read
  // After an in-place truncation: the offset where the bytes written after it begin. A line that
  // is still open there is the rest of a line cut by the truncation; it is dropped there (counted)
  // and a new line starts, so the first appended line is not glued to it.
  std::optional<uint64_t> seam;

  Reader() = default;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader() {
    if (fd >= 0) ::close(fd);
  }
  bool same_inode(const FileStat& st) const noexcept { return key.device == st.device && key.inode == st.inode; }
  void restart_at(uint64_t offset) {
    read_offset = offset;
    line_begin = offset;
    pending.clear();
    skipping = false;
    tail.clear();
    seam.reset();
  }
  void remember(std::string_view data) {
    if (data.size() >= kTailBytes) {
      tail.assign(data.substr(data.size() - kTailBytes));
      return;
    }
    const std::size_t keep = std::min(tail.size(), kTailBytes - data.size());
    tail.erase(0, tail.size() - keep);
    tail.append(data);
  }
};

struct AuditTailer::Followed {
  std::string path;
  std::deque<std::unique_ptr<Reader>> rotated;  // renamed/deleted files, oldest first, read to EOF
  std::unique_ptr<Reader> current;              // the file at `path`
  bool initialized = false;                     // positioned from the checkpoints once
  bool waiting_logged = false;
  // When `path` was missing at our first look: the rotated siblings that existed then. Siblings not
  // in it appeared while we waited (written and rotated away before we saw `path`) and are read too.
  std::optional<std::vector<FileStat>> siblings_while_missing;
  // copytruncate: the file was truncated, a sibling starts with its bytes but is shorter than our
  // offset (still being copied?). `current` is not read (its offset is meaningless now) until the copy
  // is complete or stats_.polls reaches copy_wait_until.
  bool holding = false;
  std::optional<uint64_t> copy_wait_until;

  bool is_open(const FileStat& st) const {
    if (current && current->same_inode(st)) return true;
    return std::any_of(rotated.begin(), rotated.end(), [&](const auto& r) { return r->same_inode(st); });
  }
};

AuditTailer::AuditTailer(boost::asio::io_context& io, common::Scheduler& scheduler, const common::Clock& clock,
                         AuditTailerOptions options, CheckpointStore& checkpoints, TailedLineCallback on_line)
    : io_(io),
      scheduler_(scheduler),
      clock_(clock),
      options_(std::move(options)),
      checkpoints_(checkpoints),
      on_line_(std::move(on_line)),
      poll_timer_(scheduler_, [this] { return clock_.steady_now(); }),
      error_limiter_(clock_, std::chrono::seconds(60), 1),
      alive_(std::make_shared<bool>(true)) {
  if (options_.chunk_bytes == 0) options_.chunk_bytes = 64 * 1024;
  if (options_.max_line_bytes == 0) options_.max_line_bytes = 1;
  if (options_.max_chunks_per_turn == 0) options_.max_chunks_per_turn = 1;
  chunk_.resize(options_.chunk_bytes);
}

AuditTailer::~AuditTailer() {
  stop();
  *alive_ = false;
}

void AuditTailer::start() {
  if (running_) return;
  running_ = true;
  if (options_.use_inotify) start_inotify();
  poll_timer_.start(options_.poll_interval, [this] { poll_tick(); }, options_.poll_interval);
  resolve_patterns();
  for (auto& f : followed_) resync(*f);
  schedule_pump();  // lines flow from the loop, never from inside start()
}

void AuditTailer::stop() {
  if (!running_) return;
  running_ = false;
  poll_timer_.stop();
  if (pump_timer_ != 0) scheduler_.cancel(pump_timer_);
  pump_timer_ = 0;
  stop_inotify();
  if (!dispatching_) followed_.clear();  // else pump_all() clears them once the callback returns
}

std::vector<std::string> AuditTailer::followed_paths() const {
  std::vector<std::string> out;
  for (const auto& f : followed_) out.push_back(f->path);
  return out;
}

// ---- discovery -------------------------------------------------------------------------------

void AuditTailer::resolve_patterns() {
  for (const std::string& pattern : options_.files) {
    if (!has_glob_chars(pattern)) {
      follow(pattern);
      if (inotify_) watch_directory(dir_of(pattern));
      continue;
    }
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_NOSORT | GLOB_ERR, nullptr, &g);
    std::vector<std::string> matches;
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) matches.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    std::sort(matches.begin(), matches.end());
    for (const std::string& m : matches) {
      // audit.log* would also match the rotated audit.log.1...: those are read as part of audit.log's chain.
      const std::string stem = rotated_stem(m);
      if (!stem.empty() && std::binary_search(matches.begin(), matches.end(), stem)) continue;
      follow(m);
      if (inotify_) watch_directory(dir_of(m));
    }
  }
}

AuditTailer::Followed& AuditTailer::follow(const std::string& path) {
  for (auto& f : followed_) {
    if (f->path == path) return *f;
  }
  auto f = std::make_unique<Followed>();
  f->path = path;
  followed_.push_back(std::move(f));
  return *followed_.back();
}

std::unique_ptr<AuditTailer::Reader> AuditTailer::open_reader(const std::string& path) {
  int fd = -1;
  if (options_.open_file) {
    fd = options_.open_file(path);
  } else {
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
  }
  if (fd < 0) {
    const int err = errno;
    ++stats_.read_errors;
    log_error("open", path, errno_error(err, "open", path));
    return nullptr;
  }
  auto r = std::make_unique<Reader>();
  r->fd = fd;
  r->opened_path = path;
  auto st = stat_fd(fd);
  if (!st.ok()) {
    ++stats_.read_errors;
    log_error("fstat", path, st.error());
    return nullptr;
  }
  r->key.device = st->device;
  r->key.inode = st->inode;
  ++stats_.files_opened;
  return r;
}

// ---- positioning and rotation ------------------------------------------------------------------

// path.1 .. path.N that exist, newest first. Every index is tried (no stop at a gap: a writer may be
// in the middle of shifting .1 -> .2 -> ...), and a file seen twice (moved up during the scan) is kept
// once. Files only move to higher numbers, and the scan goes up too, so none is missed.
std::vector<std::pair<std::string, FileStat>> AuditTailer::scan_siblings(const std::string& path) const {
  std::vector<std::pair<std::string, FileStat>> out;
  for (std::size_t i = 1; i <= options_.max_rotated_siblings; ++i) {
    std::string p = fmt::format("{}.{}", path, i);
    auto st = stat_path(p);
    if (!st.ok()) continue;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const auto& s) {
      return s.second.device == st->device && s.second.inode == st->inode;
    });
    if (!seen) out.emplace_back(std::move(p), *st);
  }
  return out;
}

void AuditTailer::resync(Followed& f) {
  auto at_path = stat_path(f.path);
  if (!at_path.ok()) {
    if (at_path.error().code() != common::ErrorCode::kNotFound) {
      ++stats_.read_errors;
      log_error("stat", f.path, at_path.error());
    } else if (!f.current && !f.waiting_logged) {
      spdlog::info("audit tailer: {} does not exist (yet); waiting for it", f.path);
      f.waiting_logged = true;
    }
    if (!f.initialized && !f.siblings_while_missing) {
      std::vector<FileStat> existing;
      for (auto& [p, st] : scan_siblings(f.path)) existing.push_back(st);
      f.siblings_while_missing = std::move(existing);
    }
    // Deleted or renamed away and not recreated yet: keep reading the open file (case d).
    if (f.current) check_current(f);
    return;
  }
  f.waiting_logged = false;
  if (f.current && f.current->same_inode(*at_path)) {
    check_current(f);
    return;
  }
  if (!f.initialized) {
    initialize(f, *at_path);
  } else {
    rotate(f, *at_path);
  }
}

// First sight of a followed path: resume where the checkpoints say, which may be a rotated sibling,
// or a copy of the checkpointed file when P was truncated while we were stopped (copytruncate).
void AuditTailer::initialize(Followed& f, const FileStat& at_path) {
  struct Candidate {
    std::string path;
    FileStat st;
    std::unique_ptr<Reader> reader;  // opened when a checkpoint matched it (or it was looked at as a copy)
    std::optional<uint64_t> offset;  // the matching checkpoint's offset
    bool copy = false;               // matched by content: a copy of the file P held at the checkpoint
  };
  std::vector<Candidate> cands;  // [0] = path, then the existing path.N, newest first
  cands.push_back({f.path, at_path, nullptr, std::nullopt});
  for (auto& [p, st] : scan_siblings(f.path)) {
    if (st.device == at_path.device && st.inode == at_path.inode) continue;  // moved while we looked
    cands.push_back({std::move(p), st, nullptr, std::nullopt});
  }

  const std::vector<CheckpointEntry> entries = checkpoints_.entries_for(f.path);
  std::vector<bool> matched(entries.size(), false);
  // 1. By device + inode + fingerprint: the checkpointed file itself, wherever it was renamed to.
  for (std::size_t i = cands.size(); i-- > 0;) {
    Candidate& c = cands[i];
    for (std::size_t j = 0; j < entries.size(); ++j) {
      const CheckpointEntry& e = entries[j];
      if (e.key.device != c.st.device || e.key.inode != c.st.inode) continue;
      if (!c.reader) {
        c.reader = open_reader(c.path);
        if (!c.reader) return;  // logged; retried on the next poll
      }
      auto same = fingerprint_matches(c.reader->fd, e.key.fingerprint);
      if (!same.ok()) {
        ++stats_.read_errors;
        log_error("fingerprint", c.path, same.error());
        return;
      }
      if (!*same) continue;  // inode reused by another file (case g), or rewritten in place (copytruncate)
      if (i == 0 && e.offset > 0) {
        // P itself, shorter than its checkpoint: truncated, and rewritten with the same first bytes.
        // Treated like a rewrite (step 2 looks for the copy).
        auto st = stat_fd(c.reader->fd);
        if (st.ok() && st->size < e.offset) continue;
      }
      c.reader->key.fingerprint = e.key.fingerprint;
      c.reader->fingerprinted = e.key.fingerprint.length > 0;
      c.offset = e.offset;
      matched[j] = true;
      break;
    }
  }

  // 2. copytruncate while stopped: a checkpoint of P's inode that P no longer matches. The content it
  // describes is in a plain sibling that starts with its fingerprint and holds at least its offset.
  const bool p_matched = cands[0].offset.has_value();
  std::vector<std::size_t> recovered;       // candidates matched as copies
  std::vector<const CheckpointEntry*> lost;  // no copy found
  bool lost_short = false;                   // ...but one with the right first bytes was too short
  for (std::size_t j = 0; j < entries.size(); ++j) {
    const CheckpointEntry& e = entries[j];
    if (matched[j] || e.key.device != at_path.device || e.key.inode != at_path.inode) continue;
    if (e.key.fingerprint.length == 0) continue;
    // Already followed into a copy that was checkpointed at or past this offset (its own entry).
    const bool superseded = std::any_of(entries.begin(), entries.end(), [&](const CheckpointEntry& o) {
      return o.key.fingerprint == e.key.fingerprint && !o.key.same_inode(e.key) && o.offset >= e.offset;
    });
    if (superseded) continue;
    bool found = false;
    bool too_short = false;
    for (std::size_t i = 1; i < cands.size() && !found; ++i) {  // newest first: logrotate's copy is .1
      Candidate& c = cands[i];
      if (c.offset || !c.st.regular) continue;
      if (!c.reader) c.reader = open_reader(c.path);
      if (!c.reader) continue;  // logged; not a copy we can read
      const CopyMatch m = copy_matches(*c.reader, e.key.fingerprint, e.offset);
      if (m == CopyMatch::kShort) too_short = true;
      if (m != CopyMatch::kYes) continue;
      c.reader->key.fingerprint = e.key.fingerprint;
      c.reader->fingerprinted = true;
      c.offset = e.offset;
      c.copy = true;
      if (!p_matched) recovered.push_back(i);
      found = true;
    }
    // When P matches a newer entry of its own inode, we had already moved on from this content while
    // running (read its copy, or counted its loss then): an older entry left behind, not a new loss.
    if (!found && !p_matched) {
      lost.push_back(&e);
      lost_short = lost_short || too_short;
    }
  }
  if (!lost.empty() && lost_short && wait_for_copy(f)) {
    if (!f.holding) {
      spdlog::info("audit tailer: {} was truncated while stopped; a copy with its first bytes is still shorter than "
                   "the checkpoint (being written?): waiting up to {} polls",
                   f.path, options_.copy_wait_polls);
    }
    f.holding = true;  // nothing is open yet; initialize() runs again on the next look
    return;
  }

  std::optional<std::size_t> anchor;  // the OLDEST candidate a checkpoint matches (by inode or as a copy)
  for (std::size_t i = cands.size(); i-- > 0;) {
    if (cands[i].offset) {
      anchor = i;
      break;
    }
  }

  std::vector<std::size_t> order;  // candidate indexes to read, oldest first; the last is 0 (= path)
  if (anchor) {
    for (std::size_t i = *anchor + 1; i-- > 0;) order.push_back(i);
  } else {
    if (!entries.empty()) {
      spdlog::warn("audit tailer: the checkpointed file of {} is not {} or a rotated sibling any more "
                   "(deleted, rewritten or inode reused); reading {} from the beginning",
                   f.path, f.path, f.path);
    }
    if (f.siblings_while_missing) {
      const auto& before = *f.siblings_while_missing;
      for (std::size_t i = cands.size(); i-- > 1;) {
        const bool existed = std::any_of(before.begin(), before.end(), [&](const FileStat& st) {
          return st.device == cands[i].st.device && st.inode == cands[i].st.inode;
        });
        if (!existed) order.push_back(i);
      }
    }
    order.push_back(0);
  }
  std::vector<std::unique_ptr<Reader>> chain;  // oldest first
  for (const std::size_t i : order) {
    Candidate& c = cands[i];
    if (!c.reader) c.reader = open_reader(c.path);
    if (!c.reader) return;
    uint64_t offset = c.offset.value_or(0);
    if (offset > 0) {
      auto st = stat_fd(c.reader->fd);
      if (st.ok() && st->size < offset) {
        spdlog::warn("audit tailer: {} is shorter ({} bytes) than its checkpoint ({}); reading it from the beginning",
                     c.path, st->size, offset);
        ++stats_.truncations;
        offset = 0;
        c.reader->fingerprinted = false;
        c.reader->key.fingerprint = {};
      }
    }
    c.reader->restart_at(offset);
    if (i > 0 && c.copy) {
      spdlog::info("audit tailer: {} was truncated while stopped (copytruncate); its copy {} is read from the "
                   "checkpoint {} to its end first, then the newer files",
                   f.path, c.path, offset);
    } else if (i > 0 && c.offset) {
      spdlog::info("audit tailer: {} moved to {} while stopped; resuming it at {} before the newer files", f.path,
                   c.path, offset);
    } else if (i > 0) {
      spdlog::info("audit tailer: reading {} from the beginning (new since we started, before {})", c.path, f.path);
    }
    chain.push_back(std::move(c.reader));
  }
  stats_.truncations += recovered.size() + lost.size();
  stats_.copies_read += recovered.size();
  stats_.truncation_losses += lost.size();
  for (const CheckpointEntry* e : lost) {
    spdlog::warn("audit tailer: {} was truncated or rewritten while stopped (its checkpointed content, offset {}, "
                 "is not in {} any more) and no plain copy {}.1..{}.{} starts with its first bytes and holds that "
                 "offset{}: lines written after offset {} before the truncation, if any, are lost",
                 f.path, e->offset, f.path, f.path, f.path, options_.max_rotated_siblings,
                 lost_short ? " (one that does was still shorter after waiting)" : "", e->offset);
  }
  f.holding = false;
  f.copy_wait_until.reset();
  f.current = std::move(chain.back());
  chain.pop_back();
  for (auto& r : chain) f.rotated.push_back(std::move(r));
  f.initialized = true;
  prune_checkpoints(f);
}

// A different inode now sits at the followed path (rename + create, delete + create, several
// rotations between two looks). The old file is finished by its fd, then any sibling newer than
// it that we never opened, then the new file from 0.
void AuditTailer::rotate(Followed& f, const FileStat& at_path) {
  auto next = open_reader(f.path);
  if (!next) return;  // retried on the next poll; the old file keeps being read meanwhile
  if (!next->same_inode(at_path)) return;  // it changed again under us; the next look sorts it out
  if (f.holding && f.current) {
    // Waiting for the copy of the truncated file, and now it is renamed away too: decide now (a
    // last look for the copy, else the loss), so the old file is read from a meaningful offset.
    f.copy_wait_until = 0;
    check_current(f);
  }

  const auto siblings = scan_siblings(f.path);  // newest first
  std::size_t newest_open = 0;  // 1-based position of the newest sibling we already read; 0 = none
  for (std::size_t i = 0; i < siblings.size(); ++i) {
    if (f.is_open(siblings[i].second)) {
      newest_open = i + 1;
      break;
    }
  }
  std::vector<std::unique_ptr<Reader>> missed;  // rotated past us between two looks, oldest first
  for (std::size_t i = newest_open; i-- > 1;) {
    const auto& [p, st] = siblings[i - 1];
    if (f.is_open(st) || next->same_inode(st)) continue;  // the new file may have moved while we looked
    if (auto r = open_reader(p)) missed.push_back(std::move(r));
  }

  if (f.current) {
    spdlog::info("audit tailer: {} was rotated (new inode {}); finishing the old file (inode {}) first", f.path,
                 at_path.inode, f.current->key.inode);
    f.rotated.push_back(std::move(f.current));
    ++stats_.rotations;
  } else {
    spdlog::info("audit tailer: {} appeared (inode {}); reading it from the beginning", f.path, at_path.inode);
  }
  for (auto& r : missed) {
    spdlog::info("audit tailer: reading {} (rotated before we saw it) from the beginning", r->opened_path);
    ++stats_.rotations;
    f.rotated.push_back(std::move(r));
  }
  f.current = std::move(next);
  prune_checkpoints(f);
}

// Same inode at the path: did it shrink (copytruncate, truncate) or get rewritten in place? Then
// what we had not read yet may be in a copy (copytruncate): a plain sibling that starts with the
// file's fingerprint and holds at least our offset. It is read first, from our offset, as an older
// file of the chain with its own key (see the header); then this file from 0.
void AuditTailer::check_current(Followed& f) {
  Reader& r = *f.current;
  auto st = stat_fd(r.fd);
  if (!st.ok()) {
    ++stats_.read_errors;
    log_error("fstat", r.opened_path, st.error());
    return;
  }
  bool restart = st->size < r.read_offset;
  bool same_start = true;  // the first bytes are still ours (or were never fingerprinted)
  if (r.fingerprinted) {
    auto same = fingerprint_matches(r.fd, r.key.fingerprint);
    same_start = !same.ok() || *same;
    restart = restart || !same_start;
  }
  // Truncated in place and written again up to or past our offset before we looked: the size and
  // the first bytes say nothing, the bytes just before our offset do.
  if (!restart && !r.tail.empty()) {
    auto now = pread_exact(r.fd, r.read_offset - r.tail.size(), r.tail.size());
    restart = now && *now != r.tail;
  }
  if (!restart) return;
  if (!f.holding) ++stats_.truncations;  // once per truncation, not on every look while we wait

  const uint64_t offset = r.read_offset;
  std::vector<std::unique_ptr<Reader>> copies;  // the copy, then newer copies made between two looks
  bool short_copy = false;
  if (r.fingerprinted && r.key.fingerprint.length > 0) {
    const auto siblings = scan_siblings(f.path);  // newest first
    for (std::size_t i = 0; i < siblings.size() && copies.empty(); ++i) {
      if (!siblings[i].second.regular || f.is_open(siblings[i].second)) continue;
      auto c = open_reader(siblings[i].first);
      if (!c) continue;
      const CopyMatch m = copy_matches(*c, r.key.fingerprint, offset);
      if (m == CopyMatch::kShort) short_copy = true;
      if (m != CopyMatch::kYes) continue;
      copies.push_back(std::move(c));
      // Siblings newer than the copy hold later contents of this file, copied and truncated away
      // between two looks: read from 0 after it, oldest first (as rotate() does for renames).
      for (std::size_t j = i; j-- > 0;) {
        const auto& [p, sst] = siblings[j];
        if (!sst.regular || f.is_open(sst) || copies.front()->same_inode(sst)) continue;
        if (auto n = open_reader(p)) copies.push_back(std::move(n));
      }
    }
  }
  if (copies.empty() && short_copy && wait_for_copy(f)) {
    if (!f.holding) {
      spdlog::info("audit tailer: {} was truncated at offset {}; a copy with its first bytes is still shorter "
                   "than that (being written?): holding {} for up to {} polls",
                   f.path, offset, f.path, options_.copy_wait_polls);
    }
    f.holding = true;
    return;
  }
  f.holding = false;
  f.copy_wait_until.reset();
  if (!copies.empty()) {
    Reader& copy = *copies.front();
    // Byte-identical to the original up to the truncate: carry on where we were, partial line included.
    copy.key.fingerprint = r.key.fingerprint;
    copy.fingerprinted = true;
    copy.read_offset = r.read_offset;
    copy.line_begin = r.line_begin;
    copy.pending = std::move(r.pending);
    copy.skipping = r.skipping;
    copy.tail = std::move(r.tail);
    ++stats_.copies_read;
    spdlog::info("audit tailer: {} was truncated or rewritten in place (copytruncate); reading its copy {} "
                 "(inode {}) from offset {} to its end first, then {} from the beginning",
                 f.path, copy.opened_path, copy.key.inode, offset, f.path);
    for (std::size_t i = 1; i < copies.size(); ++i) {
      spdlog::info("audit tailer: reading {} (copied and truncated away before we saw it) from the beginning",
                   copies[i]->opened_path);
      ++stats_.rotations;
    }
    for (auto& c : copies) f.rotated.push_back(std::move(c));
  } else {
    ++stats_.truncation_losses;
    if (same_start && st->size > 0) r.seam = find_seam(r, st->size);
    spdlog::warn("audit tailer: {} was truncated or rewritten in place (size {}, our offset {}) and no plain copy "
                 "{}.1..{}.{} starts with its first bytes and holds that offset{}: lines written after offset {} "
                 "before the truncation, if any, are lost; reading {} from the beginning",
                 f.path, st->size, offset, f.path, f.path, options_.max_rotated_siblings,
                 short_copy ? " (one that does was still shorter after waiting)" : "", offset, f.path);
  }
  r.fingerprinted = false;
  r.key.fingerprint = {};
  const std::optional<uint64_t> seam = r.seam;
  r.restart_at(0);
  r.seam = seam;
}

// The file kept its first bytes but lost its end (truncate(2) in place, not a copytruncate): where do
// the bytes written after the truncation begin? Lines before that are ours again (read from 0, as
// the policy says: only the first and last bytes are known); the line open there was cut.
// - The file still holds the part of our last bytes that it is long enough for: nothing was written
//   yet; the seam is its size. This is the usual case (we look at every write).
// - Something was written before we looked: the seam is at or before the first byte that differs
//   from what we read. It is the last audit line start (type=, node=) between the line start before
//   that byte and that byte (appended lines may begin like the line they overwrite), else that byte.
// - Cut deeper than our last kTailBytes: the size (nothing known to be written yet).
uint64_t AuditTailer::find_seam(Reader& r, uint64_t size) {
  const uint64_t window = r.read_offset - r.tail.size();
  if (size <= window) return size;
  auto now = pread_exact(r.fd, window, static_cast<std::size_t>(std::min<uint64_t>(size, r.read_offset) - window));
  if (!now) return size;
  std::size_t diff = 0;
  while (diff < now->size() && (*now)[diff] == r.tail[diff]) ++diff;
  if (diff == now->size() && size < r.read_offset) return size;
  std::size_t line_start = 0;  // in the window: the start of the line that holds the first new byte
  if (diff > 0) {
    const std::size_t nl = r.tail.rfind('\n', diff - 1);
    if (nl != std::string::npos) line_start = nl + 1;
  }
  auto text = pread_exact(r.fd, window + line_start, diff - line_start + 5);
  if (!text) return window + diff;
  // node= first: with it, every line starts so, and its "type=" comes a few bytes later.
  for (const std::string_view start : {"node=", "type="}) {
    for (std::size_t i = std::min(diff - line_start, text->size()) + 1; i-- > 0;) {
      if (std::string_view(*text).substr(i).starts_with(start)) return window + line_start + i;
    }
  }
  return window + diff;
}

AuditTailer::CopyMatch AuditTailer::copy_matches(Reader& r, const FileFingerprint& fp, uint64_t min_size) {
  if (fp.length == 0) return CopyMatch::kNo;  // an empty fingerprint would match any file
  auto st = stat_fd(r.fd);
  if (!st.ok()) {
    ++stats_.read_errors;
    log_error("fstat", r.opened_path, st.error());
    return CopyMatch::kNo;
  }
  if (!st->regular) return CopyMatch::kNo;
  // Exactly fp.length leading bytes are hashed: a fingerprint taken while the file was shorter
  // than kFingerprintBytes compares only what it covered.
  auto same = fingerprint_matches(r.fd, fp);
  if (!same.ok()) {
    ++stats_.read_errors;
    log_error("fingerprint", r.opened_path, same.error());
    return CopyMatch::kNo;
  }
  if (!*same) return CopyMatch::kNo;
  return st->size >= min_size ? CopyMatch::kYes : CopyMatch::kShort;
}

bool AuditTailer::wait_for_copy(Followed& f) {
  if (!f.copy_wait_until) f.copy_wait_until = stats_.polls + options_.copy_wait_polls;
  return stats_.polls < *f.copy_wait_until;
}

void AuditTailer::prune_checkpoints(Followed& f) {
  std::vector<FileStat> existing;
  if (auto st = stat_path(f.path); st.ok()) existing.push_back(*st);
  for (auto& [p, st] : scan_siblings(f.path)) existing.push_back(st);
  for (const CheckpointEntry& e : checkpoints_.entries_for(f.path)) {
    const bool open = (f.current && f.current->key == e.key) ||
                      std::any_of(f.rotated.begin(), f.rotated.end(), [&](const auto& r) { return r->key == e.key; });
    if (open) continue;
    // A copy of this content (copytruncate) is still being read: keep the entry until the copy's own
    // entry can take over, or a crash now would lose the copy's rest.
    const bool copy_unread = std::any_of(f.rotated.begin(), f.rotated.end(), [&](const auto& r) {
      if (!r->fingerprinted || r->key.fingerprint != e.key.fingerprint || r->key.same_inode(e.key)) return false;
      auto st = stat_fd(r->fd);
      return !st.ok() || st->size > r->read_offset;
    });
    if (copy_unread) continue;
    bool inode_open = (f.current && f.current->key.same_inode(e.key)) ||
                      std::any_of(f.rotated.begin(), f.rotated.end(),
                                  [&](const auto& r) { return r->key.same_inode(e.key); });
    bool on_disk = std::any_of(existing.begin(), existing.end(), [&](const FileStat& st) {
      return st.device == e.key.device && st.inode == e.key.inode;
    });
    // An open inode with another fingerprint was rewritten: its old entry can never match again.
    if (on_disk && !inode_open) continue;
    checkpoints_.erase(e.key);
  }
}

// ---- reading -----------------------------------------------------------------------------------

void AuditTailer::emit(Followed& f, Reader& r, std::string_view bytes, uint64_t begin, uint64_t end,
                       bool truncated) {
  if (!r.fingerprinted) {
    auto fp = read_fingerprint(r.fd);
    if (fp.ok()) {
      r.key.fingerprint = *fp;
      r.fingerprinted = true;
    } else {
      ++stats_.read_errors;
      log_error("fingerprint", r.opened_path, fp.error());
    }
  }
  ++stats_.lines;
  if (truncated) ++stats_.truncated_lines;
  TailedLine line;
  line.key = r.key;
  line.path = f.path;
  line.bytes = bytes;
  line.begin = begin;
  line.end = end;
  line.truncated = truncated;
  on_line_(line);
}

bool AuditTailer::pump_file(Followed& f, Reader& r, std::size_t& budget) {
  const std::size_t cap = options_.max_line_bytes;
  while (budget > 0 && running_) {
    if (r.seam && r.read_offset >= *r.seam) cut_at_seam(r);
    std::size_t want = chunk_.size();
    if (r.seam) want = static_cast<std::size_t>(std::min<uint64_t>(want, *r.seam - r.read_offset));
    ssize_t n = 0;
    do {
      n = ::pread(r.fd, chunk_.data(), want, static_cast<off_t>(r.read_offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      ++stats_.read_errors;
      log_error("read", r.opened_path, errno_error(errno, "read", r.opened_path));
      return true;
    }
    if (n == 0) return true;
    --budget;
    const std::string_view data(chunk_.data(), static_cast<std::size_t>(n));
    const uint64_t base = r.read_offset;
    r.read_offset += static_cast<uint64_t>(n);
    stats_.bytes += static_cast<uint64_t>(n);
    r.remember(data);
    std::size_t pos = 0;
    while (pos < data.size() && running_) {
      const std::size_t nl = data.find('\n', pos);
      const std::size_t seg_end = nl == std::string_view::npos ? data.size() : nl;
      std::string_view seg = data.substr(pos, seg_end - pos);
      if (r.pending.empty() && !r.skipping) r.line_begin = base + pos;
      // Keep at most `cap` bytes of the line; the rest is counted and dropped.
      if (r.skipping) {
        stats_.skipped_bytes += seg.size();
        seg = {};
      } else if (r.pending.size() + seg.size() > cap) {
        const std::size_t keep = cap - r.pending.size();
        stats_.skipped_bytes += seg.size() - keep;
        seg = seg.substr(0, keep);
        r.skipping = true;
      }
      if (nl == std::string_view::npos) {
        r.pending.append(seg);
        break;
      }
      const uint64_t end = base + nl + 1;
      if (r.pending.empty() && !r.skipping) {
        emit(f, r, seg, r.line_begin, end, false);  // the common case: straight from the chunk
      } else {
        r.pending.append(seg);
        const bool truncated = r.skipping;
        // Swap out so a callback that stops us does not see the buffer change under it.
        std::string line;
        line.swap(r.pending);
        r.skipping = false;
        emit(f, r, line, r.line_begin, end, truncated);
        line.clear();
        if (r.pending.capacity() == 0) r.pending.swap(line);  // keep the capacity for the next long line
      }
      r.line_begin = end;
      pos = nl + 1;
    }
  }
  return !running_;  // out of budget: more to read (unless stopped)
}

void AuditTailer::cut_at_seam(Reader& r) {
  if (!r.pending.empty() || r.skipping) {
    const uint64_t cut = *r.seam - r.line_begin;
    ++stats_.torn_lines;
    stats_.torn_bytes += cut;
    spdlog::warn("audit tailer: {}: the line at offset {} was cut by the truncation at {}; its {} bytes left in the "
                 "file are dropped and the lines written after the truncation are read from {}",
                 r.opened_path, r.line_begin, *r.seam, cut, *r.seam);
    r.pending.clear();
    r.skipping = false;
  }
  r.line_begin = *r.seam;
  r.seam.reset();
}

bool AuditTailer::pump_followed(Followed& f) {
  std::size_t budget = options_.max_chunks_per_turn;
  while (!f.rotated.empty() && running_) {
    Reader& r = *f.rotated.front();
    if (!pump_file(f, r, budget)) return false;
    if (!running_) return true;
    if (!r.pending.empty()) {
      spdlog::warn("audit tailer: {} (rotated) ends with {} bytes without a newline; dropped", r.opened_path,
                   r.pending.size());
      stats_.skipped_bytes += r.pending.size();
    }
    spdlog::debug("audit tailer: finished rotated file {} at {}", r.opened_path, r.read_offset);
    f.rotated.pop_front();
  }
  if (f.current && running_ && !f.holding) return pump_file(f, *f.current, budget);
  return true;
}

void AuditTailer::pump_all() {
  if (!running_) return;
  dispatching_ = true;
  bool more = false;
  for (std::size_t i = 0; i < followed_.size() && running_; ++i) {
    if (!pump_followed(*followed_[i])) more = true;
  }
  dispatching_ = false;
  if (!running_) {
    followed_.clear();  // stop() was called from the callback
    return;
  }
  if (more) schedule_pump();
}

void AuditTailer::schedule_pump() {
  if (pump_timer_ != 0) return;
  pump_timer_ = scheduler_.schedule_after(std::chrono::nanoseconds(0), [this] {
    pump_timer_ = 0;
    pump_all();
  });
}

void AuditTailer::poll_tick() {
  if (!running_) return;
  ++stats_.polls;
  resolve_patterns();
  for (auto& f : followed_) resync(*f);
  pump_all();
  if (auto st = checkpoints_.commit(); !st.ok()) log_error("commit", checkpoints_.file_path(), st.error());
}

// ---- inotify -----------------------------------------------------------------------------------

void AuditTailer::start_inotify() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    log_error("inotify_init1", "", errno_error(errno, "inotify_init1", "(inotify)"));
    spdlog::warn("audit tailer: inotify unavailable; polling every {} ms", options_.poll_interval.count());
    return;
  }
  inotify_fd_ = fd;
  inotify_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  inotify_buffer_.resize(64 * 1024);
  stats_.inotify_active = true;
  arm_inotify();
}

void AuditTailer::stop_inotify() {
  if (inotify_) {
    boost::system::error_code ignored;
    inotify_->cancel(ignored);
    inotify_->close(ignored);  // closes inotify_fd_ too
    inotify_.reset();
  }
  inotify_fd_ = -1;
  watches_.clear();
  stats_.inotify_active = false;
}

void AuditTailer::watch_directory(const std::string& dir) {
  for (const auto& [wd, d] : watches_) {
    if (d == dir) return;
  }
  const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kDirWatchMask);
  if (wd < 0) {
    // Missing directory, watch limit (ENOSPC), NFS...: the poll timer covers it and we retry.
    log_error("inotify_add_watch", dir, errno_error(errno, "inotify_add_watch", dir));
    return;
  }
  watches_[wd] = dir;
}

void AuditTailer::arm_inotify() {
  std::weak_ptr<bool> alive = alive_;
  inotify_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this, alive](const boost::system::error_code& ec) noexcept {
                         auto a = alive.lock();
                         if (!a || !*a || ec == boost::asio::error::operation_aborted || !inotify_) return;
                         try {
                           on_inotify_readable();
                         } catch (const std::exception& e) {
                           spdlog::error("audit tailer: inotify handler failed: {}", e.what());
                         }
                       });
}

void AuditTailer::on_inotify_readable() {
  bool names_changed = false;  // a file appeared or was renamed in: glob matches may have changed
  for (;;) {
    const ssize_t n = ::read(inotify_fd_, inotify_buffer_.data(), inotify_buffer_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        log_error("read", "(inotify)", errno_error(errno, "read", "(inotify)"));
      }
      break;
    }
    if (n == 0) break;
    std::size_t off = 0;
    while (off + sizeof(inotify_event) <= static_cast<std::size_t>(n)) {
      inotify_event ev{};
      std::memcpy(&ev, inotify_buffer_.data() + off, sizeof ev);
      ++stats_.inotify_events;
      if ((ev.mask & IN_IGNORED) != 0) watches_.erase(ev.wd);  // directory gone: re-added by a later poll
      if ((ev.mask & (IN_CREATE | IN_MOVED_TO | IN_Q_OVERFLOW)) != 0) names_changed = true;
      off += sizeof(inotify_event) + ev.len;
    }
  }
  // Events are only hints: look at every followed path once per batch (IN_Q_OVERFLOW included).
  // Globs are expanded again only when names changed (and on every poll), not on each write.
  if (names_changed) resolve_patterns();
  for (auto& f : followed_) resync(*f);
  pump_all();
  if (running_ && inotify_) arm_inotify();
}

void AuditTailer::log_error(std::string_view kind, const std::string& path, const common::Error& error) {
  uint64_t suppressed = 0;
  if (!error_limiter_.allow(fmt::format("{}:{}", kind, path), &suppressed)) return;
  if (suppressed > 0) {
    spdlog::error("audit tailer: {} (and {} similar errors suppressed; retrying every {} ms)", error.to_string(),
                  suppressed, options_.poll_interval.count());
  } else {
    spdlog::error("audit tailer: {} (retrying every {} ms)", error.to_string(), options_.poll_interval.count());
  }
}

}  // namespace agent
