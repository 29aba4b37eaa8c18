#include "agent/sources/file_identity.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace agent {
namespace {

FileStat from_stat(const struct stat& st) {
  FileStat out;
  out.device = static_cast<uint64_t>(st.st_dev);
  out.inode = static_cast<uint64_t>(st.st_ino);
  out.size = st.st_size > 0 ? static_cast<uint64_t>(st.st_size) : 0;
  out.links = static_cast<uint64_t>(st.st_nlink);
  out.regular = S_ISREG(st.st_mode);
  return out;
}

// Reads up to `want` bytes from offset 0 into buf; returns how many were read (EOF may cut it short).
common::Result<std::size_t> pread_prefix(int fd, char* buf, std::size_t want) {
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n = ::pread(fd, buf + got, want - got, static_cast<off_t>(got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, "pread", "fingerprint");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace

common::Result<FileStat> stat_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_error(errno, "stat", path);
  return from_stat(st);
}

common::Result<FileStat> stat_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_error(errno, "fstat", fmt::format("fd {}", fd));
  return from_stat(st);
}

common::Result<FileFingerprint> read_fingerprint(int fd, std::size_t max_bytes) {
  std::array<char, kFingerprintBytes> buf{};
  const std::size_t want = max_bytes < buf.size() ? max_bytes : buf.size();
  auto got = pread_prefix(fd, buf.data(), want);
  if (!got.ok()) return std::move(got).error();
  FileFingerprint fp;
  fp.length = static_cast<uint32_t>(*got);
  fp.hash = fingerprint_hash(std::string_view(buf.data(), *got));
  return fp;
}

common::Result<bool> fingerprint_matches(int fd, const FileFingerprint& fingerprint) {
  if (fingerprint.length == 0) return true;
  if (fingerprint.length > kFingerprintBytes) return false;
  std::array<char, kFingerprintBytes> buf{};
  auto got = pread_prefix(fd, buf.data(), fingerprint.length);
  if (!got.ok()) return std::move(got).error();
  if (*got != fingerprint.length) return false;
  return fingerprint_hash(std::string_view(buf.data(), *got)) == fingerprint.hash;
}

common::ErrorCode error_code_for_errno(int err) noexcept {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return common::ErrorCode::kNotFound;
    case EACCES:
    case EPERM:
      return common::ErrorCode::kPermissionDenied;
    default:
      return common::ErrorCode::kIo;
  }
}

common::Error errno_error(int err, std::string_view what, std::string_view path) {
  return common::Error(error_code_for_errno(err), fmt::format("{} {}: {}", what, path, std::strerror(err)));
}

}  // namespace agent
