#include "agent/sinks/local_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/clock/time_format.h"
#include "common/json/json_writer.h"

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
  return write_raw(now, destination, api, payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

common::Status LocalSink::write_raw(common::WallTime now, std::string_view destination, std::string_view api,
                                    std::string_view payload_json) {
  if (pretty_) {
    nlohmann::json record = {
        {"time", common::format_iso8601(now)},
        {"destination", destination},
        {"api", api},
        {"payload", nlohmann::json::parse(payload_json, nullptr, false)},
    };
    line_ = record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    // {"api":…,"destination":…,"payload":…,"time":…}: the key order nlohmann::json (sorted) gives.
    line_.clear();
    common::JsonWriter w(line_);
    w.begin_object().key("api").value(api).key("destination").value(destination).key("payload").raw(payload_json);
    w.key("time").value(common::format_iso8601(now)).end_object();
  }
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
