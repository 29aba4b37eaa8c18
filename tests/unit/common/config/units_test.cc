#include "common/config/units.h"

#include <gtest/gtest.h>

#include <limits>

namespace {

using std::chrono::milliseconds;

struct DurationCase {
  const char* text;
  int64_t millis;
};

TEST(ParseDuration, AcceptsUnitsAndCompounds) {
  const DurationCase cases[] = {
      {"500ms", 500},       {"0ms", 0},           {"0s", 0},          {"10s", 10'000},
      {"1m", 60'000},       {"1h", 3'600'000},    {"1h30m", 5'400'000}, {"2d", 172'800'000},
      {"1m30s", 90'000},    {"1s500ms", 1'500},   {"90s", 90'000},    {"1d2h3m4s5ms", 93'784'005},
  };
  for (const auto& c : cases) {
    auto parsed = common::parse_duration(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error().to_string();
    EXPECT_EQ(parsed->count(), c.millis) << c.text;
  }
}

TEST(ParseDuration, BareNumberAsksForAUnit) {
  auto parsed = common::parse_duration("10");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message(), "expected a duration like \"10s\", got \"10\": add a unit (ms, s, m, h, d)");
  auto trailing = common::parse_duration("1h30");
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error().message().find("add a unit"), std::string::npos);
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* text : {"", "ten", "10x", "1.5s", "10 s", "s", "10S", "1hh", " 10s", "10s "}) {
    auto parsed = common::parse_duration(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().message().find("expected a duration like \"10s\""), std::string::npos)
        << parsed.error().message();
  }
}

TEST(ParseDuration, RejectsNegativeAndOverflow) {
  auto negative = common::parse_duration("-5s");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message().find("negative"), std::string::npos);
  auto huge = common::parse_duration("99999999999999999999d");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message().find("too large"), std::string::npos);
  auto sum = common::parse_duration("9223372036854775807ms1ms");
  ASSERT_FALSE(sum.ok());
  EXPECT_NE(sum.error().message().find("too large"), std::string::npos);
}

struct SizeCase {
  const char* text;
  uint64_t bytes;
};

TEST(ParseSize, AcceptsBinaryDecimalAndBytes) {
  const SizeCase cases[] = {
      {"64MiB", 64ull << 20}, {"1GiB", 1ull << 30}, {"512KiB", 512ull << 10}, {"2TiB", 2ull << 40},
      {"10MB", 10'000'000},   {"3KB", 3'000},       {"1GB", 1'000'000'000},  {"1TB", 1'000'000'000'000},
      {"100B", 100},          {"4096", 4096},       {"0", 0},                {"0B", 0},
  };
  for (const auto& c : cases) {
    auto parsed = common::parse_size(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.error().to_string();
    EXPECT_EQ(*parsed, c.bytes) << c.text;
  }
}

TEST(ParseSize, RejectsNegativeMalformedAndOverflow) {
  auto negative = common::parse_size("-5MiB");
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().message(), "a size cannot be negative, got \"-5MiB\"");
  for (const char* text : {"", "lots", "1.5MiB", "10mib", "10 MiB", "MiB", "10XB"}) {
    auto parsed = common::parse_size(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.error().message().find("expected a size like \"64MiB\""), std::string::npos) << text;
  }
  auto huge = common::parse_size("99999999TiB");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message().find("too large"), std::string::npos);
  EXPECT_FALSE(common::parse_size("99999999999999999999").ok());
}

TEST(FormatDuration, PicksLargestUnitsAndRoundTrips) {
  EXPECT_EQ(common::format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(common::format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(common::format_duration(milliseconds(60'000)), "1m");
  EXPECT_EQ(common::format_duration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(common::format_duration(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(common::format_duration(milliseconds(1'500)), "1s500ms");
  EXPECT_EQ(common::format_duration(milliseconds(-2'000)), "-2s");
  for (int64_t ms : {1LL, 999LL, 1'001LL, 61'000LL, 93'784'005LL, 9'000'000'000LL}) {
    auto back = common::parse_duration(common::format_duration(milliseconds(ms)));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->count(), ms);
  }
}

TEST(FormatSize, PicksLargestExactUnitAndRoundTrips) {
  EXPECT_EQ(common::format_size(0), "0B");
  EXPECT_EQ(common::format_size(100), "100B");
  EXPECT_EQ(common::format_size(64ull << 20), "64MiB");
  EXPECT_EQ(common::format_size(1ull << 30), "1GiB");
  EXPECT_EQ(common::format_size(10'000'000), "10MB");
  EXPECT_EQ(common::format_size(1'000), "1KB");
  EXPECT_EQ(common::format_size(2'048), "2KiB");
  EXPECT_EQ(common::format_size(1'000'001), "1000001B");
  for (uint64_t bytes : std::initializer_list<uint64_t>{1, 1023, 3ull << 40, 5000000000000, std::numeric_limits<uint64_t>::max()}) {
    auto back = common::parse_size(common::format_size(bytes));
    ASSERT_TRUE(back.ok()) << common::format_size(bytes);
    EXPECT_EQ(*back, bytes);
  }
}

}  // namespace
