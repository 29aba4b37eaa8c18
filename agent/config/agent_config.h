// AgentConfig: trailwatch's configuration as typed structs with defaults, loaded from one YAML file
// plus the AWS environment variables. Every problem is collected with file:line:col and key path;
// see docs/configuration.md for the schema.
//
//   common::ProcessEnvironment env;
//   agent::ConfigLoad load = agent::load_config_file("config/local.yaml", env);
//   for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
//   if (load.config) run(*load.config);
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/environment.h"
#include "common/config/yaml_reader.h"

namespace agent {

using Millis = std::chrono::milliseconds;

// CloudWatch limits. https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
constexpr size_t kMaxNamespaceLength = 255;
// "" when `ns` is a namespace PutMetricData accepts (1-255 printable ASCII, not starting with ':'),
// that is not reserved for AWS ("AWS/..."); else what is wrong with it, for an error message.
std::string metrics_namespace_problem(std::string_view ns);
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
constexpr size_t kMaxAlarmNameLength = 255;
constexpr int64_t kMaxEvaluationPeriods = 100;  // this agent's limit (local evaluation)

// CloudWatch Logs names (sinks spec 1.2, 1.6).
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html
constexpr size_t kMaxLogGroupNameLength = 512;   // 1-512 of [.\-_/#A-Za-z0-9], not starting with "aws/"
constexpr size_t kMaxLogStreamNameLength = 512;  // 1-512, no ':' or '*'
// The placeholders a trail sink's log_group / log_stream may hold (expanded by the CloudWatch Logs
// output, expand_log_name_template), each with a representative valid value for validation.
struct LogNamePlaceholder {
  std::string_view name;     // "{instance_id}"
  std::string_view example;  // "i-0123456789abcdef0"
};
inline constexpr LogNamePlaceholder kLogNamePlaceholders[] = {
    {"{instance_id}", "i-0123456789abcdef0"},
    {"{hostname}", "ip-10-0-1-17.ec2.internal"},
    {"{account_id}", "123456789012"},
    {"{region}", "us-east-1"},
};
// "" when `name` is a log group name CloudWatch Logs accepts, else what is wrong with it (for an
// error message). with_placeholders: `name` is a config template; the placeholders above are allowed
// (the length counts their example values), any other "{...}" is an error.
std::string log_group_name_problem(std::string_view name, bool with_placeholders = false);
// The same for a log stream name.
std::string log_stream_name_problem(std::string_view name, bool with_placeholders = false);

// CloudTrail Lake channel ARN: "" when `arn` is arn:<partition>:cloudtrail:<region>:<12-digit
// account>:channel/<id>, else what is wrong with it. The account owns the channel and is the
// eventData recipientAccountId (aws-wire 4.3).
std::string channel_arn_problem(std::string_view arn);
// The account of a channel ARN without problems, else "".
std::string channel_arn_account(std::string_view arn);

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class MetricsOutput { kLocal, kCloudWatch };
enum class SinkType { kLocal, kCloudTrailLake, kCloudWatchLogs, kS3 };
enum class S3Encryption { kNone, kAes256, kAwsKms };
enum class Comparison {
  kGreaterThanOrEqualToThreshold,
  kGreaterThanThreshold,
  kLessThanThreshold,
  kLessThanOrEqualToThreshold,
};
enum class TreatMissingData { kMissing, kIgnore, kBreaching, kNotBreaching };

// The spelling used in the config file ("info", "cloudwatch", "cloudtrail_lake", "aws:kms", ...).
std::string_view to_string(LogLevel value);
std::string_view to_string(MetricsOutput value);
std::string_view to_string(SinkType value);
std::string_view to_string(S3Encryption value);
std::string_view to_string(Comparison value);
std::string_view to_string(TreatMissingData value);

struct AgentSection {
  std::string state_dir = "/var/lib/trailwatch";  // relative: against the config file's directory
  LogLevel log_level = LogLevel::kInfo;
  std::string proc_root = "/proc";
  Millis shutdown_timeout{5'000};  // flush deadline on SIGTERM
  std::string hostname;            // empty = detect
  bool operator==(const AgentSection&) const = default;
};

struct StaticCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  bool operator==(const StaticCredentials&) const = default;
};

struct ImdsConfig {
  bool enabled = true;
  std::string endpoint = "http://169.254.169.254";
  bool allow_imdsv1 = false;
  Millis timeout{1'000};
  int retries = 1;
  bool operator==(const ImdsConfig&) const = default;
};

// Endpoint overrides; empty = the standard regional endpoint.
struct AwsEndpoints {
  std::string cloudwatch;
  std::string cloudwatch_logs;
  std::string cloudtrail_data;
  std::string s3;
  std::string sns;
  std::string sts;
  std::string ssm;  // Parameter Store, for `--config ssm:NAME` re-fetches (docs/configuration.md)
  bool operator==(const AwsEndpoints&) const = default;
};

struct AwsConfig {
  std::string region;
  std::string profile;
  std::string role_arn;
  std::optional<StaticCredentials> credentials;
  ImdsConfig imds;
  AwsEndpoints endpoints;
  bool use_fips = false;
  bool use_dualstack = false;
  std::string proxy;
  std::string no_proxy;
  std::string ca_bundle;
  bool operator==(const AwsConfig&) const = default;
};

struct CpuMetrics {
  bool enabled = true;
  bool per_cpu = false;
  bool total = true;
  bool operator==(const CpuMetrics&) const = default;
};

struct MemoryMetrics {
  bool enabled = true;
  bool swap = true;
  bool operator==(const MemoryMetrics&) const = default;
};

struct NetworkMetrics {
  bool enabled = true;
  std::vector<std::string> include{"*"};  // interface globs
  std::vector<std::string> exclude{"lo"};
  bool operator==(const NetworkMetrics&) const = default;
};

struct MetricsConfig {
  bool enabled = true;
  Millis interval{60'000};
  Millis flush_interval{60'000};  // >= interval
  std::string namespace_name = "CWAgent";  // key "namespace"
  bool high_resolution = false;
  MetricsOutput output = MetricsOutput::kLocal;
  CpuMetrics cpu;
  MemoryMetrics memory;
  NetworkMetrics network;
  std::vector<std::string> append_dimensions;  // InstanceId|InstanceType|ImageId|AutoScalingGroupName
  std::map<std::string, std::string> dimensions;  // static dimensions on every metric
  std::vector<std::vector<std::string>> aggregation_dimensions;
  bool operator==(const MetricsConfig&) const = default;
};

// Matches audit events; an empty list matches everything.
struct AuditFilter {
  std::vector<std::string> record_types;
  std::vector<std::string> keys;
  std::vector<std::string> users;
  std::vector<std::string> results;  // success|failure
  bool empty() const { return record_types.empty() && keys.empty() && users.empty() && results.empty(); }
  bool operator==(const AuditFilter&) const = default;
};

struct AuditFilters {
  AuditFilter include;
  AuditFilter exclude;
  bool operator==(const AuditFilters&) const = default;
};

struct AuditConfig {
  bool enabled = true;
  std::vector<std::string> files{"/var/log/audit/audit.log"};  // globs allowed; relative: config dir
  Millis event_timeout{2'000};
  uint64_t max_line_bytes = 64 * 1024;
  Millis poll_interval{1'000};
  AuditFilters filters;
  bool operator==(const AuditConfig&) const = default;
};

// One trail destination. Only the fields of its type are read from the file.
struct TrailSink {
  SinkType type = SinkType::kLocal;
  // cloudtrail_lake
  std::string channel_arn;
  // cloudwatch_logs
  std::string log_group;
  std::string log_stream = "{instance_id}";
  bool create = true;
  // s3
  std::string bucket;
  std::string prefix;
  std::string account_id;
  Millis interval{5 * 60'000};
  uint64_t max_object_size = 64ull * 1024 * 1024;
  S3Encryption sse = S3Encryption::kNone;
  std::string kms_key_id;
  bool operator==(const TrailSink&) const = default;
};

struct TrailConfig {
  std::vector<TrailSink> sinks{TrailSink{}};
  bool operator==(const TrailConfig&) const = default;
};

struct AlarmConfig {
  std::string name;
  std::string description;
  std::string metric;                        // exactly one of metric / audit_filter
  std::optional<AuditFilter> audit_filter;
  std::map<std::string, std::string> dimensions;
  std::string statistic = "Average";         // Average|Minimum|Maximum|Sum|SampleCount|pNN[.N]
  Millis period{60'000};
  int evaluation_periods = 1;
  int datapoints_to_alarm = 1;               // 1..evaluation_periods; default = evaluation_periods
  Comparison comparison = Comparison::kGreaterThanOrEqualToThreshold;
  double threshold = 0;
  TreatMissingData treat_missing_data = TreatMissingData::kMissing;
  std::vector<std::string> alarm_actions;    // SNS topic ARNs
  std::vector<std::string> ok_actions;
  std::vector<std::string> insufficient_data_actions;
  Millis repeat_interval{0};                 // 0 = notify on transitions only
  bool operator==(const AlarmConfig&) const = default;
};

struct DeliveryConfig {
  std::string spool_dir;  // the loader fills in <state_dir>/spool when the file leaves it empty
  uint64_t max_spool_size = 256ull * 1024 * 1024;
  int64_t max_queue_records = 100'000;
  int max_retries = 5;
  Millis retry_base{100};
  Millis retry_max_backoff{20'000};
  bool operator==(const DeliveryConfig&) const = default;
};

struct LocalConfig {
  std::string path = "-";  // "-" = stdout; relative: config dir
  bool pretty = false;
  bool operator==(const LocalConfig&) const = default;
};

struct AgentConfig {
  AgentSection agent;
  AwsConfig aws;
  MetricsConfig metrics;
  AuditConfig audit;
  TrailConfig trail;
  std::vector<AlarmConfig> alarms;
  DeliveryConfig delivery;
  LocalConfig local;
  // Where environment-dependent values came from, by key path: "config", "env AWS_REGION", ...
  // Keys left at their defaults are not listed. Not part of equality.
  std::map<std::string, std::string> sources;

  bool operator==(const AgentConfig& other) const {
    return agent == other.agent && aws == other.aws && metrics == other.metrics && audit == other.audit &&
           trail == other.trail && alarms == other.alarms && delivery == other.delivery && local == other.local;
  }
};

struct ConfigLoad {
  std::optional<AgentConfig> config;  // set only when there are no errors
  std::vector<common::ConfigDiagnostic> errors;
  std::vector<common::ConfigDiagnostic> warnings;
};

// Reads and validates a config file. Relative paths in it resolve against the file's directory.
ConfigLoad load_config_file(const std::string& path, const common::Environment& env);

// Same for text already in memory; `display_name` names it in diagnostics and its directory part
// (if any) is the base for relative paths, unless base_dir is given (a config fetched from SSM,
// display name "ssm:/trailwatch/fleet", resolves against the state directory).
ConfigLoad load_config_text(std::string_view yaml, const std::string& display_name, const common::Environment& env,
                            const std::optional<std::string>& base_dir = std::nullopt);

// The resolved configuration as YAML (loadable again), with secret_access_key and session_token
// shown as "<redacted>".
std::string dump_effective_config(const AgentConfig& config);

}  // namespace agent
