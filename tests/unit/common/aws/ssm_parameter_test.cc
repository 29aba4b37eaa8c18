// SSM GetParameter pieces: the request (golden bytes and headers), the response (the API reference's
// shape), parameter names, the ARN's region and the cache file name.
#include "common/aws/ssm_parameter.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using common::aws::Service;

TEST(SsmParameter, RequestBodyIsTheJson11Shape) {
  EXPECT_EQ(common::aws::encode_get_parameter_request("/trailwatch/fleet"),
            R"({"Name":"/trailwatch/fleet","WithDecryption":true})");
  EXPECT_EQ(common::aws::encode_get_parameter_request("a\"b", false), R"({"Name":"a\"b","WithDecryption":false})");
}

TEST(SsmParameter, CallIsSignedForSsmWithTheTargetHeader) {
  auto endpoint = common::aws::resolve_endpoint(Service::kSsm, "eu-west-1");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->url, "https://ssm.eu-west-1.amazonaws.com");
  EXPECT_EQ(endpoint->signing_name, "ssm");
  const common::aws::AwsCall call = common::aws::get_parameter_call(*endpoint, "/trailwatch/fleet");
  EXPECT_EQ(call.service, Service::kSsm);
  EXPECT_EQ(call.region, "eu-west-1");
  EXPECT_EQ(call.endpoint, "https://ssm.eu-west-1.amazonaws.com");
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.path, "/");
  EXPECT_EQ(call.operation, "GetParameter");
  EXPECT_FALSE(call.gzip_body);
  ASSERT_EQ(call.headers.size(), 2u);
  EXPECT_EQ(call.headers[0].name, "Content-Type");
  EXPECT_EQ(call.headers[0].value, "application/x-amz-json-1.1");
  EXPECT_EQ(call.headers[1].name, "X-Amz-Target");
  EXPECT_EQ(call.headers[1].value, "AmazonSSM.GetParameter");
  EXPECT_EQ(call.body, R"({"Name":"/trailwatch/fleet","WithDecryption":true})");
}

TEST(SsmParameter, EndpointVariantsAndOverride) {
  auto fips = common::aws::resolve_endpoint(Service::kSsm, "us-east-1", {true, false, ""});
  ASSERT_TRUE(fips.ok());
  EXPECT_EQ(fips->url, "https://ssm-fips.us-east-1.amazonaws.com");
  auto cn = common::aws::resolve_endpoint(Service::kSsm, "cn-north-1");
  ASSERT_TRUE(cn.ok());
  EXPECT_EQ(cn->url, "https://ssm.cn-north-1.amazonaws.com.cn");
  auto local = common::aws::resolve_endpoint(Service::kSsm, "us-east-1", {false, false, "http://127.0.0.1:4566/"});
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->url, "http://127.0.0.1:4566");
  EXPECT_EQ(local->signing_name, "ssm");
}

TEST(SsmParameter, ParsesTheDocumentedResponse) {
  // API_GetParameter.html, example response (SecureString with WithDecryption).
  const std::string body = R"({"Parameter":{"ARN":"arn:aws:ssm:us-east-2:111122223333:parameter/MyGitHubPassword",
    "DataType":"text","LastModifiedDate":1582657288.8,"Name":"MyGitHubPassword","Type":"SecureString",
    "Value":"Th1s1sMyP@ssW0rd","Version":3}})";
  auto p = common::aws::parse_get_parameter_response(body);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(p->name, "MyGitHubPassword");
  EXPECT_EQ(p->type, "SecureString");
  EXPECT_EQ(p->value, "Th1s1sMyP@ssW0rd");
  EXPECT_EQ(p->version, 3);
  EXPECT_EQ(p->arn, "arn:aws:ssm:us-east-2:111122223333:parameter/MyGitHubPassword");
  ASSERT_TRUE(p->last_modified.has_value());
  EXPECT_DOUBLE_EQ(*p->last_modified, 1582657288.8);
}

