#include "common/http/http_types.h"

#include <gtest/gtest.h>

namespace {

using common::http::find_header;
using common::http::Header;

TEST(FindHeader, MatchesNamesCaseInsensitively) {
  const std::vector<Header> headers = {{"Content-Type", "application/json"}, {"x-amz-request-id", "abc"}};
  EXPECT_EQ(find_header(headers, "content-type"), "application/json");
  EXPECT_EQ(find_header(headers, "X-Amz-Request-Id"), "abc");
}

TEST(FindHeader, ReturnsFirstOfRepeatedHeaders) {
  const std::vector<Header> headers = {{"Via", "a"}, {"via", "b"}};
  EXPECT_EQ(find_header(headers, "VIA"), "a");
}

TEST(FindHeader, AbsentOrPrefixIsNullopt) {
  const std::vector<Header> headers = {{"Content-Length", "3"}};
  EXPECT_FALSE(find_header(headers, "Content").has_value());
  EXPECT_FALSE(find_header(headers, "Content-Length2").has_value());
  EXPECT_FALSE(find_header({}, "Content-Length").has_value());
}

TEST(FindHeader, ResponseHeaderHelperUsesIt) {
  common::http::Response r;
  r.headers = {{"ETag", "\"x\""}};
  EXPECT_EQ(r.header("etag"), "\"x\"");
  EXPECT_FALSE(r.header("age").has_value());
}

}  // namespace
