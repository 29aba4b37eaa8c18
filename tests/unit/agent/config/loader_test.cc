// Loads the broken configs in tests/data/config/bad and the good ones in tests/data/config/good,
// checking exact positions and key paths of every diagnostic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/config/agent_config.h"
#include "tests/unit/agent/config/test_paths.h"
#include "tests/support/temp_dir.h"

namespace {

using ::testing::HasSubstr;

std::string all(const std::vector<common::ConfigDiagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

struct BadCase {
  const char* file;
  int line;
  int column;
  const char* key_path;
  const char* message;  // a substring of the message
};

const BadCase kBadCases[] = {
    {"wrong_type.yaml", 2, 13, "agent.hostname", "expected a string, got a list"},
    {"wrong_type_bool.yaml", 2, 12, "metrics.enabled", "expected true or false, got \"maybe\""},
    {"unknown_key.yaml", 3, 3, "metrics.intervl", "unknown key; did you mean \"interval\"? allowed keys: enabled, "},
    {"bad_duration.yaml", 2, 13, "metrics.interval", "expected a duration like \"10s\", got \"ten\""},
    {"duration_without_unit.yaml", 2, 18, "audit.event_timeout", "add a unit"},
    {"negative_size.yaml", 2, 19, "delivery.max_spool_size", "a size cannot be negative, got \"-5MiB\""},
    {"missing_required.yaml", 3, 7, "trail.sinks[0].bucket", "missing required key"},
    {"syntax_error.yaml", 3, 31, "", "YAML syntax error: "},
    {"empty.yaml", 1, 1, "", "file is empty; see config/local.yaml for a minimal example"},
    {"out_of_range.yaml", 2, 13, "metrics.interval", "0s is out of range; expected 1s to 1h"},
    {"out_of_range_int.yaml", 3, 14, "aws.imds.retries", "9 is out of range; expected 0 to 5"},
    {"flush_before_interval.yaml", 3, 19, "metrics.flush_interval",
     "10s is shorter than metrics.interval (30s)"},
    {"alarm_without_comparison.yaml", 2, 5, "alarms[0].comparison", "missing required key"},
    {"unknown_sink_type.yaml", 4, 13, "trail.sinks[1].type",
     "expected one of local, cloudtrail_lake, cloudwatch_logs, s3; got \"kafka\""},
    {"alarm_bad_action.yaml", 6, 21, "alarms[0].alarm_actions[0]", "expected an SNS topic ARN"},
    {"lake_bad_arn.yaml", 4, 20, "trail.sinks[0].channel_arn", "expected a channel ARN starting with \"arn:\""},
    {"endpoint_not_url.yaml", 3, 17, "aws.endpoints.cloudwatch",
     "expected a URL starting with http:// or https://, got \"localhost:4566\""},
};

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, ReportsExactPositionKeyAndMessage) {
  const BadCase& c = GetParam();
  const std::string path = tests::config_data(std::string("bad/") + c.file);
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(path, env);
  EXPECT_FALSE(load.config.has_value());
  ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
  const common::ConfigDiagnostic& d = load.errors[0];
  EXPECT_EQ(d.file, path);
  EXPECT_EQ(d.line, c.line) << d.to_string();
  EXPECT_EQ(d.column, c.column) << d.to_string();
  EXPECT_EQ(d.key_path, c.key_path) << d.to_string();
  EXPECT_THAT(d.message, HasSubstr(c.message));
  const std::string prefix = path + ":" + std::to_string(c.line) + ":" + std::to_string(c.column) + ": " +
                             (d.key_path.empty() ? "" : d.key_path + ": ");
  EXPECT_EQ(d.to_string().substr(0, prefix.size()), prefix);
}

INSTANTIATE_TEST_SUITE_P(Table, BadConfig, ::testing::ValuesIn(kBadCases),
                         [](const ::testing::TestParamInfo<BadCase>& param_info) {
                           std::string name = param_info.param.file;
                           name = name.substr(0, name.find('.'));
                           return name;
                         });

TEST(BadConfigFile, ReportsEveryErrorNotJustTheFirst) {
  const std::string path = tests::config_data("bad/several_errors.yaml");
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(path, env);
  ASSERT_EQ(load.errors.size(), 4u) << all(load.errors);
  EXPECT_EQ(load.errors[0].to_string(),
            path + ":3:14: agent.log_level: expected one of trace, debug, info, warn, error, off; got \"verbose\"");
  EXPECT_EQ(load.errors[1].to_string(),
            path + ":5:13: metrics.interval: expected a duration like \"10s\", got \"ten\"");
  EXPECT_EQ(load.errors[2].to_string(), path + ":7:19: metrics.network.exclude[1]: expected a string, got a list");
  EXPECT_EQ(load.errors[3].to_string(),
            path + ":9:19: audit.max_line_bytes: 100MiB is out of range; expected 1KiB to 16MiB");
}

TEST(BadConfigFile, MissingFileNamesPathAndStrerror) {
  const std::string path = tests::config_data("bad/does-not-exist.yaml");
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(path, env);
  EXPECT_FALSE(load.config.has_value());
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].to_string(), path + ": cannot open config file: No such file or directory");
}

