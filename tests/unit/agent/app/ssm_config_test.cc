// `--config ssm:NAME` without the network: the argument, the bootstrap AWS settings, validating a
// fetched value (errors name ssm:NAME with line and key), the cache (0600, atomic, kept on refusal).
#include "agent/app/ssm_config.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace {

common::aws::SsmParameter parameter(std::string value, std::int64_t version = 1) {
  common::aws::SsmParameter p;
  p.name = "/trailwatch/fleet";
  p.type = "SecureString";
  p.value = std::move(value);
  p.version = version;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr const char* kGood = "metrics:\n  interval: 10s\nlocal:\n  path: out.jsonl\n";
constexpr const char* kBad = "metrics:\n  interval: sixty\n";

TEST(SsmConfig, RecognisesTheSsmPrefix) {
  EXPECT_EQ(agent::ssm_parameter_of("ssm:/trailwatch/fleet"), "/trailwatch/fleet");
  EXPECT_EQ(agent::ssm_parameter_of("ssm:arn:aws:ssm:us-east-1:1:parameter/x"), "arn:aws:ssm:us-east-1:1:parameter/x");
  EXPECT_FALSE(agent::ssm_parameter_of("/etc/trailwatch/trailwatch.yaml").has_value());
  EXPECT_FALSE(agent::ssm_parameter_of("./ssm:x").has_value());
}

TEST(SsmConfig, CachePathIsUnderTheStateDir) {
  EXPECT_EQ(agent::ssm_cache_path("/var/lib/trailwatch", "/trailwatch/fleet"),
            "/var/lib/trailwatch/ssm-config-cache/trailwatch_fleet-bea0a096.yaml");
}

TEST(SsmConfig, BootstrapSettingsComeFromTheEnvironment) {
  common::MapEnvironment env{{"AWS_REGION", "eu-west-1"}, {"AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9"}};
  auto aws = agent::ssm_bootstrap_aws_config("/trailwatch/fleet", env);
  ASSERT_TRUE(aws.ok()) << aws.error().to_string();
  EXPECT_EQ(aws->region, "eu-west-1");
  EXPECT_EQ(aws->endpoints.ssm, "http://127.0.0.1:9");
  // The ARN's region wins over the environment's.
  aws = agent::ssm_bootstrap_aws_config("arn:aws:ssm:ap-south-1:123456789012:parameter/trailwatch/fleet", env);
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->region, "ap-south-1");
  // The generic override applies when the SSM one is absent.
  common::MapEnvironment generic{{"AWS_ENDPOINT_URL", "http://127.0.0.1:8"}};
  aws = agent::ssm_bootstrap_aws_config("/x", generic);
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->endpoints.ssm, "http://127.0.0.1:8");
  EXPECT_EQ(aws->region, "");  // IMDS gives it at fetch time
}

TEST(SsmConfig, BootstrapRefusesBadNamesAndSettings) {
  common::MapEnvironment env;
  auto bad_name = agent::ssm_bootstrap_aws_config("/bad name", env);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.error().code(), common::ErrorCode::kConfig);
  EXPECT_NE(bad_name.error().to_string().find("ssm:/bad name"), std::string::npos);
  common::MapEnvironment bad_url{{"AWS_ENDPOINT_URL_SSM", "ftp://x"}};
  auto bad_env = agent::ssm_bootstrap_aws_config("/x", bad_url);
  ASSERT_FALSE(bad_env.ok());
  EXPECT_NE(bad_env.error().to_string().find("AWS_ENDPOINT_URL_SSM"), std::string::npos);
}

TEST(SsmConfig, AValidFetchIsCachedWith0600) {
  tests::TempDir dir;
  common::MapEnvironment env;
  agent::FetchedConfig got = agent::accept_fetched_config("/trailwatch/fleet", parameter(kGood), dir.path(), env);
  ASSERT_TRUE(got.load.config.has_value());
  EXPECT_TRUE(got.cache_warning.empty()) << got.cache_warning;
  EXPECT_EQ(got.cache_path, agent::ssm_cache_path(dir.path(), "/trailwatch/fleet"));
  EXPECT_EQ(read_file(got.cache_path), kGood);
  struct stat st {};
  ASSERT_EQ(::stat(got.cache_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(got.cache_path + ".tmp"));
  // Relative paths resolve against the state dir, not "ssm:/trailwatch".
  EXPECT_EQ(got.load.config->local.path, dir.path() + "/out.jsonl");

  auto cached = agent::load_cached_config("/trailwatch/fleet", dir.path(), env);
  ASSERT_TRUE(cached.has_value());
  ASSERT_TRUE(cached->load.config.has_value());
  EXPECT_EQ(cached->load.config->metrics.interval, std::chrono::seconds(10));
  EXPECT_LT(cached->age, std::chrono::seconds(60));
}

TEST(SsmConfig, AnInvalidFetchIsRefusedAndTheCacheKept) {
  tests::TempDir dir;
  common::MapEnvironment env;
  ASSERT_TRUE(agent::accept_fetched_config("/trailwatch/fleet", parameter(kGood), dir.path(), env).load.config);
  agent::FetchedConfig bad = agent::accept_fetched_config("/trailwatch/fleet", parameter(kBad, 2), dir.path(), env);
  EXPECT_FALSE(bad.load.config.has_value());
  ASSERT_EQ(bad.load.errors.size(), 1u);
  EXPECT_EQ(bad.load.errors[0].to_string().rfind("ssm:/trailwatch/fleet:2:13: metrics.interval: ", 0), 0u)
      << bad.load.errors[0].to_string();
  EXPECT_EQ(read_file(bad.cache_path), kGood);
}

TEST(SsmConfig, NoCacheIsNotAnError) {
  tests::TempDir dir;
  common::MapEnvironment env;
  EXPECT_FALSE(agent::load_cached_config("/trailwatch/fleet", dir.path(), env).has_value());
}

TEST(SsmConfig, AnUnwritableCacheIsAWarning) {
  tests::TempDir dir;
  common::MapEnvironment env;
  dir.write("ssm-config-cache", "a file where the directory should be");
  agent::FetchedConfig got = agent::accept_fetched_config("/trailwatch/fleet", parameter(kGood), dir.path(), env);
  EXPECT_TRUE(got.load.config.has_value());
  EXPECT_NE(got.cache_warning.find("cannot cache ssm:/trailwatch/fleet"), std::string::npos) << got.cache_warning;
}

}  // namespace
