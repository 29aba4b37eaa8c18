#include "agent/sinks/dead_letter_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/clock/time_format.h"
#include "common/json/json_writer.h"

namespace agent {

DeadLetterFile::DeadLetterFile(const common::Clock& clock, std::string dir, std::uint64_t max_bytes)
    : clock_(clock),
      dir_(std::move(dir)),
      path_((std::filesystem::path(dir_) / kDeadLetterFileName).string()),
      max_bytes_(max_bytes),
      limiter_(clock, std::chrono::seconds(60), 1) {}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool DeadLetterFile::open() {
  if (fd_ >= 0) return true;
  if (open_failed_) return false;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec)) {
    std::filesystem::create_directories(dir_, ec);
    if (!ec) {
      std::filesystem::permissions(dir_, std::filesystem::perms(0750), std::filesystem::perm_options::replace, ec);
      ec.clear();
    }
  }
  int fd = -1;
  std::string why;
  if (ec) {
    why = fmt::format("cannot create directory {}: {}", dir_, ec.message());
  } else {
    fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) why = fmt::format("cannot open: {}", std::strerror(errno));
  }
  if (fd < 0) {
    open_failed_ = true;
    spdlog::warn("dead-letter file {}: {}; dead-lettered events are only counted and logged from now on (check "
                 "delivery.spool_dir)",
                 path_, why);
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  fd_ = fd;
  return true;
}

bool DeadLetterFile::write(std::string_view sink, std::string_view reason, std::string_view event) {
  if (!open()) {
    ++stats_.failed;
    return false;
  }
  std::string line;
  line.reserve(event.size() + reason.size() + sink.size() + 96);
  common::JsonWriter w(line);
  w.begin_object();
  w.key("time").value(common::format_iso8601(clock_.wall_now(), true));
  w.key("sink").value(sink).key("reason").value(reason);
  // The payload is kept byte for byte when it is a JSON document (one line: our renderers emit compact
  // JSON); anything else (a truncated Logs message) as a string.
  if (!event.empty() && event.find('\n') == std::string_view::npos && nlohmann::json::accept(event)) {
    w.key("event").raw(event);
  } else {
    w.key("event_text").value(event);
  }
  w.end_object();
  line.push_back('\n');

  if (max_bytes_ > 0 && size_ + line.size() > max_bytes_) {
    ++stats_.dropped;
    warn("full", fmt::format("dead-letter file {} has reached delivery.max_spool_size ({} bytes); {} dead-lettered "
                             "event(s) not written",
                             path_, max_bytes_, stats_.dropped));
    return false;
  }
  std::string_view rest(line);
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++stats_.failed;
      warn("write", fmt::format("dead-letter file {}: write failed: {}; the event is only logged",
                                path_, n < 0 ? std::strerror(errno) : "no progress"));
      size_ += line.size() - rest.size();
      return false;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  size_ += line.size();
  ++stats_.written;
  stats_.bytes += line.size();
  return true;
}

void DeadLetterFile::warn(const std::string& key, const std::string& message) {
  limiter_.log(spdlog::level::warn, key, message);
}

}  // namespace agent
