#include "agent/sinks/local_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/clock/time_format.h"

namespace agent {
namespace {

common::Result<int> open_file(const std::string& path) {
  if (path == "-") return STDOUT_FILENO;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return common::Error(errno == EACCES ? common::ErrorCode::kPermissionDenied : common::ErrorCode::kIo,
                         "cannot open local output " + path + ": " + std::strerror(errno));
  }
  return fd;
}

// Writes all of data, retrying on EINTR and short writes.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

common::Result<std::unique_ptr<LocalSink>> LocalSink::open(const std::string& path, bool pretty) {
  auto fd = open_file(path);
  if (!fd.ok()) return std::move(fd).error();
  return std::unique_ptr<LocalSink>(new LocalSink(path, *fd, pretty));
}

LocalSink::~LocalSink() {
  if (fd_ != STDOUT_FILENO) ::close(fd_);
}

common::Status LocalSink::write(common::WallTime now, std::string_view destination, std::string_view api,
                                const nlohmann::json& payload) {
  nlohmann::json record = {
      {"time", common::format_iso8601(now)},
      {"destination", destination},
      {"api", api},
      {"payload", payload},
  };
  line_ = record.dump(pretty_ ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace);
  line_.push_back('\n');
  if (!write_all(fd_, line_)) {
    return common::Error(common::ErrorCode::kIo, "write to local output " + path_ + ": " + std::strerror(errno));
  }
  ++records_;
  return {};
}

common::Status LocalSink::flush() {
  // Lines are written with write(2) as they come: nothing is buffered in user space. Data reaches the disk
  // when the kernel writes it back; the local output is a preview, not a durable store.
  return {};
}

common::Status LocalSink::reopen() {
  if (fd_ == STDOUT_FILENO) return {};
  auto fd = open_file(path_);
  if (!fd.ok()) return std::move(fd).error();
  ::close(fd_);
  fd_ = *fd;
  return {};
}

}  // namespace agent
