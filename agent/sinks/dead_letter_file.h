// DeadLetterFile: a forensic copy of every trail event an AWS output dead-lettered (the service
// refused it for good, see trail_aws_outputs.h), so a bad event gets a clear error and its content is
// not lost. One JSON line per event, appended to <delivery.spool_dir>/dead-letter.jsonl:
//   {"time":"<ISO 8601 UTC, ms>","sink":"<output describe()>","reason":"<error code + message>",
//    "event":<the payload as it would have been sent>}
// "event" is the CloudTrail record JSON (S3, CloudWatch Logs: the message text) or the Lake eventData
// JSON; text that is not valid JSON (a Logs message cut to fit) goes as a string under "event_text".
//
// Not the delivery path: lines are appended with write(2) and never fsync'ed (a crash may lose the last
// lines; the event was already acknowledged). The file is opened on the first line (directory created
// 0750 if missing, file 0640) and never rotated: once a line would take it past max_bytes
// (delivery.max_spool_size), nothing more is written, `dropped` counts the lines and a warning is
// logged (rate-limited). A directory or file that cannot be opened gives one warning, then lines are
// only counted (`failed`). Nothing here blocks or stops the pipeline.
// Threading: event-loop thread only (shared by the AWS trail outputs, which run there).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock/clock.h"
#include "common/log/log.h"

namespace agent {

inline constexpr std::string_view kDeadLetterFileName = "dead-letter.jsonl";

struct DeadLetterStats {
  std::uint64_t written = 0;  // lines appended
  std::uint64_t bytes = 0;    // their size, newlines included
  std::uint64_t dropped = 0;  // lines not written: the file would have exceeded max_bytes
  std::uint64_t failed = 0;   // lines not written: the file could not be opened or written
};

class DeadLetterFile {
 public:
  DeadLetterFile(const common::Clock& clock, std::string dir, std::uint64_t max_bytes);
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  // Appends one line for an event `sink` dead-lettered for `reason`. `event`: the payload as it would
  // have been sent (JSON text, else written as a string under "event_text"). True when written.
  bool write(std::string_view sink, std::string_view reason, std::string_view event);

  const std::string& path() const { return path_; }
  // False once the file could not be opened (lines are only counted from then on).
  bool usable() const { return !open_failed_; }
  const DeadLetterStats& stats() const { return stats_; }

 private:
  bool open();
  void warn(const std::string& key, const std::string& message);

  const common::Clock& clock_;
  std::string dir_;
  std::string path_;
  std::uint64_t max_bytes_;
  int fd_ = -1;
  bool open_failed_ = false;
  std::uint64_t size_ = 0;  // of the file, as far as this process knows
  DeadLetterStats stats_;
  common::log::RateLimiter limiter_;
};

}  // namespace agent