using tests::TempDir;

// Runs for every user, root included: a directory cannot be read as a file.
TEST(BadConfigFile, UnreadablePathThatIsADirectory) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/trailwatch.yaml";
  ASSERT_TRUE(std::filesystem::create_directory(path));
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(path, env);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].to_string(), path + ": cannot read config file: Is a directory");
}

// Mode 000 only stops a non-root user; root reads through it, so the directory case above covers root.
TEST(BadConfigFile, UnreadableFileWithoutPermission) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/trailwatch.yaml";
  std::ofstream(path) << "agent: {}\n";
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  std::ifstream probe(path);
  if (probe.is_open()) GTEST_SKIP() << "this user (uid " << ::geteuid() << ") can read a mode-000 file";
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(path, env);
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].to_string(), path + ": cannot open config file: Permission denied");
}

TEST(GoodConfig, MinimalTakesEveryDefault) {
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(tests::config_data("good/minimal.yaml"), env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  EXPECT_TRUE(load.warnings.empty()) << all(load.warnings);
  agent::AgentConfig expected;
  expected.delivery.spool_dir = "/var/lib/trailwatch/spool";
  EXPECT_EQ(*load.config, expected);
  const agent::AgentConfig& c = *load.config;
  EXPECT_EQ(c.agent.state_dir, "/var/lib/trailwatch");
  EXPECT_EQ(c.agent.log_level, agent::LogLevel::kInfo);
  EXPECT_EQ(c.agent.shutdown_timeout, std::chrono::seconds(5));
  EXPECT_TRUE(c.aws.imds.enabled);
  EXPECT_EQ(c.aws.imds.endpoint, "http://169.254.169.254");
  EXPECT_EQ(c.metrics.interval, std::chrono::seconds(60));
  EXPECT_EQ(c.metrics.namespace_name, "CWAgent");
  EXPECT_EQ(c.metrics.network.exclude, std::vector<std::string>{"lo"});
  EXPECT_EQ(c.audit.files, std::vector<std::string>{"/var/log/audit/audit.log"});
  EXPECT_EQ(c.audit.max_line_bytes, 64u * 1024);
  ASSERT_EQ(c.trail.sinks.size(), 1u);
  EXPECT_EQ(c.trail.sinks[0].type, agent::SinkType::kLocal);
  EXPECT_TRUE(c.alarms.empty());
  EXPECT_EQ(c.delivery.max_spool_size, 256u * 1024 * 1024);
  EXPECT_EQ(c.local.path, "-");
}

TEST(GoodConfig, FullReadsEveryKey) {
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(tests::config_data("good/full.yaml"), env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  EXPECT_TRUE(load.warnings.empty()) << all(load.warnings);
  const agent::AgentConfig& c = *load.config;
  EXPECT_EQ(c.agent.state_dir, "/srv/trailwatch");
  EXPECT_EQ(c.agent.log_level, agent::LogLevel::kDebug);
  EXPECT_EQ(c.agent.proc_root, "/host/proc");
  EXPECT_EQ(c.agent.shutdown_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.agent.hostname, "web-1");
  EXPECT_EQ(c.aws.region, "eu-central-1");
  EXPECT_EQ(c.aws.profile, "ops");
  EXPECT_EQ(c.aws.role_arn, "arn:aws:iam::123456789012:role/trailwatch");
  EXPECT_FALSE(c.aws.credentials.has_value());
  EXPECT_EQ(c.aws.imds.endpoint, "http://127.0.0.1:1338");
  EXPECT_TRUE(c.aws.imds.allow_imdsv1);
  EXPECT_EQ(c.aws.imds.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.aws.imds.retries, 3);
  EXPECT_EQ(c.aws.endpoints.cloudwatch, "http://127.0.0.1:4566");
  EXPECT_EQ(c.aws.endpoints.s3, "https://s3.example.test");
  EXPECT_EQ(c.aws.endpoints.sns, "");
  EXPECT_TRUE(c.aws.use_fips);
  EXPECT_EQ(c.aws.proxy, "http://proxy.internal:3128");
  EXPECT_EQ(c.aws.no_proxy, "169.254.169.254,localhost");
  EXPECT_EQ(c.metrics.interval, std::chrono::seconds(10));
  EXPECT_EQ(c.metrics.flush_interval, std::chrono::minutes(1));
  EXPECT_EQ(c.metrics.namespace_name, "Trailwatch/Test");
  EXPECT_TRUE(c.metrics.high_resolution);
  EXPECT_EQ(c.metrics.output, agent::MetricsOutput::kCloudWatch);
  EXPECT_TRUE(c.metrics.cpu.per_cpu);
  EXPECT_FALSE(c.metrics.cpu.total);
  EXPECT_FALSE(c.metrics.memory.enabled);
  EXPECT_EQ(c.metrics.network.include, (std::vector<std::string>{"eth*", "ens*"}));
  EXPECT_EQ(c.metrics.network.exclude, (std::vector<std::string>{"lo", "docker*"}));
  EXPECT_EQ(c.metrics.append_dimensions, (std::vector<std::string>{"InstanceId", "AutoScalingGroupName"}));
  EXPECT_EQ(c.metrics.dimensions, (std::map<std::string, std::string>{{"Environment", "test"}, {"Team", "infra"}}));
  EXPECT_EQ(c.metrics.aggregation_dimensions, (std::vector<std::vector<std::string>>{{"InstanceId"}, {}}));
  EXPECT_EQ(c.audit.files.size(), 2u);
  EXPECT_EQ(c.audit.event_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(c.audit.max_line_bytes, 1024u * 1024);
  EXPECT_EQ(c.audit.filters.include.record_types, (std::vector<std::string>{"EXECVE", "USER_AUTH"}));
  EXPECT_EQ(c.audit.filters.include.keys, std::vector<std::string>{"privileged"});
  EXPECT_EQ(c.audit.filters.exclude.users, std::vector<std::string>{"nobody"});
  EXPECT_EQ(c.audit.filters.exclude.results, std::vector<std::string>{"success"});
  ASSERT_EQ(c.trail.sinks.size(), 4u);
  EXPECT_EQ(c.trail.sinks[1].type, agent::SinkType::kCloudTrailLake);
  EXPECT_EQ(c.trail.sinks[1].channel_arn, "arn:aws:cloudtrail:us-east-1:123456789012:channel/abc");
  EXPECT_EQ(c.trail.sinks[2].log_group, "/trailwatch/audit");
  EXPECT_EQ(c.trail.sinks[2].log_stream, "{hostname}");
  EXPECT_FALSE(c.trail.sinks[2].create);
  const agent::TrailSink& s3 = c.trail.sinks[3];
  EXPECT_EQ(s3.bucket, "audit-archive");
  EXPECT_EQ(s3.prefix, "hosts/");
  EXPECT_EQ(s3.account_id, "123456789012");
  EXPECT_EQ(s3.interval, std::chrono::minutes(15));
  EXPECT_EQ(s3.max_object_size, 128u * 1024 * 1024);
  EXPECT_EQ(s3.sse, agent::S3Encryption::kAwsKms);
  EXPECT_EQ(s3.kms_key_id, "alias/trailwatch");
  ASSERT_EQ(c.alarms.size(), 2u);
  const agent::AlarmConfig& cpu = c.alarms[0];
  EXPECT_EQ(cpu.name, "high-cpu");
  EXPECT_EQ(cpu.metric, "cpu_usage_active");
  EXPECT_EQ(cpu.statistic, "p99.5");
  EXPECT_EQ(cpu.evaluation_periods, 5);
  EXPECT_EQ(cpu.datapoints_to_alarm, 3);
  EXPECT_EQ(cpu.comparison, agent::Comparison::kGreaterThanOrEqualToThreshold);
  EXPECT_DOUBLE_EQ(cpu.threshold, 90.5);
  EXPECT_EQ(cpu.treat_missing_data, agent::TreatMissingData::kNotBreaching);
  EXPECT_EQ(cpu.alarm_actions, std::vector<std::string>{"arn:aws:sns:us-east-1:123456789012:ops"});
  EXPECT_EQ(cpu.repeat_interval, std::chrono::hours(1));
  const agent::AlarmConfig& logins = c.alarms[1];
  ASSERT_TRUE(logins.audit_filter.has_value());
  EXPECT_EQ(logins.audit_filter->record_types, std::vector<std::string>{"USER_LOGIN"});
  EXPECT_EQ(logins.datapoints_to_alarm, 2);  // defaults to evaluation_periods
  EXPECT_DOUBLE_EQ(logins.threshold, -1.5);
  EXPECT_EQ(c.delivery.spool_dir, "/var/spool/trailwatch");
  EXPECT_EQ(c.delivery.max_spool_size, 1024u * 1024 * 1024);
  EXPECT_EQ(c.delivery.max_queue_records, 5000);
  EXPECT_EQ(c.delivery.max_queue_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(c.delivery.max_retries, 8);
  EXPECT_EQ(c.delivery.retry_base, std::chrono::milliseconds(200));
  EXPECT_EQ(c.delivery.retry_max_backoff, std::chrono::seconds(30));
  EXPECT_EQ(c.local.path, "/var/log/trailwatch/events.jsonl");
  EXPECT_TRUE(c.local.pretty);
}

TEST(GoodConfig, StaticCredentialsLoadWithAWarning) {
  const std::string path = tests::config_data("good/static_credentials.yaml");
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(path, env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  ASSERT_TRUE(load.config->aws.credentials.has_value());
  EXPECT_EQ(load.config->aws.credentials->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(load.config->aws.credentials->session_token, "FQoGZXIvYXdzEXAMPLE");
  // A second warning names chmod 600 when the checkout left the file readable by others (bad_input_test).
  ASSERT_FALSE(load.warnings.empty());
  EXPECT_EQ(load.warnings[0].to_string(),
            path + ":5:5: aws.credentials: static credentials in the config file; prefer an instance profile");
}

TEST(ShippedConfig, LocalYamlLoadsWithoutErrorsAndNeedsNoAws) {
  const std::string dir = tests::source_dir() + "/config";
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(dir + "/local.yaml", env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  EXPECT_TRUE(load.errors.empty());
  EXPECT_TRUE(load.warnings.empty()) << all(load.warnings);
  const agent::AgentConfig& c = *load.config;
  EXPECT_FALSE(c.aws.imds.enabled);
  EXPECT_EQ(c.metrics.output, agent::MetricsOutput::kLocal);
  EXPECT_EQ(c.metrics.interval, std::chrono::seconds(5));
  EXPECT_EQ(c.metrics.flush_interval, std::chrono::seconds(5));
  EXPECT_EQ(c.agent.state_dir, (std::filesystem::path(dir) / ".trailwatch-state").lexically_normal().string());
  ASSERT_EQ(c.audit.files.size(), 1u);
  EXPECT_EQ(c.audit.files[0],
            (std::filesystem::path(tests::source_dir()) / "tests/data/audit/sample-audit.log").lexically_normal().string());
  ASSERT_EQ(c.trail.sinks.size(), 1u);
  EXPECT_EQ(c.trail.sinks[0].type, agent::SinkType::kLocal);
  EXPECT_EQ(c.local.path, "-");
  for (const agent::TrailSink& sink : c.trail.sinks) EXPECT_EQ(sink.type, agent::SinkType::kLocal);
}

TEST(ShippedConfig, TrailwatchYamlIsTheEc2Default) {
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_file(tests::source_dir() + "/config/trailwatch.yaml", env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  EXPECT_TRUE(load.warnings.empty()) << all(load.warnings);
  const agent::AgentConfig& c = *load.config;
  EXPECT_TRUE(c.aws.imds.enabled);
  EXPECT_EQ(c.metrics.output, agent::MetricsOutput::kCloudWatch);
  EXPECT_EQ(c.metrics.append_dimensions, std::vector<std::string>{"InstanceId"});
  EXPECT_EQ(c.audit.files, std::vector<std::string>{"/var/log/audit/audit.log"});
  ASSERT_EQ(c.trail.sinks.size(), 1u);
  EXPECT_EQ(c.trail.sinks[0].type, agent::SinkType::kCloudWatchLogs);
  EXPECT_EQ(c.trail.sinks[0].log_group, "/trailwatch/audit");
  EXPECT_EQ(c.delivery.spool_dir, "/var/lib/trailwatch/spool");
}

// The commented alarm examples in trailwatch.yaml must stay valid when uncommented.
TEST(ShippedConfig, TrailwatchYamlAlarmExamplesAreValid) {
  std::ifstream in(tests::source_dir() + "/config/trailwatch.yaml");
  ASSERT_TRUE(in.is_open());
  std::string text;
  std::string line;
  bool in_alarms = false;
  while (std::getline(in, line)) {
    if (line.rfind("# alarms:", 0) == 0) in_alarms = true;
    if (in_alarms && line.rfind("# ", 0) == 0) line = line.substr(2);
    text += line + "\n";
  }
  ASSERT_TRUE(in_alarms);
  common::MapEnvironment env;
  agent::ConfigLoad load = agent::load_config_text(text, "trailwatch.yaml", env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  ASSERT_EQ(load.config->alarms.size(), 2u);
  EXPECT_EQ(load.config->alarms[0].name, "high-cpu");
  EXPECT_EQ(load.config->alarms[0].datapoints_to_alarm, 3);
  ASSERT_TRUE(load.config->alarms[1].audit_filter.has_value());
  EXPECT_EQ(load.config->alarms[1].audit_filter->results, std::vector<std::string>{"failure"});
}

}  // namespace
