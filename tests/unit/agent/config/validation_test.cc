// Cross-field rules, alarms, relative paths and the effective-config dump.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "agent/config/agent_config.h"
#include "tests/unit/agent/config/test_paths.h"

namespace {

using ::testing::HasSubstr;

agent::ConfigLoad load_text(std::string_view yaml, const std::string& name = "v.yaml") {
  common::MapEnvironment env;
  return agent::load_config_text(yaml, name, env);
}

std::string all(const std::vector<common::ConfigDiagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

std::string alarm_with(std::string_view extra) {
  return "alarms:\n  - name: a\n    metric: m\n    comparison: GreaterThanThreshold\n    threshold: 1\n" +
         std::string(extra);
}

TEST(AlarmStatistic, AcceptsNamedStatisticsAndPercentiles) {
  for (const char* statistic : {"Average", "Minimum", "Maximum", "Sum", "SampleCount", "p50", "p99", "p99.9",
                                "p99.99", "p0.5", "p1"}) {
    auto load = load_text(alarm_with(std::string("    statistic: \"") + statistic + "\"\n"));
    ASSERT_TRUE(load.config.has_value()) << statistic << "\n" << all(load.errors);
    EXPECT_EQ(load.config->alarms[0].statistic, statistic);
  }
}

TEST(AlarmStatistic, RejectsOthersAtTheirPosition) {
  for (const char* statistic : {"avg", "p0", "p100", "p999", "p99.", "p99.999", "p", "P99", "p-1", "p9x"}) {
    auto load = load_text(alarm_with(std::string("    statistic: \"") + statistic + "\"\n"));
    ASSERT_EQ(load.errors.size(), 1u) << statistic << "\n" << all(load.errors);
    EXPECT_EQ(load.errors[0].line, 6) << statistic;
    EXPECT_EQ(load.errors[0].key_path, "alarms[0].statistic");
    EXPECT_THAT(load.errors[0].message, HasSubstr("a percentile like \"p99\""));
  }
}

TEST(AlarmPeriods, DatapointsDefaultToAndMayNotExceedEvaluationPeriods) {
  auto defaulted = load_text(alarm_with("    evaluation_periods: 4\n"));
  ASSERT_TRUE(defaulted.config.has_value()) << all(defaulted.errors);
  EXPECT_EQ(defaulted.config->alarms[0].datapoints_to_alarm, 4);
  auto too_many = load_text(alarm_with("    evaluation_periods: 3\n    datapoints_to_alarm: 4\n"));
  ASSERT_EQ(too_many.errors.size(), 1u) << all(too_many.errors);
  EXPECT_EQ(too_many.errors[0].to_string(),
            "v.yaml:7:26: alarms[0].datapoints_to_alarm: 4 is out of range; expected 1 to 3");
}

TEST(AlarmSource, ExactlyOneOfMetricAndAuditFilter) {
  auto both = load_text(alarm_with("    audit_filter: {results: [failure]}\n"));
  ASSERT_EQ(both.errors.size(), 1u) << all(both.errors);
  EXPECT_EQ(both.errors[0].to_string(), "v.yaml:6:19: alarms[0].audit_filter: set either metric or audit_filter, not both");
  auto neither = load_text("alarms:\n  - name: a\n    comparison: LessThanThreshold\n    threshold: 0\n");
  ASSERT_EQ(neither.errors.size(), 1u) << all(neither.errors);
  EXPECT_EQ(neither.errors[0].key_path, "alarms[0].metric");
  EXPECT_EQ(neither.errors[0].line, 2);
  EXPECT_THAT(neither.errors[0].message, HasSubstr("missing required key"));
  auto bad_result = load_text(
      "alarms:\n  - name: a\n    audit_filter: {results: [failur]}\n    comparison: LessThanThreshold\n"
      "    threshold: 0\n");
  ASSERT_EQ(bad_result.errors.size(), 1u) << all(bad_result.errors);
  EXPECT_EQ(bad_result.errors[0].key_path, "alarms[0].audit_filter.results[0]");
  EXPECT_THAT(bad_result.errors[0].message, HasSubstr("did you mean \"failure\"?"));
}

TEST(AlarmNames, MustBeUnique) {
  auto load = load_text(
      "alarms:\n"
      "  - {name: dup, metric: m, comparison: LessThanThreshold, threshold: 0}\n"
      "  - {name: dup, metric: m, comparison: LessThanThreshold, threshold: 0}\n");
  ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
  EXPECT_EQ(load.errors[0].to_string(), "v.yaml:3:12: alarms[1].name: duplicate alarm name \"dup\" (first used at line 2)");
}

TEST(AlarmThreshold, MustBeANumber) {
  auto load = load_text("alarms:\n  - {name: a, metric: m, comparison: LessThanThreshold, threshold: high}\n");
  ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
  EXPECT_EQ(load.errors[0].to_string(), "v.yaml:2:68: alarms[0].threshold: expected a number, got \"high\"");
}

TEST(Metrics, LongIntervalWithoutFlushIntervalIsValid) {
  auto load = load_text("metrics: {interval: 5m}\n");
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  EXPECT_EQ(load.config->metrics.flush_interval, std::chrono::minutes(5));
}

TEST(Metrics, NamespaceRules) {
  auto reserved = load_text("metrics: {namespace: AWS/EC2}\n");
  ASSERT_EQ(reserved.errors.size(), 1u);
  EXPECT_THAT(reserved.errors[0].message, HasSubstr("reserved"));
  auto empty = load_text("metrics: {namespace: \"\"}\n");
  ASSERT_EQ(empty.errors.size(), 1u);
  EXPECT_EQ(empty.errors[0].to_string(), "v.yaml:1:22: metrics.namespace: must be 1 to 255 characters long, got 0");
  auto control = load_text("metrics: {namespace: \"Trail\\bwatch\"}\n");
  ASSERT_EQ(control.errors.size(), 1u) << all(control.errors);
  EXPECT_EQ(control.errors[0].to_string(),
            "v.yaml:1:22: metrics.namespace: byte 0x08 at position 6 is not allowed: CloudWatch namespaces are printable ASCII");
  auto non_ascii = load_text("metrics: {namespace: \"Caf\xc3\xa9\"}\n");
  ASSERT_EQ(non_ascii.errors.size(), 1u) << all(non_ascii.errors);
  EXPECT_THAT(non_ascii.errors[0].message, HasSubstr("byte 0xc3 at position 4"));
  auto colon = load_text("metrics: {namespace: \":Mine\"}\n");
  ASSERT_EQ(colon.errors.size(), 1u) << all(colon.errors);
  EXPECT_THAT(colon.errors[0].message, HasSubstr("may not start with ':'"));
  EXPECT_EQ(agent::metrics_namespace_problem("CWAgent"), "");
  EXPECT_EQ(agent::metrics_namespace_problem("My App/Web #1: prod"), "");
  EXPECT_NE(agent::metrics_namespace_problem(""), "");
  EXPECT_NE(agent::metrics_namespace_problem(std::string(256, 'a')), "");
  EXPECT_EQ(agent::metrics_namespace_problem(std::string(255, 'a')), "");
  auto bad_dimension = load_text("metrics: {append_dimensions: [InstanceId, InstanceID]}\n");
  ASSERT_EQ(bad_dimension.errors.size(), 1u);
  EXPECT_EQ(bad_dimension.errors[0].key_path, "metrics.append_dimensions[1]");
  EXPECT_THAT(bad_dimension.errors[0].message, HasSubstr("did you mean \"InstanceId\"?"));
}

TEST(TrailSinks, TypeSpecificKeysAreCheckedPerType) {
  auto load = load_text("trail:\n  sinks:\n    - type: cloudwatch_logs\n      log_group: g\n      bucket: b\n");
  ASSERT_EQ(load.errors.size(), 1u) << all(load.errors);
  EXPECT_EQ(load.errors[0].to_string(),
            "v.yaml:5:7: trail.sinks[0].bucket: unknown key; allowed keys: type, log_group, log_stream, create");
  auto missing_type = load_text("trail:\n  sinks:\n    - log_group: g\n");
  ASSERT_EQ(missing_type.errors.size(), 1u) << all(missing_type.errors);
  EXPECT_EQ(missing_type.errors[0].to_string(), "v.yaml:3:7: trail.sinks[0].type: missing required key");
  auto none = load_text("trail: {sinks: []}\n");
  ASSERT_TRUE(none.config.has_value());
  EXPECT_TRUE(none.config->trail.sinks.empty());
}

std::string logs_sink(std::string_view keys) {
  return "trail:\n  sinks:\n    - type: cloudwatch_logs\n" + std::string(keys);
}

// sinks spec 1.2/1.6: group 1-512 of [.\-_/#A-Za-z0-9], not "aws/..."; stream 1-512 without ':' '*'.
TEST(TrailSinks, LogGroupNamesFollowThePattern) {
  auto space = load_text(logs_sink("      log_group: \"/trail watch\"\n"));
  ASSERT_EQ(space.errors.size(), 1u) << all(space.errors);
  EXPECT_EQ(space.errors[0].to_string(),
            "v.yaml:4:18: trail.sinks[0].log_group: character ' ' at position 7 is not allowed: log group names are "
            "made of A-Z a-z 0-9 . - _ / #");
  auto reserved = load_text(logs_sink("      log_group: aws/trailwatch\n"));
  ASSERT_EQ(reserved.errors.size(), 1u) << all(reserved.errors);
  EXPECT_EQ(reserved.errors[0].to_string(),
            "v.yaml:4:18: trail.sinks[0].log_group: log group names starting with \"aws/\" are reserved for AWS");
  auto colon = load_text(logs_sink("      log_group: \"/trail:watch\"\n"));
  ASSERT_EQ(colon.errors.size(), 1u) << all(colon.errors);
  EXPECT_THAT(colon.errors[0].message, HasSubstr("character ':' at position 7 is not allowed"));
  auto control = load_text(logs_sink("      log_group: \"/trail\\twatch\"\n"));
  ASSERT_EQ(control.errors.size(), 1u) << all(control.errors);
  EXPECT_THAT(control.errors[0].message, HasSubstr("byte 0x09 at position 7 is not allowed"));
  for (const char* good : {"/trailwatch/audit", "a", "my.group-1_x/#2", "AWS/upper-case-is-not-reserved"}) {
    auto load = load_text(logs_sink(std::string("      log_group: \"") + good + "\"\n"));
    EXPECT_TRUE(load.config.has_value()) << good << "\n" << all(load.errors);
  }
}

TEST(TrailSinks, LogStreamNamesMayNotHoldColonOrStar) {
  auto colon = load_text(logs_sink("      log_group: g\n      log_stream: \"host:1\"\n"));
  ASSERT_EQ(colon.errors.size(), 1u) << all(colon.errors);
  EXPECT_EQ(colon.errors[0].to_string(),
            "v.yaml:5:19: trail.sinks[0].log_stream: character ':' at position 5 is not allowed: log stream names may "
            "not contain ':' or '*'");
  auto star = load_text(logs_sink("      log_group: g\n      log_stream: \"*\"\n"));
  ASSERT_EQ(star.errors.size(), 1u) << all(star.errors);
  EXPECT_THAT(star.errors[0].message, HasSubstr("character '*' at position 1 is not allowed"));
  auto empty = load_text(logs_sink("      log_group: g\n      log_stream: \"\"\n"));
  ASSERT_EQ(empty.errors.size(), 1u) << all(empty.errors);
  EXPECT_EQ(empty.errors[0].to_string(),
            "v.yaml:5:19: trail.sinks[0].log_stream: must be 1 to 512 characters long, got 0");
  auto spaces = load_text(logs_sink("      log_group: g\n      log_stream: \"web server #1\"\n"));
  EXPECT_TRUE(spaces.config.has_value()) << all(spaces.errors);
}

// Placeholders are checked as a typical value would fill them in; unknown ones are named.
TEST(TrailSinks, LogNameTemplatesAllowTheKnownPlaceholders) {
  auto good = load_text(logs_sink("      log_group: /trailwatch/{region}/{hostname}\n"
                                  "      log_stream: \"{account_id}_{instance_id}\"\n"));
  ASSERT_TRUE(good.config.has_value()) << all(good.errors);
  EXPECT_EQ(good.config->trail.sinks[0].log_group, "/trailwatch/{region}/{hostname}");
  auto unknown = load_text(logs_sink("      log_group: /trailwatch/{host}\n"));
  ASSERT_EQ(unknown.errors.size(), 1u) << all(unknown.errors);
  EXPECT_EQ(unknown.errors[0].to_string(),
            "v.yaml:4:18: trail.sinks[0].log_group: unknown placeholder \"{host}\" at position 13; known: "
            "{instance_id}, {hostname}, {account_id}, {region}");
  auto unknown_stream = load_text(logs_sink("      log_group: g\n      log_stream: \"{instanceid}\"\n"));
  ASSERT_EQ(unknown_stream.errors.size(), 1u) << all(unknown_stream.errors);
  EXPECT_THAT(unknown_stream.errors[0].message, HasSubstr("unknown placeholder \"{instanceid}\""));
  // Fits as written (511), not once {hostname} is filled in.
  auto long_group = load_text(logs_sink("      log_group: /" + std::string(500, 'a') + "{hostname}\n"));
  ASSERT_EQ(long_group.errors.size(), 1u) << all(long_group.errors);
  EXPECT_THAT(long_group.errors[0].message,
              HasSubstr("would be 526 characters long with its placeholders filled in with typical values; the limit "
                        "is 512"));
  // A brace that opens no placeholder is an ordinary character: invalid in a group, fine in a stream.
  EXPECT_THAT(all(load_text(logs_sink("      log_group: \"/a{b\"\n")).errors),
              HasSubstr("character '{' at position 3 is not allowed"));
  EXPECT_TRUE(load_text(logs_sink("      log_group: g\n      log_stream: \"a{b\"\n")).config.has_value());
  // What the CloudWatch Logs output checks at run time, after expansion.
  EXPECT_EQ(agent::log_group_name_problem("/trailwatch/ip-10-0-1-17"), "");
  EXPECT_EQ(agent::log_group_name_problem(""), "must be 1 to 512 characters long, got 0");
  EXPECT_NE(agent::log_group_name_problem("/trailwatch/{hostname}"), "");  // as a name, '{' is just invalid
  EXPECT_EQ(agent::log_stream_name_problem(std::string(512, 's')), "");
  EXPECT_NE(agent::log_stream_name_problem(std::string(513, 's')), "");
}

// aws-wire 4.3: the channel's account is the eventData recipientAccountId, so the ARN must name it.
TEST(TrailSinks, ChannelArnNamesACloudTrailChannelAndItsAccount) {
  const auto lake = [](std::string_view arn) {
    return load_text("trail:\n  sinks:\n    - type: cloudtrail_lake\n      channel_arn: \"" + std::string(arn) + "\"\n");
  };
  auto good = lake("arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab-cdef-0123-456789abcdef");
  ASSERT_TRUE(good.config.has_value()) << all(good.errors);
  auto short_account = lake("arn:aws:cloudtrail:us-east-1:1234:channel/abc");
  ASSERT_EQ(short_account.errors.size(), 1u) << all(short_account.errors);
  EXPECT_EQ(short_account.errors[0].to_string(),
            "v.yaml:4:20: trail.sinks[0].channel_arn: the account \"1234\" is not a 12-digit AWS account id; "
            "expected arn:<partition>:cloudtrail:<region>:<account>:channel/<id>, got "
            "\"arn:aws:cloudtrail:us-east-1:1234:channel/abc\"");
  EXPECT_THAT(all(lake("arn:aws:sns:us-east-1:123456789012:channel/abc").errors),
              HasSubstr("not a CloudTrail ARN (service \"sns\")"));
  EXPECT_THAT(all(lake("arn:aws:cloudtrail:us-east-1:123456789012:trail/abc").errors),
              HasSubstr("expected arn:<partition>:cloudtrail:<region>:<account>:channel/<id>"));
  EXPECT_THAT(all(lake("arn:aws:cloudtrail:us-east-1:123456789012:channel/").errors),
              HasSubstr("expected arn:<partition>:cloudtrail:<region>:<account>:channel/<id>"));
  EXPECT_THAT(all(lake("arn:aws:cloudtrail::123456789012:channel/abc").errors), HasSubstr("expected arn:"));
  EXPECT_EQ(agent::channel_arn_account("arn:aws-cn:cloudtrail:cn-north-1:123456789012:channel/abc"), "123456789012");
  EXPECT_EQ(agent::channel_arn_account("abc"), "");
}

TEST(TrailSinks, S3AccountIdIsTwelveDigits) {
  const auto s3 = [](std::string_view account) {
    return load_text("trail:\n  sinks:\n    - type: s3\n      bucket: trail-bucket\n      account_id: \"" +
                     std::string(account) + "\"\n");
  };
  EXPECT_TRUE(s3("123456789012").config.has_value());
  auto bad = s3("12345678901x");
  ASSERT_EQ(bad.errors.size(), 1u) << all(bad.errors);
  EXPECT_EQ(bad.errors[0].to_string(),
            "v.yaml:5:19: trail.sinks[0].account_id: expected a 12-digit AWS account id, got \"12345678901x\"");
}

TEST(Delivery, SpoolDirDefaultsUnderStateDirAndBackoffIsOrdered) {
  auto load = load_text("agent: {state_dir: /data/tw}\n");
  ASSERT_TRUE(load.config.has_value());
  EXPECT_EQ(load.config->delivery.spool_dir, "/data/tw/spool");
  auto inverted = load_text("delivery: {retry_base: 50s, retry_max_backoff: 10s}\n");
  ASSERT_EQ(inverted.errors.size(), 1u) << all(inverted.errors);
  EXPECT_EQ(inverted.errors[0].key_path, "delivery.retry_max_backoff");
}

TEST(Audit, EnabledNeedsAtLeastOneFile) {
  auto load = load_text("audit: {files: []}\n");
  ASSERT_EQ(load.errors.size(), 1u);
  EXPECT_EQ(load.errors[0].key_path, "audit.files");
  EXPECT_TRUE(load_text("audit: {enabled: false, files: []}\n").config.has_value());
}

TEST(RelativePaths, ResolveAgainstTheConfigFilesDirectory) {
  common::MapEnvironment env({{"AWS_CA_BUNDLE", "relative/from/env.pem"}});
  const std::string path = tests::config_data("good/relative_paths.yaml");
  auto load = agent::load_config_file(path, env);
  ASSERT_TRUE(load.config.has_value()) << all(load.errors);
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const auto expect = [&dir](const char* p) { return (dir / p).lexically_normal().string(); };
  const agent::AgentConfig& c = *load.config;
  EXPECT_EQ(c.agent.state_dir, expect("state"));
  EXPECT_EQ(c.delivery.spool_dir, expect("state/spool"));
  EXPECT_EQ(c.aws.ca_bundle, expect("certs/ca.pem"));  // the file wins over AWS_CA_BUNDLE
  EXPECT_EQ(c.audit.files, (std::vector<std::string>{expect("logs/audit*.log"), "/var/log/audit/audit.log"}));
  EXPECT_EQ(c.local.path, expect("out/events.jsonl"));
  auto from_env = agent::load_config_file(tests::config_data("good/minimal.yaml"), env);
  ASSERT_TRUE(from_env.config.has_value());
  EXPECT_EQ(from_env.config->aws.ca_bundle, "relative/from/env.pem");  // env values are not rebased
}

TEST(RelativePaths, TextWithoutDirectoryKeepsThemAsWritten) {
  auto load = load_text("agent: {state_dir: state}\nlocal: {path: out.jsonl}\n", "inline");
  ASSERT_TRUE(load.config.has_value());
  EXPECT_EQ(load.config->agent.state_dir, "state");
  EXPECT_EQ(load.config->local.path, "out.jsonl");
  auto with_dir = load_text("agent: {state_dir: ../state}\n", "/etc/trailwatch/config.yaml");
  EXPECT_EQ(with_dir.config->agent.state_dir, "/etc/state");
}

TEST(Dump, EffectiveConfigLoadsBackToTheSameConfig) {
  for (const char* file : {"good/full.yaml", "good/minimal.yaml"}) {
    common::MapEnvironment env;
    auto first = agent::load_config_file(tests::config_data(file), env);
    ASSERT_TRUE(first.config.has_value()) << file << "\n" << all(first.errors);
    const std::string dumped = agent::dump_effective_config(*first.config);
    auto second = agent::load_config_text(dumped, "effective.yaml", env);
    ASSERT_TRUE(second.config.has_value()) << file << "\n" << all(second.errors) << dumped;
    EXPECT_EQ(*second.config, *first.config) << dumped;
  }
}

TEST(Dump, SecretsAreRedacted) {
  common::MapEnvironment env;
  auto load = agent::load_config_file(tests::config_data("good/static_credentials.yaml"), env);
  ASSERT_TRUE(load.config.has_value());
  const std::string dumped = agent::dump_effective_config(*load.config);
  EXPECT_THAT(dumped, HasSubstr("access_key_id: AKIDEXAMPLE"));
  EXPECT_THAT(dumped, HasSubstr("secret_access_key: <redacted>"));
  EXPECT_THAT(dumped, HasSubstr("session_token: <redacted>"));
  EXPECT_EQ(dumped.find("wJalrXUtnFEMI"), std::string::npos);
  EXPECT_EQ(dumped.find("FQoGZXIvYXdzEXAMPLE"), std::string::npos);
}

TEST(Enums, SpellingsMatchTheFile) {
  EXPECT_EQ(agent::to_string(agent::LogLevel::kWarn), "warn");
  EXPECT_EQ(agent::to_string(agent::MetricsOutput::kCloudWatch), "cloudwatch");
  EXPECT_EQ(agent::to_string(agent::SinkType::kCloudTrailLake), "cloudtrail_lake");
  EXPECT_EQ(agent::to_string(agent::S3Encryption::kAwsKms), "aws:kms");
  EXPECT_EQ(agent::to_string(agent::Comparison::kLessThanOrEqualToThreshold), "LessThanOrEqualToThreshold");
  EXPECT_EQ(agent::to_string(agent::TreatMissingData::kNotBreaching), "notBreaching");
}

}  // namespace
