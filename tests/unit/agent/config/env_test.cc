// AWS environment variables: the precedence AWS SDKs use, and the config file wins over all of them.
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"

namespace {

using Vars = std::map<std::string, std::string, std::less<>>;

agent::AgentConfig load(std::string_view yaml, Vars vars, agent::ConfigLoad* out = nullptr) {
  common::MapEnvironment env(std::move(vars));
  agent::ConfigLoad result = agent::load_config_text(yaml, "env.yaml", env);
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.config.has_value()) << errors;
  agent::AgentConfig config = result.config.value_or(agent::AgentConfig{});
  if (out != nullptr) *out = std::move(result);
  return config;
}

TEST(EnvRegion, AwsRegionBeatsDefaultRegion) {
  auto c = load("{}", {{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-east-2"}});
  EXPECT_EQ(c.aws.region, "eu-west-1");
  EXPECT_EQ(c.sources.at("aws.region"), "env AWS_REGION");
}

TEST(EnvRegion, DefaultRegionWhenAwsRegionUnsetOrEmpty) {
  EXPECT_EQ(load("{}", {{"AWS_DEFAULT_REGION", "us-east-2"}}).aws.region, "us-east-2");
  auto c = load("{}", {{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "us-east-2"}});
  EXPECT_EQ(c.aws.region, "us-east-2");
  EXPECT_EQ(c.sources.at("aws.region"), "env AWS_DEFAULT_REGION");
}

TEST(EnvRegion, ConfigWinsOverEnvironment) {
  auto c = load("aws: {region: ap-south-1}", {{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-east-2"}});
  EXPECT_EQ(c.aws.region, "ap-south-1");
  EXPECT_EQ(c.sources.at("aws.region"), "config");
}

TEST(EnvRegion, NothingSetLeavesItEmptyAndUnlisted) {
  auto c = load("{}", {});
  EXPECT_EQ(c.aws.region, "");
  EXPECT_EQ(c.sources.count("aws.region"), 0u);
}

TEST(EnvProfile, AwsProfileFillsProfileUnlessConfigured) {
  EXPECT_EQ(load("{}", {{"AWS_PROFILE", "ops"}}).aws.profile, "ops");
  EXPECT_EQ(load("aws: {profile: dev}", {{"AWS_PROFILE", "ops"}}).aws.profile, "dev");
}

TEST(EnvEndpoints, ServiceVariableBeatsGlobalWhichFillsTheRest) {
  auto c = load("{}", {{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
                       {"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"},
                       {"AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "https://logs.example.test"}});
  EXPECT_EQ(c.aws.endpoints.s3, "http://127.0.0.1:9000");
  EXPECT_EQ(c.aws.endpoints.cloudwatch_logs, "https://logs.example.test");
  EXPECT_EQ(c.aws.endpoints.cloudwatch, "http://127.0.0.1:4566");
  EXPECT_EQ(c.aws.endpoints.cloudtrail_data, "http://127.0.0.1:4566");
  EXPECT_EQ(c.aws.endpoints.sns, "http://127.0.0.1:4566");
  EXPECT_EQ(c.aws.endpoints.sts, "http://127.0.0.1:4566");
  EXPECT_EQ(c.sources.at("aws.endpoints.s3"), "env AWS_ENDPOINT_URL_S3");
  EXPECT_EQ(c.sources.at("aws.endpoints.sns"), "env AWS_ENDPOINT_URL");
}

TEST(EnvEndpoints, EachServiceHasItsOwnVariable) {
  auto c = load("{}", {{"AWS_ENDPOINT_URL_CLOUDWATCH", "http://cw"},
                       {"AWS_ENDPOINT_URL_CLOUDTRAIL_DATA", "http://ct"},
                       {"AWS_ENDPOINT_URL_SNS", "http://sns"},
                       {"AWS_ENDPOINT_URL_STS", "http://sts"}});
  EXPECT_EQ(c.aws.endpoints.cloudwatch, "http://cw");
  EXPECT_EQ(c.aws.endpoints.cloudtrail_data, "http://ct");
  EXPECT_EQ(c.aws.endpoints.sns, "http://sns");
  EXPECT_EQ(c.aws.endpoints.sts, "http://sts");
  EXPECT_EQ(c.aws.endpoints.s3, "");
}

TEST(EnvEndpoints, ConfigEndpointWinsOverBothVariables) {
  auto c = load("aws:\n  endpoints:\n    s3: http://from-config\n",
                {{"AWS_ENDPOINT_URL", "http://global"}, {"AWS_ENDPOINT_URL_S3", "http://service"}});
  EXPECT_EQ(c.aws.endpoints.s3, "http://from-config");
  EXPECT_EQ(c.aws.endpoints.sns, "http://global");
  EXPECT_EQ(c.sources.at("aws.endpoints.s3"), "config");
}

TEST(EnvEndpoints, IgnoreConfiguredEndpointUrlsDropsBothVariablesButNotTheFile) {
  auto c = load("aws:\n  endpoints:\n    sts: http://from-config\n",
                {{"AWS_ENDPOINT_URL", "http://global"},
                 {"AWS_ENDPOINT_URL_S3", "http://service"},
                 {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
  EXPECT_EQ(c.aws.endpoints.s3, "");
  EXPECT_EQ(c.aws.endpoints.cloudwatch, "");
  EXPECT_EQ(c.aws.endpoints.sts, "http://from-config");
  auto not_ignored = load("{}", {{"AWS_ENDPOINT_URL", "http://global"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}});
  EXPECT_EQ(not_ignored.aws.endpoints.s3, "http://global");
}

TEST(EnvEndpoints, MalformedVariableIsAnErrorNamingTheVariable) {
  common::MapEnvironment env({{"AWS_ENDPOINT_URL_SNS", "localhost:4566"}});
  agent::ConfigLoad result = agent::load_config_text("{}", "env.yaml", env);
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            "env.yaml: aws.endpoints.sns: from AWS_ENDPOINT_URL_SNS: expected a URL starting with http:// or "
            "https://, got \"localhost:4566\"");
}

TEST(EnvImds, MetadataDisabledTurnsImdsOffUnlessConfigured) {
  EXPECT_FALSE(load("{}", {{"AWS_EC2_METADATA_DISABLED", "true"}}).aws.imds.enabled);
  EXPECT_FALSE(load("{}", {{"AWS_EC2_METADATA_DISABLED", "TRUE"}}).aws.imds.enabled);
  EXPECT_TRUE(load("{}", {{"AWS_EC2_METADATA_DISABLED", "false"}}).aws.imds.enabled);
  EXPECT_TRUE(load("aws: {imds: {enabled: true}}", {{"AWS_EC2_METADATA_DISABLED", "true"}}).aws.imds.enabled);
  EXPECT_FALSE(load("aws: {imds: {enabled: false}}", {}).aws.imds.enabled);
}

TEST(EnvImds, ServiceEndpointAndV1Switch) {
  auto c = load("{}", {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338"},
                       {"AWS_EC2_METADATA_V1_DISABLED", "false"}});
  EXPECT_EQ(c.aws.imds.endpoint, "http://127.0.0.1:1338");
  EXPECT_TRUE(c.aws.imds.allow_imdsv1);
  EXPECT_FALSE(load("{}", {{"AWS_EC2_METADATA_V1_DISABLED", "true"}}).aws.imds.allow_imdsv1);
  auto configured = load("aws: {imds: {endpoint: \"http://10.0.0.1\", allow_imdsv1: false}}",
                         {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338"},
                          {"AWS_EC2_METADATA_V1_DISABLED", "false"}});
  EXPECT_EQ(configured.aws.imds.endpoint, "http://10.0.0.1");
  EXPECT_FALSE(configured.aws.imds.allow_imdsv1);
}

TEST(EnvMisc, CaBundleFipsDualstack) {
  auto c = load("{}", {{"AWS_CA_BUNDLE", "/etc/pki/ca.pem"},
                       {"AWS_USE_FIPS_ENDPOINT", "true"},
                       {"AWS_USE_DUALSTACK_ENDPOINT", "true"}});
  EXPECT_EQ(c.aws.ca_bundle, "/etc/pki/ca.pem");
  EXPECT_TRUE(c.aws.use_fips);
  EXPECT_TRUE(c.aws.use_dualstack);
  auto configured = load("aws: {use_fips: false, ca_bundle: /opt/ca.pem}",
                         {{"AWS_USE_FIPS_ENDPOINT", "true"}, {"AWS_CA_BUNDLE", "/etc/pki/ca.pem"}});
  EXPECT_FALSE(configured.aws.use_fips);
  EXPECT_EQ(configured.aws.ca_bundle, "/opt/ca.pem");
}

TEST(EnvMisc, UppercaseProxyVariablesBeatLowercase) {
  auto c = load("{}", {{"HTTPS_PROXY", "http://upper:3128"}, {"https_proxy", "http://lower:3128"},
                       {"NO_PROXY", "upper.local"}, {"no_proxy", "lower.local"}});
  EXPECT_EQ(c.aws.proxy, "http://upper:3128");
  EXPECT_EQ(c.aws.no_proxy, "upper.local");
  auto lower = load("{}", {{"https_proxy", "http://lower:3128"}, {"no_proxy", "lower.local"}});
  EXPECT_EQ(lower.aws.proxy, "http://lower:3128");
  EXPECT_EQ(lower.aws.no_proxy, "lower.local");
  EXPECT_EQ(lower.sources.at("aws.proxy"), "env https_proxy");
  EXPECT_EQ(load("aws: {proxy: \"http://cfg:1\"}", {{"HTTPS_PROXY", "http://upper:3128"}}).aws.proxy, "http://cfg:1");
}

TEST(EnvMisc, UnparseableBooleanIsIgnoredWithAWarning) {
  agent::ConfigLoad result;
  auto c = load("{}", {{"AWS_USE_FIPS_ENDPOINT", "sometimes"}}, &result);
  EXPECT_FALSE(c.aws.use_fips);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0].to_string(),
            "env.yaml: aws.use_fips: ignoring AWS_USE_FIPS_ENDPOINT=\"sometimes\": expected true or false");
}

}  // namespace
