// DurableQueue: an on-disk FIFO of small text records that survives restarts and crashes; used for
// alarm notifications waiting for SNS. One JSON-lines file:
//
//   {"id":1,"data":"<record>"}     appended (write + fsync) before append() returns
//   {"done":1}                     appended (write + fsync) by remove(1)
//
// open() replays the file: records minus the "done" ones, oldest first. A line that does not parse
// (a torn write at the tail after a crash, or garbage) is skipped and counted. The file is
// rewritten (temp + fsync + rename + directory fsync) at open when it held anything but live
// records, and whenever every record was removed or the "done" lines outnumber the live records
// by kCompactAfterDoneLines, so it stays small.
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
  // Marks a record delivered; unknown ids are kNotFound. Durable when it returns ok.
  common::Status remove(std::uint64_t id);

  const std::deque<Entry>& entries() const { return entries_; }  // oldest first
  const Entry* find(std::uint64_t id) const;
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::string& path() const { return path_; }
  std::uint64_t corrupt_lines() const { return corrupt_lines_; }  // skipped at open
  std::uint64_t compactions() const { return compactions_; }

 private:
  explicit DurableQueue(std::string path) : path_(std::move(path)) {}
  common::Status load();
  common::Status append_line(const std::string& line);
  common::Status compact();

  std::string path_;
  int fd_ = -1;
  std::deque<Entry> entries_;
  std::uint64_t next_id_ = 1;
  std::size_t done_lines_ = 0;
  std::uint64_t corrupt_lines_ = 0;
  std::uint64_t compactions_ = 0;
};

}  // namespace agent
