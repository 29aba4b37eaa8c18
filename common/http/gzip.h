// gzip (RFC 1952) helpers over zlib, for request bodies (S3 objects, CloudWatch payloads) and tests.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace common::http {

// Compresses `data` into a single gzip member. level: 0 (store) .. 9 (best); out-of-range values are clamped.
std::string gzip_compress(std::string_view data, int level = 6);

// Decompresses one or more concatenated gzip members. Fails with kParse on malformed or truncated input and
// with kInvalidArgument when the output would exceed `max_out` bytes (a guard against decompression bombs).
Result<std::string> gzip_decompress(std::string_view data, std::size_t max_out);

}  // namespace common::http
