#include "common/config/environment.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace {

TEST(MapEnvironment, ReturnsSetValuesIncludingEmpty) {
  common::MapEnvironment env({{"AWS_REGION", "eu-west-1"}, {"EMPTY", ""}});
  EXPECT_EQ(env.get("AWS_REGION"), "eu-west-1");
  EXPECT_EQ(env.get("EMPTY"), "");
  EXPECT_EQ(env.get("AWS_PROFILE"), std::nullopt);
  env.set("AWS_PROFILE", "ops");
  EXPECT_EQ(env.get("AWS_PROFILE"), "ops");
}

TEST(ProcessEnvironment, ReadsTheRealEnvironment) {
  ASSERT_EQ(::setenv("TRAILWATCH_CONFIG_ENV_TEST", "value-42", 1), 0);
  common::ProcessEnvironment env;
  EXPECT_EQ(env.get("TRAILWATCH_CONFIG_ENV_TEST"), "value-42");
  ASSERT_EQ(::unsetenv("TRAILWATCH_CONFIG_ENV_TEST"), 0);
  EXPECT_EQ(env.get("TRAILWATCH_CONFIG_ENV_TEST"), std::nullopt);
}

}  // namespace
