#include "common/log/log.h"

#include <gtest/gtest.h>

#include "tests/support/log_capture.h"
#include "tests/support/manual_clock.h"

namespace {

using common::log::redact;

TEST(RedactTest, MasksAccessKeyIdsAfterEightCharacters) {
  EXPECT_EQ(redact("using AKIAIOSFODNN7EXAMPLE from env"), "using AKIAIOSF************ from env");
  EXPECT_EQ(redact("ASIAZZZZZZZZZZZZZZZZ"), "ASIAZZZZ************");
  // Not an id: too short, or lower case.
  EXPECT_EQ(redact("AKIA1234"), "AKIA1234");
}

TEST(RedactTest, MasksSecretValuesInCommonShapes) {
  EXPECT_EQ(redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "aws_secret_access_key = <redacted>");
  EXPECT_EQ(redact(R"({"SecretAccessKey":"abc/def+ghijklmnopqrstuvwxyz0123","Token":"IQoJb3JpZ2luX2VjEJ"})"),
            R"({"SecretAccessKey":"<redacted>","Token":"<redacted>"})");
  EXPECT_EQ(redact("X-Amz-Security-Token: FwoGZXIvYXdzEBYaDH"), "X-Amz-Security-Token: <redacted>");
  EXPECT_EQ(redact("Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
            "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, Signature=<redacted>");
  EXPECT_EQ(redact("x-aws-ec2-metadata-token: AQAEAFxyz0123456789abcdef=="), "x-aws-ec2-metadata-token: <redacted>");
}

TEST(RedactTest, LeavesOrdinaryTextAlone) {
  const std::string text = "metrics: 42 samples; token bucket at 500; signature verified";
  EXPECT_EQ(redact(text), text);
  const std::string curl = "PUT http://127.0.0.1:1/latest/api/token: Failed to connect to 127.0.0.1 port 1";
  EXPECT_EQ(redact(curl), curl);
}

TEST(RateLimiterTest, PassesBurstThenCountsAndReportsSuppressed) {
  tests::ManualClock clock;
  common::log::RateLimiter limiter(clock, std::chrono::seconds(60), 2);
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.allow("parse", &suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(limiter.allow("parse", &suppressed));
  EXPECT_FALSE(limiter.allow("parse", &suppressed));
  EXPECT_FALSE(limiter.allow("parse", &suppressed));
  EXPECT_FALSE(limiter.allow("parse", &suppressed));
  // Another key has its own budget.
  EXPECT_TRUE(limiter.allow("read", &suppressed));
  clock.advance(std::chrono::seconds(61));
  EXPECT_TRUE(limiter.allow("parse", &suppressed));
  EXPECT_EQ(suppressed, 3u);
  EXPECT_TRUE(limiter.allow("parse", &suppressed));
  EXPECT_EQ(suppressed, 0u);
}

TEST(RateLimiterTest, LogWritesTheLinesItPassesWithTheSuppressedCount) {
  tests::ManualClock clock;
  common::log::RateLimiter limiter(clock, std::chrono::seconds(60), 1);
  tests::LogCapture log;
  EXPECT_TRUE(limiter.log(spdlog::level::warn, "k", "spool write failed"));
  EXPECT_FALSE(limiter.log(spdlog::level::warn, "k", "spool write failed"));
  EXPECT_FALSE(limiter.log(spdlog::level::warn, "k", "spool write failed"));
  clock.advance(std::chrono::seconds(61));
  EXPECT_TRUE(limiter.log(spdlog::level::err, "k", "spool write failed again"));
  const std::string text = log.text();
  EXPECT_NE(text.find("spool write failed\n"), std::string::npos) << text;
  EXPECT_NE(text.find("spool write failed again (2 similar line(s) suppressed)"), std::string::npos) << text;
}

}  // namespace
