#include "common/fs/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace common {
namespace {

Error step_error(int err, std::string_view step, const std::string& path) {
  const ErrorCode code = err == EACCES || err == EPERM ? ErrorCode::kPermissionDenied
                         : err == ENOENT               ? ErrorCode::kNotFound
                                                       : ErrorCode::kIo;
  return Error(code, std::string(step) + " " + path + ": " + std::strerror(err));
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view content, unsigned mode) {
  const std::string tmp = atomic_temp_path(path);
  int fd = -1;
  do {
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return step_error(errno, "open", tmp);
  auto fail = [&](int err, std::string_view step) -> Status {
    ::close(fd);
    ::unlink(tmp.c_str());
    return step_error(err, step, tmp);
  };
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "write");
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) return fail(errno, "fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return step_error(err, "close", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return step_error(err, "rename", tmp);
  }
  // The rename is durable only once the directory entry is.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return step_error(errno, "open", dir);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return step_error(err, "fsync", dir);
  return {};
}

}  // namespace common
