#include "common/aws/endpoints.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using common::aws::EndpointOptions;
using common::aws::resolve_endpoint;
using common::aws::Service;

std::string url_of(Service s, std::string_view region, EndpointOptions o = {}) {
  auto ep = resolve_endpoint(s, region, o);
  EXPECT_TRUE(ep.ok()) << region;
  return ep.ok() ? ep->url : std::string();
}

TEST(EndpointsTest, SigningNames) {
  EXPECT_EQ(common::aws::signing_name(Service::kCloudWatch), "monitoring");
  EXPECT_EQ(common::aws::signing_name(Service::kCloudWatchLogs), "logs");
  EXPECT_EQ(common::aws::signing_name(Service::kCloudTrailData), "cloudtrail-data");
  EXPECT_EQ(common::aws::signing_name(Service::kS3), "s3");
  EXPECT_EQ(common::aws::signing_name(Service::kSns), "sns");
  EXPECT_EQ(common::aws::signing_name(Service::kSts), "sts");
}

TEST(EndpointsTest, CommercialDefaults) {
  auto ep = resolve_endpoint(Service::kCloudWatch, "eu-west-1");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "https://monitoring.eu-west-1.amazonaws.com");
  EXPECT_EQ(ep->signing_region, "eu-west-1");
  EXPECT_EQ(ep->signing_name, "monitoring");
  EXPECT_EQ(ep->partition, "aws");
  EXPECT_FALSE(ep->overridden);
  EXPECT_EQ(url_of(Service::kCloudTrailData, "us-east-1"), "https://cloudtrail-data.us-east-1.amazonaws.com");
  EXPECT_EQ(url_of(Service::kCloudWatchLogs, "ap-southeast-2"), "https://logs.ap-southeast-2.amazonaws.com");
  EXPECT_EQ(url_of(Service::kSts, "us-west-2"), "https://sts.us-west-2.amazonaws.com");
  EXPECT_EQ(url_of(Service::kS3, "us-east-1"), "https://s3.us-east-1.amazonaws.com");
}

TEST(EndpointsTest, FipsAndDualStack) {
  EXPECT_EQ(url_of(Service::kSns, "us-east-1", {true, false, ""}), "https://sns-fips.us-east-1.amazonaws.com");
  EXPECT_EQ(url_of(Service::kCloudWatch, "us-east-2", {false, true, ""}), "https://monitoring.us-east-2.api.aws");
  EXPECT_EQ(url_of(Service::kCloudWatchLogs, "us-west-2", {true, true, ""}), "https://logs-fips.us-west-2.api.aws");
  EXPECT_EQ(url_of(Service::kS3, "us-west-2", {true, false, ""}), "https://s3-fips.us-west-2.amazonaws.com");
  EXPECT_EQ(url_of(Service::kS3, "us-west-2", {false, true, ""}), "https://s3.dualstack.us-west-2.amazonaws.com");
  EXPECT_EQ(url_of(Service::kS3, "us-west-2", {true, true, ""}), "https://s3-fips.dualstack.us-west-2.amazonaws.com");
}

TEST(EndpointsTest, China) {
  auto ep = resolve_endpoint(Service::kCloudWatch, "cn-north-1");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "https://monitoring.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(ep->partition, "aws-cn");
  EXPECT_EQ(url_of(Service::kSns, "cn-northwest-1", {false, true, ""}),
            "https://sns.cn-northwest-1.api.amazonwebservices.com.cn");
  EXPECT_EQ(url_of(Service::kS3, "cn-north-1", {false, true, ""}), "https://s3.dualstack.cn-north-1.amazonaws.com.cn");
}

TEST(EndpointsTest, GovCloudFipsExceptions) {
  auto ep = resolve_endpoint(Service::kCloudWatch, "us-gov-west-1", {true, false, ""});
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "https://monitoring.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(ep->partition, "aws-us-gov");
  EXPECT_EQ(url_of(Service::kSns, "us-gov-east-1", {true, false, ""}), "https://sns.us-gov-east-1.amazonaws.com");
  EXPECT_EQ(url_of(Service::kSts, "us-gov-east-1", {true, false, ""}), "https://sts.us-gov-east-1.amazonaws.com");
  EXPECT_EQ(url_of(Service::kCloudWatchLogs, "us-gov-west-1", {true, false, ""}),
            "https://logs.us-gov-west-1.amazonaws.com");
  // S3 keeps its -fips host in GovCloud; FIPS + dual-stack keeps -fips too.
  EXPECT_EQ(url_of(Service::kS3, "us-gov-west-1", {true, false, ""}), "https://s3-fips.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(url_of(Service::kCloudWatch, "us-gov-west-1", {true, true, ""}),
            "https://monitoring-fips.us-gov-west-1.api.aws");
  EXPECT_EQ(url_of(Service::kCloudWatch, "us-gov-west-1"), "https://monitoring.us-gov-west-1.amazonaws.com");
}

