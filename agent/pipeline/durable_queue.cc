#include "agent/pipeline/durable_queue.h"

#include "common/fs/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace agent {
namespace {

common::Error sys_error(int err, std::string_view what, const std::string& path) {
  return common::Error(err == EACCES ? common::ErrorCode::kPermissionDenied : common::ErrorCode::kIo,
                       fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

common::Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno, "write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string record_line(const DurableQueue::Entry& e) {
  nlohmann::json j = {{"id", e.id}, {"data", e.data}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

DurableQueue::~DurableQueue() {
  if (fd_ >= 0) ::close(fd_);
}

common::Result<std::unique_ptr<DurableQueue>> DurableQueue::open(std::string path) {
  std::unique_ptr<DurableQueue> q(new DurableQueue(std::move(path)));
  if (auto st = q->load(); !st.ok()) return std::move(st).error();
  return q;
}

common::Status DurableQueue::load() {
  std::string text;
  {
    const int rfd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd < 0 && errno != ENOENT) return sys_error(errno, "open", path_);
    if (rfd >= 0) {
      char buf[8192];
      for (;;) {
        const ssize_t n = ::read(rfd, buf, sizeof buf);
        if (n < 0) {
          if (errno == EINTR) continue;
          const int err = errno;
          ::close(rfd);
          return sys_error(err, "read", path_);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
      }
      ::close(rfd);
    }
  }
  bool rewrite = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    const bool complete = nl != std::string::npos;
    if (!complete) nl = text.size();
    const std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    if (!complete) rewrite = true;  // a torn tail: later appends must start on a fresh line
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.contains("done") && j.at("done").is_number_unsigned()) {
        const auto id = j.at("done").get<std::uint64_t>();
        std::erase_if(entries_, [id](const Entry& e) { return e.id == id; });
        rewrite = true;
        continue;
      }
      if (j.contains("id") && j.at("id").is_number_unsigned() && j.contains("data") && j.at("data").is_string()) {
        Entry e{j.at("id").get<std::uint64_t>(), j.at("data").get<std::string>()};
        next_id_ = std::max(next_id_, e.id + 1);
        entries_.push_back(std::move(e));
        continue;
      }
    } catch (const nlohmann::json::exception&) {
    }
    ++corrupt_lines_;
    rewrite = true;
  }
  if (rewrite) return compact();
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return sys_error(errno, "open", path_);
  return {};
}

common::Status DurableQueue::append_line(const std::string& line) {
  if (fd_ < 0) return common::Error(common::ErrorCode::kIo, fmt::format("{} is not open", path_));
  TW_TRY(write_all(fd_, line, path_));
  if (::fdatasync(fd_) != 0) return sys_error(errno, "fdatasync", path_);
  return {};
}

common::Result<std::uint64_t> DurableQueue::append(std::string_view data) {
  Entry e{next_id_, std::string(data)};
  TW_TRY(append_line(record_line(e)));
  ++next_id_;
  entries_.push_back(std::move(e));
  return entries_.back().id;
}

const DurableQueue::Entry* DurableQueue::find(std::uint64_t id) const {
  for (const auto& e : entries_) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

common::Status DurableQueue::remove(std::uint64_t id) {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [id](const Entry& e) { return e.id == id; });
  if (it == entries_.end()) {
    return common::Error(common::ErrorCode::kNotFound, fmt::format("{}: no queued record {}", path_, id));
  }
  TW_TRY(append_line(fmt::format("{{\"done\":{}}}\n", id)));
  entries_.erase(it);
  ++done_lines_;
  if (entries_.empty() || done_lines_ >= entries_.size() + kCompactAfterDoneLines) return compact();
  return {};
}

common::Status DurableQueue::compact() {
  std::string text;
  for (const auto& e : entries_) text += record_line(e);
  TW_TRY(common::write_file_atomically(path_, text));
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return sys_error(errno, "open", path_);
  done_lines_ = 0;
  ++compactions_;
  return {};
}

}  // namespace agent
