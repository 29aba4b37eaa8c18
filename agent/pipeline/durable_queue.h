// DurableQueue: an on-disk FIFO of small text records that survives restarts and crashes; the spool
// for outputs whose data has no other durable home (alarm notifications waiting for SNS, metric
// requests waiting for CloudWatch). One JSON-lines file:
//
//   {"crc":C,"id":1,"data":"<record>"}   appended (write + fdatasync) before append() returns
//   {"crc":C,"done":1}                   appended (write + fdatasync) by remove(1)
//
// C is zlib's crc32 of the line's bytes after the `{"crc":C,` prefix, up to (not including) the
// newline. Lines without the prefix, as the previous version wrote them, still load ("legacy"),
// but only before the first checked line of the file.
//
// open() replays the file: records minus the "done" ones, oldest first. A line that is torn (no
// newline), not JSON of the shapes above, or fails its checksum is bad: the bad lines after the last
// good one are the corrupt tail (a write cut by a crash or a full disk), the others are corrupt
// middle lines; both are skipped, counted and logged once with the path. The file is rewritten
// (temp + fsync + rename + directory fsync) at open when it held anything but live records, and
// whenever every record was removed or the "done" lines outnumber the live records by
// kCompactAfterDoneLines, so it stays small. If that rewrite fails at open (a full disk), the bad
// tail is cut in place by truncation instead and the queue opens anyway.
//
// Ids increase and are never reused within one file's life: a rewrite keeps a "done" line for the
// highest id used when no live record carries it, and after skipping bad lines the next id also
// moves past as many ids as lines were skipped (their ids cannot be trusted).
//
// An append that fails (ENOSPC, EIO) returns the error and truncates the file back to the last
// complete line, so the file stays loadable and the next append starts on a fresh line.
//
// One owner per file at a time: open() may rewrite it, which a second open instance would not see.
// Threading: one thread (the event loop). Writes are synchronous; records are small and rare.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result/result.h"

namespace agent {

class DurableQueue {
 public:
  struct Entry {
    std::uint64_t id = 0;  // increasing; never reused within one file's life
    std::string data;
  };
  static constexpr std::size_t kCompactAfterDoneLines = 64;

  // Creates the file (mode 0640) if missing; its directory must exist.
  static common::Result<std::unique_ptr<DurableQueue>> open(std::string path);
  ~DurableQueue();
  DurableQueue(const DurableQueue&) = delete;
  DurableQueue& operator=(const DurableQueue&) = delete;

  // Appends a record; durable (fsync'd) when it returns ok.
  common::Result<std::uint64_t> append(std::string_view data);
  // Marks a record delivered; unknown ids are kNotFound. Durable when it returns ok. When the
  // "done" line cannot be appended (a full disk), the record's own line is overwritten in place
  // with a "done" line of the same length, which needs no new space, so a delivered record is not
  // sent again after a restart.
  common::Status remove(std::uint64_t id);

  const std::deque<Entry>& entries() const { return entries_; }  // oldest first
  const Entry* find(std::uint64_t id) const;
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::string& path() const { return path_; }
  // Bad lines skipped at open: the corrupt tail (cut) plus the corrupt middle lines.
  std::uint64_t corrupt_lines() const { return corrupt_tail_lines_ + corrupt_middle_lines_; }
  std::uint64_t corrupt_tail_lines() const { return corrupt_tail_lines_; }
  std::uint64_t corrupt_middle_lines() const { return corrupt_middle_lines_; }
  std::uint64_t legacy_lines() const { return legacy_lines_; }  // loaded without a checksum
  std::uint64_t compactions() const { return compactions_; }
  std::uint64_t marked_in_place() const { return marked_in_place_; }  // removals written over the record

  // A "done" line for `id` exactly `length` bytes long (newline included), or "" when it cannot be
  // that long; what remove() writes over a record's line when it cannot append. Pure.
  static std::string done_line_of_length(std::uint64_t id, std::size_t length);

  // The line append() writes for a record (newline included); for tests and benchmarks.
  static std::string record_line(std::uint64_t id, std::string_view data);

 private:
  explicit DurableQueue(std::string path) : path_(std::move(path)) {}
  common::Status load();
  common::Status append_line(const std::string& line);
  common::Status compact();
  common::Status open_for_append(int extra_flags);

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;     // bytes of complete lines in the file; a failed append truncates back to it
  struct Span {
    std::uint64_t offset = 0;
    std::size_t length = 0;  // newline included
  };
  std::unordered_map<std::uint64_t, Span> spans_;  // where each live record's line is in the file
  std::uint64_t marked_in_place_ = 0;
  common::Status mark_in_place(std::uint64_t id);
  bool tail_dirty_ = false;    // a failed append could not truncate its partial line away yet
  std::deque<Entry> entries_;
  std::uint64_t next_id_ = 1;
  std::size_t done_lines_ = 0;
  std::uint64_t corrupt_tail_lines_ = 0;
  std::uint64_t corrupt_middle_lines_ = 0;
  std::uint64_t legacy_lines_ = 0;
  std::uint64_t compactions_ = 0;
};

}  // namespace agent
