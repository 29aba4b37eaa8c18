// Hostile and mistaken configuration input (docs/security.md, "Bad input"): secrets in endpoint
// URLs, control characters in paths and names, file modes, and the order validate reports in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agent/config/agent_config.h"
#include "tests/support/temp_dir.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Vars = std::map<std::string, std::string, std::less<>>;

std::string all(const std::vector<common::ConfigDiagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

agent::ConfigLoad load_text(std::string_view yaml, Vars vars = {}) {
  common::MapEnvironment env(std::move(vars));
  return agent::load_config_text(yaml, "b.yaml", env);
}

// ---- userinfo in endpoint URLs --------------------------------------------------------------------

struct UserinfoCase {
  const char* name;
  std::string yaml;
  Vars vars;
  std::string expected;  // the whole diagnostic
};

TEST(EndpointUserinfo, IsRefusedWithoutPrintingThePassword) {
  const std::string refusal =
      "a user name or password in an endpoint URL is not allowed (got \"http://***@127.0.0.1:4566\"): AWS "
      "requests are signed with the AWS credentials; remove the part up to and including '@'";
  const UserinfoCase cases[] = {
      {"config", "aws:\n  endpoints:\n    cloudwatch: http://USER:PASSWORD@127.0.0.1:4566\n", {},
       "b.yaml:3:17: aws.endpoints.cloudwatch: " + refusal},
      {"config, user only", "aws:\n  endpoints:\n    ssm: \"http://PASSWORD@127.0.0.1:4566\"\n", {},
       "b.yaml:3:10: aws.endpoints.ssm: " + refusal},
      {"imds in config", "aws:\n  imds:\n    endpoint: http://USER:PASSWORD@127.0.0.1:4566\n", {},
       "b.yaml:3:15: aws.imds.endpoint: " + refusal},
      {"AWS_ENDPOINT_URL once, not per service", "{}", {{"AWS_ENDPOINT_URL", "http://USER:PASSWORD@127.0.0.1:4566"}},
       "b.yaml: aws.endpoints: from AWS_ENDPOINT_URL: " + refusal},
      {"AWS_ENDPOINT_URL_S3", "{}", {{"AWS_ENDPOINT_URL_S3", "http://USER:PASSWORD@127.0.0.1:4566"}},
       "b.yaml: aws.endpoints.s3: from AWS_ENDPOINT_URL_S3: " + refusal},
      {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "{}",
       {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://USER:PASSWORD@127.0.0.1:4566"}},
       "b.yaml: aws.imds.endpoint: from AWS_EC2_METADATA_SERVICE_ENDPOINT: " + refusal},
      {"not a URL either", "aws:\n  endpoints:\n    sns: USER:PASSWORD@127.0.0.1:4566\n", {},
       "b.yaml:3:10: aws.endpoints.sns: expected a URL starting with http:// or https://, got "
       "\"***@127.0.0.1:4566\""},
  };
  for (const UserinfoCase& c : cases) {
    agent::ConfigLoad load = load_text(c.yaml, c.vars);
    EXPECT_FALSE(load.config.has_value()) << c.name;
    ASSERT_EQ(load.errors.size(), 1u) << c.name << "\n" << all(load.errors);
    EXPECT_EQ(load.errors[0].to_string(), c.expected) << c.name;
    EXPECT_THAT(all(load.errors) + all(load.warnings), Not(HasSubstr("PASSWORD"))) << c.name;
  }
}

TEST(EndpointUserinfo, AProxyMayCarryCredentials) {
  // curl's proxy syntax allows user:password@ (HTTPS_PROXY commonly has it); it is not an AWS endpoint.
  agent::ConfigLoad load = load_text("aws:\n  proxy: http://user:secret@proxy.internal:3128\n");
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  EXPECT_EQ(load.config->aws.proxy, "http://user:secret@proxy.internal:3128");
  // ... which `validate --print` does not show.
  const std::string dumped = agent::dump_effective_config(*load.config);
  EXPECT_THAT(dumped, HasSubstr("proxy: http://***@proxy.internal:3128"));
  EXPECT_THAT(dumped, Not(HasSubstr("secret")));
}

// ---- control characters in paths and names -------------------------------------------------------

struct ControlCase {
  std::string yaml;
  std::string expected;  // the whole diagnostic
};

TEST(ControlCharacters, AreRefusedInPathsAndNamesAtTheirPosition) {
  const std::string no = " is not allowed: paths and names may not hold control characters";
  const ControlCase cases[] = {
      {"agent:\n  state_dir: \"/tmp/x\\0y\"\n", "b.yaml:2:14: agent.state_dir: byte 0x00 at position 7" + no},
      {"agent:\n  proc_root: \"/proc\\n\"\n", "b.yaml:2:14: agent.proc_root: byte 0x0a at position 6" + no},
      {"agent:\n  hostname: \"web\\t1\"\n", "b.yaml:2:13: agent.hostname: byte 0x09 at position 4" + no},
      {"aws:\n  region: \"us-east-1\\e[2J\"\n", "b.yaml:2:11: aws.region: byte 0x1b at position 10" + no},
      {"aws:\n  profile: \"a\\x7f\"\n", "b.yaml:2:12: aws.profile: byte 0x7f at position 2" + no},
      {"aws:\n  ca_bundle: \"/etc/ca\\0.pem\"\n", "b.yaml:2:14: aws.ca_bundle: byte 0x00 at position 8" + no},
      {"aws:\n  endpoints:\n    s3: \"http://s3\\0.evil\"\n",
       "b.yaml:3:9: aws.endpoints.s3: byte 0x00 at position 10" + no},
      {"audit:\n  files: [/var/log/audit/audit.log, \"/tmp/a\\0b\"]\n",
       "b.yaml:2:37: audit.files[1]: byte 0x00 at position 7" + no},
      {"metrics:\n  namespace: \"CW\\0Agent\"\n",
       "b.yaml:2:14: metrics.namespace: byte 0x00 at position 3 is not allowed: CloudWatch namespaces are printable "
       "ASCII"},
      {"metrics:\n  network:\n    exclude: [\"lo\\0\"]\n",
       "b.yaml:3:15: metrics.network.exclude[0]: byte 0x00 at position 3" + no},
      {"metrics:\n  dimensions:\n    Team: \"a\\rb\"\n", "b.yaml:3:11: metrics.dimensions.Team: byte 0x0d at position 2" + no},
      {"trail:\n  sinks:\n    - type: cloudwatch_logs\n      log_group: g\n      log_stream: \"s\\0\"\n",
       "b.yaml:5:19: trail.sinks[0].log_stream: byte 0x00 at position 2" + no},
      {"trail:\n  sinks:\n    - type: s3\n      bucket: my-bucket\n      prefix: \"p\\0\"\n",
       "b.yaml:5:15: trail.sinks[0].prefix: byte 0x00 at position 2" + no},
      {"delivery:\n  spool_dir: \"/var/spool\\0x\"\n", "b.yaml:2:14: delivery.spool_dir: byte 0x00 at position 11" + no},
      {"local:\n  path: \"/tmp/out\\0.jsonl\"\n", "b.yaml:2:9: local.path: byte 0x00 at position 9" + no},
      {"alarms:\n  - name: \"cpu\\0\"\n    metric: m\n    comparison: GreaterThanThreshold\n    threshold: 1\n",
       "b.yaml:2:11: alarms[0].name: byte 0x00 at position 4" + no},
  };
  for (const ControlCase& c : cases) {
    agent::ConfigLoad load = load_text(c.yaml);
    EXPECT_FALSE(load.config.has_value()) << c.expected;
    ASSERT_EQ(load.errors.size(), 1u) << c.expected << "\n" << all(load.errors);
    EXPECT_EQ(load.errors[0].to_string(), c.expected);
  }
}

TEST(ControlCharacters, DimensionsAreCheckedOnceInNamesAndValues) {
  agent::ConfigLoad name = load_text("metrics:\n  dimensions:\n    \"Te\\0am\": a\n    Ok: ~\n");
  ASSERT_EQ(name.errors.size(), 1u) << all(name.errors);
  EXPECT_EQ(name.errors[0].to_string(),
            "b.yaml:3:15: metrics.dimensions.Te\\x00am: in the name: byte 0x00 at position 3 is not allowed: paths and names "
            "may not hold control characters");
  agent::ConfigLoad not_a_map = load_text("metrics:\n  dimensions: [a]\n");
  ASSERT_EQ(not_a_map.errors.size(), 1u) << all(not_a_map.errors);
  agent::ConfigLoad fine = load_text("metrics:\n  dimensions:\n    Team: web\n    Empty: ~\n");
  ASSERT_TRUE(fine.config.has_value()) << all(fine.errors);
  EXPECT_EQ(fine.config->metrics.dimensions, (std::map<std::string, std::string>{{"Empty", ""}, {"Team", "web"}}));
}

TEST(ControlCharacters, FromTheEnvironmentAreRefusedNamingTheVariable) {
  agent::ConfigLoad load = load_text("{}", {{"AWS_REGION", std::string("us-east-1\0x", 11)}});
  EXPECT_FALSE(load.config.has_value());
  ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
  EXPECT_EQ(load.errors[0].to_string(),
            "b.yaml: aws.region: from AWS_REGION: byte 0x00 at position 10 is not allowed: paths and names may not "
            "hold control characters");
}

TEST(ControlCharacters, FreeTextMayHoldNewlines) {
  agent::ConfigLoad load = load_text(
      "alarms:\n  - name: cpu\n    description: \"line one\\nline two\"\n    metric: m\n"
      "    comparison: GreaterThanThreshold\n    threshold: 1\n");
  EXPECT_TRUE(load.config.has_value()) << all(load.errors);
}

// ---- the order of diagnostics -----------------------------------------------------------------------

TEST(DiagnosticOrder, ValidateReportsInFileOrder) {
  // Each section reports its unknown keys before its values, and the environment comes last: sorted,
  // a reader can go down the file with the list.
  agent::ConfigLoad load = load_text(
      "metrics:\n  interval: ten\n  namespase: X\nagent:\n  log_level: loud\n  stat_dir: /x\n",
      {{"AWS_ENDPOINT_URL_SNS", "nope"}});
  ASSERT_EQ(load.errors.size(), 5u) << all(load.errors);
  std::vector<std::pair<int, int>> positions;
  for (const auto& e : load.errors) positions.emplace_back(e.line, e.column);
  EXPECT_EQ(positions, (std::vector<std::pair<int, int>>{{2, 13}, {3, 3}, {5, 14}, {6, 3}, {0, 0}})) << all(load.errors);
  EXPECT_EQ(load.errors[4].key_path, "aws.endpoints.sns");
}

TEST(DiagnosticOrder, AnInvalidValueIsNotAlsoComparedWithItsDefault) {
  // "interval: 10" (no unit) used to add "5s is shorter than metrics.interval (1m)": the default
  // interval, which the user never wrote.
  agent::ConfigLoad metrics = load_text("metrics:\n  interval: 10\n  flush_interval: 5s\n");
  ASSERT_EQ(metrics.errors.size(), 1u) << all(metrics.errors);
  EXPECT_EQ(metrics.errors[0].key_path, "metrics.interval");
  // ... and "retry_max_backoff (20s) must be at least retry_base (30s)", 20s being the default.
  agent::ConfigLoad delivery = load_text("delivery:\n  retry_base: 30s\n  retry_max_backoff: ten\n");
  ASSERT_EQ(delivery.errors.size(), 1u) << all(delivery.errors);
  EXPECT_EQ(delivery.errors[0].key_path, "delivery.retry_max_backoff");
  // Both valid and in the wrong order: still an error.
  EXPECT_EQ(load_text("metrics:\n  interval: 30s\n  flush_interval: 10s\n").errors.size(), 1u);
  EXPECT_EQ(load_text("delivery:\n  retry_base: 30s\n  retry_max_backoff: 2s\n").errors.size(), 1u);
}

// ---- file modes -------------------------------------------------------------------------------------

TEST(FileModes, ACredentialsConfigOthersCanReadIsWarnedAbout) {
  tests::TempDir dir;
  const std::string path = dir.file("c.yaml");
  dir.write("c.yaml", "aws:\n  credentials:\n    access_key_id: AKIDEXAMPLE\n    secret_access_key: s3cr3t\n");
  common::MapEnvironment env;
  for (const unsigned mode : {0644u, 0640u, 0604u}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    agent::ConfigLoad load = agent::load_config_file(path, env);
    ASSERT_TRUE(load.config.has_value()) << all(load.errors);
    ASSERT_EQ(load.warnings.size(), 2u) << all(load.warnings);
    EXPECT_EQ(load.warnings[1].to_string(),
              path + ":3:5: aws.credentials: this file holds a secret access key and group or others can read it "
                     "(mode " + common::format_file_mode(mode) + "); run chmod 600 " + path +
                  " (or chmod 640 with a group only trailwatch is in)");
    EXPECT_THAT(all(load.warnings), Not(HasSubstr("s3cr3t")));
  }
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  agent::ConfigLoad private_file = agent::load_config_file(path, env);
  ASSERT_EQ(private_file.warnings.size(), 1u) << all(private_file.warnings);
  EXPECT_THAT(private_file.warnings[0].message, HasSubstr("static credentials"));

  // Without credentials in it, a readable config is normal (the package installs it 0644 or 0640).
  dir.write("plain.yaml", "agent: {}\n");
  ASSERT_EQ(::chmod(dir.file("plain.yaml").c_str(), 0644), 0);
  EXPECT_TRUE(agent::load_config_file(dir.file("plain.yaml"), env).warnings.empty());
}

TEST(FileModes, AWorldWritableConfigIsRefusedWithTheFix) {
  tests::TempDir dir;
  const std::string path = dir.file("c.yaml");
  dir.write("c.yaml", "agent: {}\n");
  ASSERT_EQ(::chmod(path.c_str(), 0646), 0);
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(path, env);
  EXPECT_FALSE(load.config.has_value());
  ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
  EXPECT_THAT(load.errors[0].message, HasSubstr("chmod o-w " + path));
}

// ---- the bad-input table for whole files --------------------------------------------------------------

struct FileCase {
  const char* name;
  std::string content;
  const char* message;  // a substring of the one error
};

TEST(BadConfigFiles, EachGetsOneClearError) {
  std::string huge = "agent: {}\n#";
  huge.append(4 * 1024 * 1024, 'x');
  std::string nested = "agent: ";
  for (int i = 0; i < 50'000; ++i) nested += "{a: ";
  const FileCase cases[] = {
      {"not YAML", "agent: [unclosed\n  state_dir: /x\n", "YAML syntax error"},
      {"a JSON array", "[1, 2, 3]\n", "expected a map of sections at the top level, got a list"},
      {"a shell script", "#!/bin/sh\nexec trailwatch run\n",
       "expected a map of sections at the top level, got \"exec trailwatch run\""},
      {"over 4 MiB", huge, "config file is larger than 4MiB; is this the right file?"},
      {"deeply nested", nested, "YAML syntax error"},
      {"NUL byte", std::string("agent: {}\n\0", 11), "control character (byte 0x00)"},
      {"bad UTF-8", "agent:\n  hostname: caf\xe9\n", "byte 0xe9 is not UTF-8"},
      {"duplicate section", "agent: {}\nmetrics: {}\nagent: {}\n", "duplicate key (first given at line 1)"},
  };
  common::MapEnvironment env;
  for (const FileCase& c : cases) {
    tests::TempDir dir;
    dir.write("c.yaml", c.content);
    agent::ConfigLoad load = agent::load_config_file(dir.file("c.yaml"), env);
    EXPECT_FALSE(load.config.has_value()) << c.name;
    ASSERT_EQ(load.errors.size(), 1u) << c.name << "\n" << all(load.errors);
    EXPECT_THAT(load.errors[0].message, HasSubstr(c.message)) << c.name;
  }
}

TEST(BadConfigFiles, AFifoWithoutAWriterReadsAsEmptyInsteadOfHanging) {
  tests::TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(dir.file("fifo"), env);  // returned: it did not wait
  ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
  EXPECT_THAT(load.errors[0].message, HasSubstr("file is empty"));
}

TEST(BadConfigFiles, ASymlinkIsFollowed) {
  tests::TempDir dir;
  dir.write("real.yaml", "agent:\n  log_level: debug\n");
  std::filesystem::create_symlink(dir.file("real.yaml"), dir.file("link.yaml"));
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(dir.file("link.yaml"), env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  EXPECT_EQ(load.config->agent.log_level, agent::LogLevel::kDebug);
  // Diagnostics name the path given, as the user typed it.
  dir.write("real.yaml", "agent:\n  log_level: loud\n");
  agent::ConfigLoad bad = agent::load_config_file(dir.file("link.yaml"), env);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].file, dir.file("link.yaml"));
}

}  // namespace
