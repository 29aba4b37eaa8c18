// common::http::gzip_decompress over arbitrary bytes with a small output cap (the first byte picks
// it: 0..255 * 256 bytes), plus gzip_compress of the input. Checks: output never exceeds the cap;
// a decompressed result compresses and decompresses back to itself; compressing the input at any
// level decompresses back to the input (and fails cleanly when the cap is too small).
#include <string>

#include "common/http/gzip.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = tests::fuzz::as_text(data, size);
  std::size_t max_out = 64 * 1024;
  int level = 6;
  if (!input.empty()) {
    const auto knob = static_cast<unsigned char>(input.front());
    // 0x1f is gzip's first magic byte: keep it so plain .gz seeds work with the default cap.
    if (knob != 0x1f) {
      max_out = std::size_t{knob} * 256;
      level = knob % 10;
      input.remove_prefix(1);
    }
  }

  auto out = common::http::gzip_decompress(input, max_out);
  if (out.ok()) {
    FUZZ_CHECK(out->size() <= max_out);
    auto back = common::http::gzip_decompress(common::http::gzip_compress(*out, level), max_out);
    FUZZ_CHECK(back.ok() && *back == *out);
  }

  const std::string packed = common::http::gzip_compress(input, level);
  auto unpacked = common::http::gzip_decompress(packed, input.size());
  FUZZ_CHECK(unpacked.ok() && *unpacked == input);
  if (!input.empty()) {
    auto capped = common::http::gzip_decompress(packed, input.size() - 1);
    FUZZ_CHECK(!capped.ok() && capped.error().code() == common::ErrorCode::kInvalidArgument);
  }
  return 0;
}