TEST(SsmParameter, ParsesAMultiLineYamlValue) {
  auto p = common::aws::parse_get_parameter_response(
      R"({"Parameter":{"Name":"/trailwatch/fleet","Type":"String","Value":"metrics:\n  interval: 10s\n","Version":1}})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->value, "metrics:\n  interval: 10s\n");
  EXPECT_FALSE(p->last_modified.has_value());
}

TEST(SsmParameter, RejectsResponsesWithoutAValue) {
  for (const char* body : {"", "[]", "not json", R"({"Parameters":[]})", R"({"Parameter":{"Name":"x"}})",
                           R"({"Parameter":{"Value":3}})", R"({"Parameter":"x"})"}) {
    auto p = common::aws::parse_get_parameter_response(body);
    ASSERT_FALSE(p.ok()) << body;
    EXPECT_EQ(p.error().code(), common::ErrorCode::kRemote) << body;
    EXPECT_NE(p.error().to_string().find("GetParameter response"), std::string::npos);
  }
}

TEST(SsmParameter, NameProblems) {
  for (const char* ok : {"/trailwatch/fleet", "fleet", "fleet.v2-a_b", "/trailwatch/fleet:3", "/trailwatch/fleet:prod",
                         "arn:aws:ssm:us-east-1:123456789012:parameter/trailwatch/fleet",
                         "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/fleet"}) {
    EXPECT_EQ(common::aws::ssm_parameter_name_problem(ok), "") << ok;
  }
  for (const char* bad : {"", "/bad name", "a//b", "/aws/fleet", "ssm-fleet", "/x:", "/x:1:2",
                          "arn:aws:s3:::bucket/key", "arn:aws:ssm:nowhere:1:parameter/x"}) {
    EXPECT_NE(common::aws::ssm_parameter_name_problem(bad), "") << bad;
  }
  EXPECT_NE(common::aws::ssm_parameter_name_problem(std::string(2049, 'a')), "");
}

TEST(SsmParameter, RegionFromArn) {
  EXPECT_EQ(common::aws::ssm_region_from_arn("arn:aws:ssm:eu-central-1:123456789012:parameter/trailwatch/fleet"),
            "eu-central-1");
  EXPECT_EQ(common::aws::ssm_region_from_arn("/trailwatch/fleet"), "");
  EXPECT_EQ(common::aws::ssm_region_from_arn("arn:aws:sns:eu-central-1:123456789012:topic"), "");
  EXPECT_EQ(common::aws::ssm_region_from_arn("arn:aws:ssm:EU:1:parameter/x"), "");
}

TEST(SsmParameter, CacheFileNames) {
  // Golden: sha256("/trailwatch/fleet") starts bea0a096.
  EXPECT_EQ(common::aws::ssm_cache_file_name("/trailwatch/fleet"), "trailwatch_fleet-bea0a096.yaml");
  // Two names that sanitize alike still get their own files.
  EXPECT_EQ(common::aws::ssm_cache_file_name("/a/b"), "a_b-662b7b62.yaml");
  EXPECT_EQ(common::aws::ssm_cache_file_name("/a_b"), "a_b-328ff01f.yaml");
  // ARNs and selectors: only safe characters, never a path separator or a leading dot.
  const std::string arn = common::aws::ssm_cache_file_name("arn:aws:ssm:us-east-1:123456789012:parameter/x:3");
  EXPECT_EQ(arn.find('/'), std::string::npos);
  EXPECT_EQ(arn.find(':'), std::string::npos);
  EXPECT_TRUE(arn.starts_with("arn_aws_ssm_us-east-1_123456789012_parameter_x_3-")) << arn;
  EXPECT_TRUE(common::aws::ssm_cache_file_name("/../..").starts_with("parameter-"));
  // Long names are cut: stem of 80, "-", 8 hex, ".yaml".
  EXPECT_EQ(common::aws::ssm_cache_file_name("/" + std::string(500, 'n')).size(), 80u + 1 + 8 + 5);
}

}  // namespace
