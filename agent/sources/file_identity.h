// File identity for tailing: which file is this, independent of the name it has now?
//
// A file is known by its device + inode (stable across rename) and a fingerprint of its first
// bytes (up to kFingerprintBytes), which tells a reused inode or a file rewritten in place
// (copytruncate, truncate + rewrite) from the file we read before. The fingerprint is taken once,
// when the first line of the file is handed out, over min(kFingerprintBytes, size) bytes, and its
// length is kept: later checks hash exactly that many leading bytes of the candidate file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "common/result/result.h"

namespace agent {

inline constexpr std::size_t kFingerprintBytes = 64;

struct FileFingerprint {
  uint32_t length = 0;  // bytes hashed; 0 = not taken yet (empty file)
  uint64_t hash = 0;    // FNV-1a 64 of those bytes

  friend bool operator==(const FileFingerprint&, const FileFingerprint&) = default;
};

// The stable id of one tailed file: device + inode + fingerprint.
struct FileKey {
  uint64_t device = 0;
  uint64_t inode = 0;
  FileFingerprint fingerprint;

  bool same_inode(const FileKey& other) const noexcept { return device == other.device && inode == other.inode; }
  friend bool operator==(const FileKey&, const FileKey&) = default;
};

// The types and helpers above this line are header-only, so agent/pipeline (CheckpointStore) can
// use FileKey without linking agent_sources; the syscall helpers below live in agent_sources.

// "DEV:INODE:LEN:HASH16", e.g. "2049:131077:64:9f2c...". Used in logs.
inline std::string to_string(const FileKey& key) {
  return fmt::format("{}:{}:{}:{:016x}", key.device, key.inode, key.fingerprint.length, key.fingerprint.hash);
}

struct FileKeyHash {
  std::size_t operator()(const FileKey& key) const noexcept {
    uint64_t h = key.fingerprint.hash;
    h ^= key.inode + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= key.device + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= key.fingerprint.length + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return static_cast<std::size_t>(h);
  }
};

// FNV-1a, 64 bit.
inline uint64_t fingerprint_hash(std::string_view bytes) noexcept {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

struct FileStat {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  uint64_t links = 0;  // 0: deleted while open
  bool regular = true;  // S_ISREG: only regular files are opened as candidate copies (a FIFO would block)
};

// stat(2)/fstat(2). Errors: kNotFound, kPermissionDenied, kIo.
[[nodiscard]] common::Result<FileStat> stat_path(const std::string& path);
[[nodiscard]] common::Result<FileStat> stat_fd(int fd);

// Hashes the first min(max_bytes, size) bytes of the open file (pread, offset untouched).
[[nodiscard]] common::Result<FileFingerprint> read_fingerprint(int fd, std::size_t max_bytes = kFingerprintBytes);

// True when the open file's first fingerprint.length bytes hash to fingerprint.hash (a file
// shorter than that does not match). A zero-length fingerprint matches any file.
[[nodiscard]] common::Result<bool> fingerprint_matches(int fd, const FileFingerprint& fingerprint);

// errno -> ErrorCode, and "what path: strerror" errors, shared by the tailer and the store.
common::ErrorCode error_code_for_errno(int err) noexcept;
common::Error errno_error(int err, std::string_view what, std::string_view path);

}  // namespace agent
