#include "common/clock/time_format.h"

#include <gtest/gtest.h>

namespace {

TEST(TimeFormatTest, Iso8601UtcWithAndWithoutMillis) {
  const common::WallTime t = common::WallTime(std::chrono::milliseconds(1440938160123));  // 2015-08-30T12:36:00.123Z
  EXPECT_EQ(common::format_iso8601(t), "2015-08-30T12:36:00.123Z");
  EXPECT_EQ(common::format_iso8601(t, false), "2015-08-30T12:36:00Z");
  EXPECT_EQ(common::format_iso8601(common::WallTime{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(common::format_iso8601(common::WallTime(std::chrono::milliseconds(-1))), "1969-12-31T23:59:59.999Z");
}

}  // namespace
