#include "common/http/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>

namespace common::http {
namespace {

// windowBits 15 (32 KiB window) + 16 selects the gzip wrapper instead of zlib's.
constexpr int kGzipWindowBits = 15 + 16;
constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMaxZlibIn = std::numeric_limits<uInt>::max();

unsigned char* bytes(std::string_view s) {
  // zlib's next_in is not const-qualified but it never writes through it.
  return const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(s.data()));
}

}  // namespace

std::string gzip_compress(std::string_view data, int level) {
  level = std::clamp(level, 0, 9);
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};  // only on out-of-memory; callers see an empty (invalid) body rather than a throw
  }
  std::string out;
  out.reserve(data.size() / 2 + 64);
  std::array<unsigned char, kChunk> buf{};
  std::string_view rest = data;
  int rc = Z_OK;
  do {
    const std::size_t take = std::min(rest.size(), kMaxZlibIn);
    zs.next_in = bytes(rest);
    zs.avail_in = static_cast<uInt>(take);
    rest.remove_prefix(take);
    const int flush = rest.empty() ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = buf.data();
      zs.avail_out = static_cast<uInt>(buf.size());
      rc = deflate(&zs, flush);
      out.append(reinterpret_cast<const char*>(buf.data()), buf.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  } while (!rest.empty() || rc != Z_STREAM_END);
  deflateEnd(&zs);
  return out;
}

Result<std::string> gzip_decompress(std::string_view data, std::size_t max_out) {
  if (data.empty()) return Error(ErrorCode::kParse, "gzip: empty input");
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK) return Error(ErrorCode::kInternal, "gzip: inflateInit2 failed");
  std::string out;
  std::array<unsigned char, kChunk> buf{};
  std::string_view rest = data;
  bool member_done = false;
  while (true) {
    if (zs.avail_in == 0 && !rest.empty()) {
      const std::size_t take = std::min(rest.size(), kMaxZlibIn);
      zs.next_in = bytes(rest);
      zs.avail_in = static_cast<uInt>(take);
      rest.remove_prefix(take);
    }
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = buf.size() - zs.avail_out;
    if (rc == Z_BUF_ERROR) break;  // no progress possible: the input ended mid-stream
    if (rc != Z_OK && rc != Z_STREAM_END) {
      std::string msg = zs.msg != nullptr ? zs.msg : "inflate error " + std::to_string(rc);
      inflateEnd(&zs);
      return Error(ErrorCode::kParse, "gzip: " + msg);
    }
    if (produced > max_out - out.size()) {
      inflateEnd(&zs);
      return Error(ErrorCode::kInvalidArgument, "gzip: output larger than " + std::to_string(max_out) + " bytes");
    }
    out.append(reinterpret_cast<const char*>(buf.data()), produced);
    if (rc == Z_STREAM_END) {
      member_done = true;
      if (zs.avail_in == 0 && rest.empty()) break;
      // Another gzip member follows (concatenation is valid gzip).
      if (inflateReset(&zs) != Z_OK) {
        inflateEnd(&zs);
        return Error(ErrorCode::kInternal, "gzip: inflateReset failed");
      }
      member_done = false;
      continue;
    }
    if (zs.avail_in == 0 && rest.empty() && produced == 0) break;  // input exhausted mid-stream
  }
  inflateEnd(&zs);
  if (!member_done) return Error(ErrorCode::kParse, "gzip: truncated input");
  return out;
}

}  // namespace common::http