TEST(EndpointsTest, OverrideWins) {
  auto ep = resolve_endpoint(Service::kSns, "us-east-1", {true, true, "http://127.0.0.1:4566/"});
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, "http://127.0.0.1:4566");
  EXPECT_TRUE(ep->overridden);
  EXPECT_EQ(ep->signing_region, "us-east-1");
  EXPECT_EQ(ep->signing_name, "sns");
  EXPECT_FALSE(resolve_endpoint(Service::kSns, "us-east-1", {false, false, "127.0.0.1:4566"}).ok());
  EXPECT_FALSE(resolve_endpoint(Service::kSns, "us-east-1", {false, false, "http://h/path"}).ok());
  EXPECT_FALSE(resolve_endpoint(Service::kSns, "us-east-1", {false, false, "ftp://h"}).ok());
  // An override does not excuse a bad region: it is still the signing region.
  EXPECT_FALSE(resolve_endpoint(Service::kSns, "nowhere", {false, false, "http://h"}).ok());
}

TEST(EndpointsTest, InvalidRegions) {
  for (const char* r : {"", "US-EAST-1", "us-east1", "useast-1", "us-east-1-fips", "fips-us-east-1", "aws-global",
                        "us_east_1", "us-east-1 ", "us-east-", "-us-east-1", "us..east-1"}) {
    auto ep = resolve_endpoint(Service::kCloudWatch, r);
    EXPECT_FALSE(ep.ok()) << '"' << r << '"';
    if (!ep.ok()) {
      EXPECT_EQ(ep.error().code(), common::ErrorCode::kInvalidArgument);
    }
  }
  EXPECT_TRUE(common::aws::is_valid_region("eu-isoe-west-1"));
  EXPECT_TRUE(common::aws::is_valid_region("us-gov-west-1"));
}

TEST(EndpointsTest, Partitions) {
  EXPECT_EQ(common::aws::partition_of("us-east-1"), "aws");
  EXPECT_EQ(common::aws::partition_of("il-central-1"), "aws");
  EXPECT_EQ(common::aws::partition_of("cn-northwest-1"), "aws-cn");
  EXPECT_EQ(common::aws::partition_of("us-gov-east-1"), "aws-us-gov");
  EXPECT_EQ(common::aws::partition_of("us-iso-east-1"), "aws-iso");
  EXPECT_EQ(common::aws::partition_of("us-isob-east-1"), "aws-iso-b");
  EXPECT_EQ(common::aws::partition_of("eusc-de-east-1"), "aws-eusc");
  EXPECT_EQ(url_of(Service::kSts, "us-iso-east-1"), "https://sts.us-iso-east-1.c2s.ic.gov");
  EXPECT_FALSE(resolve_endpoint(Service::kSts, "us-iso-east-1", {false, true, ""}).ok());
}

TEST(EndpointsTest, S3ObjectUrls) {
  auto ep = resolve_endpoint(Service::kS3, "us-east-1");
  ASSERT_TRUE(ep.ok());
  const std::string key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/06/01/x_20260601T1205Z_k3J9.json.gz";
  EXPECT_EQ(common::aws::s3_object_url(*ep, "amzn-s3-demo-bucket", key).value_or(""),
            "https://amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com/" + key);
  EXPECT_EQ(common::aws::s3_object_url(*ep, "amzn-s3-demo-bucket", key, true).value_or(""),
            "https://s3.us-east-1.amazonaws.com/amzn-s3-demo-bucket/" + key);
  EXPECT_EQ(common::aws::s3_object_url(*ep, "my.dotted.bucket", "a b$c").value_or(""),
            "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/a%20b%24c");
  auto local = resolve_endpoint(Service::kS3, "us-east-1", {false, false, "http://127.0.0.1:9000"});
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(common::aws::s3_object_url(*local, "bucket", "/k").value_or(""), "http://127.0.0.1:9000/bucket/k");
  for (const char* bad : {"ab", "Bucket", "-bucket", "bucket-", "bu_cket", ""}) {
    EXPECT_FALSE(common::aws::s3_object_url(*ep, bad, "k").ok()) << bad;
  }
  EXPECT_FALSE(common::aws::s3_object_url(*ep, "bucket", "").ok());
}

TEST(EndpointsTest, RegionDisplayNames) {
  EXPECT_EQ(common::aws::region_display_name("us-east-1"), "US East (N. Virginia)");
  EXPECT_EQ(common::aws::region_display_name("eu-west-1"), "Europe (Ireland)");
  EXPECT_EQ(common::aws::region_display_name("us-gov-west-1"), "AWS GovCloud (US-West)");
  EXPECT_EQ(common::aws::region_display_name("mx-central-1"), "Mexico (Central)");
  EXPECT_FALSE(common::aws::region_display_name("xx-nowhere-9").has_value());
  const auto& regions = common::aws::known_regions();
  EXPECT_GE(regions.size(), 30u);
  EXPECT_TRUE(std::is_sorted(regions.begin(), regions.end(),
                             [](const auto& a, const auto& b) { return a.code < b.code; }));
  for (const auto& r : regions) {
    EXPECT_TRUE(common::aws::is_valid_region(r.code)) << r.code;
    EXPECT_EQ(common::aws::region_display_name(r.code), r.display_name);
    EXPECT_TRUE(resolve_endpoint(Service::kCloudWatch, r.code).ok()) << r.code;
  }
}

}  // namespace
