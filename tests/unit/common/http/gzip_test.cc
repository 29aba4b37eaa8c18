#include "common/http/gzip.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using common::ErrorCode;
using common::http::gzip_compress;
using common::http::gzip_decompress;

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string pseudo_random_text(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> word(0, 7);
  static const char* kWords[] = {"cpu ", "mem ", "audit ", "type=SYSCALL ", "uid=0 ", "\n", "42 ", "x"};
  std::string out;
  while (out.size() < n) out += kWords[word(rng)];
  out.resize(n);
  return out;
}

TEST(Gzip, RoundTripsAcrossSizesAndLevels) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{300'000}}) {
    for (int level : {0, 1, 6, 9}) {
      const std::string input = pseudo_random_text(size, static_cast<unsigned>(size) + 7);
      const std::string packed = gzip_compress(input, level);
      ASSERT_GE(packed.size(), 18u) << "header + trailer";
      EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);
      EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
      auto unpacked = gzip_decompress(packed, size + 1);
      ASSERT_TRUE(unpacked.ok()) << unpacked.error().to_string();
      EXPECT_EQ(*unpacked, input) << "size " << size << " level " << level;
    }
  }
}

TEST(Gzip, CompressesRepetitiveText) {
  const std::string input(100'000, 'a');
  EXPECT_LT(gzip_compress(input).size(), input.size() / 50);
}

TEST(Gzip, DecompressesOutputOfPythonGzip) {
  // python3 -c "import gzip; print(gzip.compress(b'hello world\n', mtime=0).hex())"
  const std::string golden = from_hex("1f8b0800000000000203cb48cdc9c95728cf2fca49e102002d3b08af0c000000");
  auto out = gzip_decompress(golden, 1024);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, "hello world\n");
}

TEST(Gzip, DecompressesConcatenatedMembers) {
  const std::string both = gzip_compress("first ") + gzip_compress("second");
  auto out = gzip_decompress(both, 1024);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_EQ(*out, "first second");
}

TEST(Gzip, RejectsOutputLargerThanLimit) {
  const std::string packed = gzip_compress(std::string(10'000, 'z'));
  auto out = gzip_decompress(packed, 9'999);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.error().message().find("9999"), std::string::npos);
  EXPECT_TRUE(gzip_decompress(packed, 10'000).ok());
}

TEST(Gzip, RejectsTruncatedInput) {
  const std::string packed = gzip_compress(pseudo_random_text(5000, 1));
  for (std::size_t keep : {std::size_t{1}, std::size_t{10}, packed.size() / 2, packed.size() - 1}) {
    auto out = gzip_decompress(std::string_view(packed).substr(0, keep), 1 << 20);
    ASSERT_FALSE(out.ok()) << "kept " << keep;
    EXPECT_EQ(out.error().code(), ErrorCode::kParse);
  }
}

TEST(Gzip, RejectsCorruptAndNonGzipInput) {
  std::string packed = gzip_compress(pseudo_random_text(5000, 2));
  packed[packed.size() - 6] = static_cast<char>(packed[packed.size() - 6] ^ 0x55);  // CRC32 trailer
  auto crc = gzip_decompress(packed, 1 << 20);
  ASSERT_FALSE(crc.ok());
  EXPECT_EQ(crc.error().code(), ErrorCode::kParse);

  auto plain = gzip_decompress("definitely not gzip", 1 << 20);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().code(), ErrorCode::kParse);

  auto empty = gzip_decompress("", 1 << 20);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kParse);
}

}  // namespace
