#include "common/result/result.h"

#include <gtest/gtest.h>

namespace {

common::Result<int> parse_positive(int v) {
  if (v <= 0) return common::Error(common::ErrorCode::kInvalidArgument, "not positive: " + std::to_string(v));
  return v;
}

common::Result<int> doubled(int v) {
  TW_TRY(parse_positive(v));
  return v * 2;
}

TEST(ResultTest, HoldsValueOrError) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), common::ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message(), "not positive: -1");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, TryPropagatesTheError) {
  EXPECT_EQ(*doubled(4), 8);
  auto r = doubled(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "not positive: 0");
}

TEST(ResultTest, WrapBuildsACauseChain) {
  common::Error inner(common::ErrorCode::kRemote, "http 403: AuthorizationError");
  common::Error outer = inner.wrap("publish failed");
  EXPECT_EQ(outer.to_string(), "publish failed <- http 403: AuthorizationError");
  EXPECT_EQ(outer.code(), common::ErrorCode::kRemote);
  ASSERT_NE(outer.cause(), nullptr);
  EXPECT_EQ(outer.cause()->message(), "http 403: AuthorizationError");
  EXPECT_EQ(outer.wrap(common::ErrorCode::kUnavailable, "flush").to_string(),
            "flush <- publish failed <- http 403: AuthorizationError");
}

TEST(ResultTest, StatusVoid) {
  common::Status s;
  EXPECT_TRUE(s.ok());
  common::Status e = common::Error(common::ErrorCode::kIo, "disk full");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error().to_string(), "disk full");
}

}  // namespace
