#include "common/aws/shared_config.h"

#include <gtest/gtest.h>

#include "common/config/environment.h"
#include "tests/support/subprocess.h"

namespace {

using common::aws::IniFile;
using common::aws::parse_ini;
using common::aws::profiles_of;
using common::aws::SharedFileKind;

TEST(ParseIni, SectionsKeysCommentsAndWhitespace) {
  auto ini = parse_ini(
      "# leading comment\n"
      "; another comment\n"
      "\n"
      "[default]\n"
      "aws_access_key_id=AKIDDEFAULT\n"
      "  Aws_Secret_Access_Key   =   secret with spaces   \n"
      "region = eu-west-1 # inline comment\n"
      "url = http://h/#fragment-kept\n"
      "\r\n"
      "[  profile    dev  ]\r\n"
      "role_arn = arn:aws:iam::123456789012:role/dev ; trailing\r\n"
      "empty =\n");
  ASSERT_TRUE(ini.ok()) << ini.error().to_string();
  ASSERT_EQ(ini->size(), 2u);
  const auto& def = ini->at("default");
  EXPECT_EQ(def.at("aws_access_key_id"), "AKIDDEFAULT");
  EXPECT_EQ(def.at("aws_secret_access_key"), "secret with spaces");
  EXPECT_EQ(def.at("region"), "eu-west-1");
  EXPECT_EQ(def.at("url"), "http://h/#fragment-kept");
  const auto& dev = ini->at("profile dev");
  EXPECT_EQ(dev.at("role_arn"), "arn:aws:iam::123456789012:role/dev");
  EXPECT_EQ(dev.at("empty"), "");
}

TEST(ParseIni, SubPropertiesRepeatedKeysAndSections) {
  auto ini = parse_ini(
      "[profile a]\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "region = us-east-1\n"
      "region = us-west-2\n"
      "[profile a]\n"
      "output = json\n");
  ASSERT_TRUE(ini.ok()) << ini.error().to_string();
  const auto& a = ini->at("profile a");
  EXPECT_EQ(a.at("s3.max_concurrent_requests"), "20");
  EXPECT_EQ(a.at("region"), "us-west-2");
  EXPECT_EQ(a.at("output"), "json");
}

TEST(ParseIni, ErrorsNameTheLineButNotItsContent) {
  auto no_section = parse_ini("aws_secret_access_key = SUPERSECRET\n");
  ASSERT_FALSE(no_section.ok());
  EXPECT_NE(no_section.error().to_string().find("line 1"), std::string::npos);
  EXPECT_EQ(no_section.error().to_string().find("SUPERSECRET"), std::string::npos);

  auto unclosed = parse_ini("[default]\nx = 1\n[profile b\n");
  ASSERT_FALSE(unclosed.ok());
  EXPECT_NE(unclosed.error().to_string().find("line 3"), std::string::npos);

  auto no_equals = parse_ini("[default]\nSUPERSECRET\n");
  ASSERT_FALSE(no_equals.ok());
  EXPECT_NE(no_equals.error().to_string().find("line 2"), std::string::npos);
  EXPECT_EQ(no_equals.error().to_string().find("SUPERSECRET"), std::string::npos);
}

TEST(ProfilesOf, ConfigFileNeedsProfilePrefixCredentialsFileDoesNot) {
  auto ini = parse_ini(
      "[default]\nregion = a\n"
      "[profile dev]\nregion = b\n"
      "[prod]\nregion = c\n"
      "[sso-session corp]\nsso_region = d\n");
  ASSERT_TRUE(ini.ok());
  auto config = profiles_of(*ini, SharedFileKind::kConfig);
  EXPECT_EQ(config.size(), 2u);
  EXPECT_EQ(config.at("default").at("region"), "a");
  EXPECT_EQ(config.at("dev").at("region"), "b");
  EXPECT_EQ(config.count("prod"), 0u);  // "[prod]" in the config file is not a profile

  auto creds = profiles_of(*ini, SharedFileKind::kCredentials);
  EXPECT_EQ(creds.at("prod").at("region"), "c");
  EXPECT_EQ(creds.at("profile dev").at("region"), "b");  // no prefix rule in the credentials file
  EXPECT_EQ(creds.count("dev"), 0u);
}

TEST(ProfilesOf, ProfileDefaultWinsOverPlainDefault) {
  auto ini = parse_ini("[default]\nregion = a\noutput = text\n[profile default]\nregion = b\n");
  ASSERT_TRUE(ini.ok());
  auto config = profiles_of(*ini, SharedFileKind::kConfig);
  EXPECT_EQ(config.at("default").at("region"), "b");
  EXPECT_EQ(config.at("default").at("output"), "text");
}

TEST(SharedConfigPaths, EnvironmentOverridesAndHomeDefaults) {
  common::MapEnvironment env{{"HOME", "/home/u"}};
  auto p = common::aws::shared_config_paths(env);
  EXPECT_EQ(p.credentials_file, "/home/u/.aws/credentials");
  EXPECT_EQ(p.config_file, "/home/u/.aws/config");
  env.set("AWS_SHARED_CREDENTIALS_FILE", "~/creds");
  env.set("AWS_CONFIG_FILE", "/etc/aws/config");
  p = common::aws::shared_config_paths(env);
  EXPECT_EQ(p.credentials_file, "/home/u/creds");
  EXPECT_EQ(p.config_file, "/etc/aws/config");

  EXPECT_EQ(common::aws::selected_profile(env), "default");
  env.set("AWS_PROFILE", "dev");
  EXPECT_EQ(common::aws::selected_profile(env), "dev");
  EXPECT_EQ(common::aws::selected_profile(env, "explicit"), "explicit");
}

TEST(LoadSharedConfig, MergesFilesCredentialsWinAndDetectsRewrites) {
  tests::TempDir dir;
  dir.write("config", "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n");
  dir.write("credentials", "[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s\n");
  common::aws::SharedConfigPaths paths{dir.file("credentials"), dir.file("config")};
  auto cfg = common::aws::load_shared_config(paths);
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  const auto* dev = cfg->profile("dev");
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->at("aws_access_key_id"), "FROMCREDS");
  EXPECT_EQ(dev->at("region"), "eu-west-1");
  EXPECT_FALSE(common::aws::shared_config_changed(*cfg, paths));

  dir.write("credentials", "[dev]\naws_access_key_id = ROTATED_KEY\naws_secret_access_key = s2\n");
  EXPECT_TRUE(common::aws::shared_config_changed(*cfg, paths));
}

TEST(LoadSharedConfig, MissingFilesAreEmptyMalformedNameTheFile) {
  tests::TempDir dir;
  common::aws::SharedConfigPaths paths{dir.file("nope1"), dir.file("nope2")};
  auto cfg = common::aws::load_shared_config(paths);
  ASSERT_TRUE(cfg.ok());
  EXPECT_TRUE(cfg->profiles.empty());

  dir.write("config", "[default\n");
  paths.config_file = dir.file("config");
  auto bad = common::aws::load_shared_config(paths);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find(dir.file("config")), std::string::npos);
}

}  // namespace
