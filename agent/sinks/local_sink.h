// LocalSink: the embedded default output. Every record that would go to AWS is written as one JSON
// line instead (one write(2) per line, so a reader tailing the file never sees half a record) — {"time":…,"destination":…,"api":…,"payload":{…}} — where payload holds exactly the
// fields the AWS API would receive. Writes to stdout ("-") or appends to a file (reopened on reload,
// so logrotate's create mode works).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "common/clock/clock.h"
#include "common/result/result.h"

namespace agent {

class LocalSink {
 public:
  // path "-" means stdout. The file is created (mode 0640) if missing and appended to.
  static common::Result<std::unique_ptr<LocalSink>> open(const std::string& path, bool pretty);
  ~LocalSink();
  LocalSink(const LocalSink&) = delete;
  LocalSink& operator=(const LocalSink&) = delete;

  // destination: where it would have gone ("cloudwatch", "sns", "cloudtrail_lake"…); api: the AWS action.
  common::Status write(common::WallTime now, std::string_view destination, std::string_view api,
                       const nlohmann::json& payload);
  // The same with the payload already rendered as compact JSON text (the trail path renders each
  // record once and splices it in, instead of building and walking a tree again).
  common::Status write_raw(common::WallTime now, std::string_view destination, std::string_view api,
                           std::string_view payload_json);
  common::Status flush();
  common::Status reopen();  // after the file was rotated away

  const std::string& path() const { return path_; }
  std::uint64_t records_written() const { return records_; }

 private:
  LocalSink(std::string path, int fd, bool pretty) : path_(std::move(path)), fd_(fd), pretty_(pretty) {}
  std::string path_;
  int fd_;  // 1 for stdout
  bool pretty_;
  std::uint64_t records_ = 0;
  std::string line_;  // reused buffer
};

}  // namespace agent
