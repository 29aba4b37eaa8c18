#include "common/fs/reopenable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace common {
namespace {

ErrorCode code_for_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
      return ErrorCode::kPermissionDenied;
    default:
      return ErrorCode::kIo;
  }
}

Error errno_error(int err, std::string_view what, const std::string& path) {
  std::string message(what);
  message += ' ';
  message += path;
  message += ": ";
  message += std::strerror(err);
  return Error(code_for_errno(err), std::move(message));
}

}  // namespace

std::string join_root(std::string_view root, std::string_view relative) {
  while (!root.empty() && root.back() == '/') root.remove_suffix(1);
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  std::string out;
  out.reserve(root.size() + 1 + relative.size());
  out.append(root);
  out.push_back('/');
  out.append(relative);
  return out;
}

ReopenableFile::ReopenableFile(std::string path) : path_(std::move(path)) {}

ReopenableFile::ReopenableFile(std::string_view root, std::string_view relative)
    : path_(join_root(root, relative)) {}

ReopenableFile::~ReopenableFile() { close(); }

ReopenableFile::ReopenableFile(ReopenableFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      open_count_(other.open_count_) {}

ReopenableFile& ReopenableFile::operator=(ReopenableFile&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    open_count_ = other.open_count_;
  }
  return *this;
}

Status ReopenableFile::open() {
  close();
  int fd;
  do {
    fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno_error(errno, "open", path_);
  fd_ = fd;
  ++open_count_;
  return {};
}

void ReopenableFile::close() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Result<std::size_t> ReopenableFile::read_once(int& errno_out) {
  if (buffer_.empty()) buffer_.resize(kInitialCapacity);
  std::size_t length = 0;
  for (;;) {
    if (length == buffer_.size()) {
      if (buffer_.size() >= kMaxBytes) {
        return Error(ErrorCode::kIo, "read " + path_ + ": larger than " + std::to_string(kMaxBytes) + " bytes");
      }
      buffer_.resize(buffer_.size() * 2);
    }
    // pread from the running offset: seq_file pseudo-files may hand out one page per call.
    const ssize_t n = ::pread(fd_, buffer_.data() + length, buffer_.size() - length,
                              static_cast<off_t>(length));
    if (n < 0) {
      if (errno == EINTR) continue;
      errno_out = errno;
      return errno_error(errno, "read", path_);
    }
    if (n == 0) return length;
    length += static_cast<std::size_t>(n);
  }
}

Result<std::string_view> ReopenableFile::read_all() {
  if (fd_ < 0) TW_TRY(open());
  int err = 0;
  Result<std::size_t> length = read_once(err);
  if (!length.ok() && (err == ESTALE || err == ENOENT)) {
    // The file went away under the descriptor (NFS, a vanished /proc entry): open it again.
    TW_TRY(open());
    err = 0;
    length = read_once(err);
  }
  if (!length.ok()) return std::move(length).error();
  return std::string_view(buffer_.data(), *length);
}

}  // namespace common
