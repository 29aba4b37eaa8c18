#include "agent/config/agent_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <filesystem>
#include <limits>
#include <set>
#include <tuple>

#include "common/config/units.h"
#include "common/text/redact.h"

namespace agent {
namespace {

// "character 'x'" for a printable ASCII character, else "byte 0x1d": for "... is not allowed" messages.
std::string describe_name_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return "character '" + std::string(1, c) + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
}

bool is_account_id(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

using common::ConfigDocument;
using common::ConfigNode;
using namespace std::chrono_literals;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
constexpr Millis kDay = 24h;

// ---- enum spellings -----------------------------------------------------------------------------

template <typename E>
struct Spelling {
  E value;
  std::string_view name;
};

constexpr Spelling<LogLevel> kLogLevels[] = {
    {LogLevel::kTrace, "trace"}, {LogLevel::kDebug, "debug"}, {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},   {LogLevel::kError, "error"}, {LogLevel::kOff, "off"},
};
constexpr Spelling<MetricsOutput> kMetricsOutputs[] = {
    {MetricsOutput::kLocal, "local"},
    {MetricsOutput::kCloudWatch, "cloudwatch"},
};
constexpr Spelling<SinkType> kSinkTypes[] = {
    {SinkType::kLocal, "local"},
    {SinkType::kCloudTrailLake, "cloudtrail_lake"},
    {SinkType::kCloudWatchLogs, "cloudwatch_logs"},
    {SinkType::kS3, "s3"},
};
constexpr Spelling<S3Encryption> kS3Encryptions[] = {
    {S3Encryption::kNone, "none"},
    {S3Encryption::kAes256, "AES256"},
    {S3Encryption::kAwsKms, "aws:kms"},
};
constexpr Spelling<Comparison> kComparisons[] = {
    {Comparison::kGreaterThanOrEqualToThreshold, "GreaterThanOrEqualToThreshold"},
    {Comparison::kGreaterThanThreshold, "GreaterThanThreshold"},
    {Comparison::kLessThanThreshold, "LessThanThreshold"},
    {Comparison::kLessThanOrEqualToThreshold, "LessThanOrEqualToThreshold"},
};
constexpr Spelling<TreatMissingData> kTreatMissingData[] = {
    {TreatMissingData::kMissing, "missing"},
    {TreatMissingData::kIgnore, "ignore"},
    {TreatMissingData::kBreaching, "breaching"},
    {TreatMissingData::kNotBreaching, "notBreaching"},
};

template <typename E, size_t N>
std::vector<std::string_view> names_of(const Spelling<E> (&table)[N]) {
  std::vector<std::string_view> out;
  for (const auto& s : table) out.push_back(s.name);
  return out;
}

template <typename E, size_t N>
std::string_view name_of(const Spelling<E> (&table)[N], E value) {
  for (const auto& s : table) {
    if (s.value == value) return s.name;
  }
  return "?";
}

// The enum value of `key`, or `fallback` when absent or invalid (invalid is reported).
template <typename E, size_t N>
E get_enum(const ConfigNode& node, std::string_view key, E fallback, const Spelling<E> (&table)[N]) {
  auto text = node.child(key).as_enum(names_of(table));
  if (!text) return fallback;
  for (const auto& s : table) {
    if (s.name == *text) return s.value;
  }
  return fallback;
}

// ---- helpers ------------------------------------------------------------------------------------

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool is_http_url(std::string_view text) {
  return (starts_with(text, "http://") && text.size() > 7) || (starts_with(text, "https://") && text.size() > 8);
}

// Relative paths in the file are relative to the file's directory, not to the working directory.
std::string resolve_path(const std::string& path, const std::filesystem::path& base_dir) {
  if (path.empty() || path == "-" || base_dir.empty()) return path;
  const std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (base_dir / p).lexically_normal().string();
}

// "" when `text` may be a path or a name, else what is wrong: a control character (0x00-0x1f, 0x7f)
// would cut a path at the NUL (the C library stops there: "/tmp/x\0y" opens "/tmp/x") or reach a
// log line or an AWS request as it is. Only the byte and its position are printed.
std::string control_character_problem(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u < 0x20 || u == 0x7f) {
      return describe_name_byte(text[i]) + " at position " + std::to_string(i + 1) +
             " is not allowed: paths and names may not hold control characters";
    }
  }
  return {};
}

// "" when `value` is an http(s) URL trailwatch can send AWS requests to, else what is wrong with it.
// The value is quoted with any "user:password@" replaced by "***@".
std::string endpoint_url_problem(std::string_view value) {
  if (!is_http_url(value)) {
    return "expected a URL starting with http:// or https://, got " + in_quotes(common::redact_url_userinfo(value));
  }
  if (std::string problem = control_character_problem(value); !problem.empty()) return problem;
  if (common::url_has_userinfo(value)) {
    return "a user name or password in an endpoint URL is not allowed (got " +
           in_quotes(common::redact_url_userinfo(value)) +
           "): AWS requests are signed with the AWS credentials; remove the part up to and including '@'";
  }
  return {};
}

void check_url(const ConfigNode& node, const std::string& value) {
  if (value.empty()) return;
  if (std::string problem = endpoint_url_problem(value); !problem.empty()) node.error(problem);
}

// A string used as a path or a name: no control characters (reported at its position).
std::optional<std::string> plain_string(const ConfigNode& node) {
  auto value = node.as_string();
  if (!value) return std::nullopt;
  if (std::string problem = control_character_problem(*value); !problem.empty()) {
    node.error(problem);
    return std::nullopt;
  }
  return value;
}

std::string get_plain_string(const ConfigNode& section, std::string_view key, std::string fallback) {
  return plain_string(section.child(key)).value_or(std::move(fallback));
}

// A list of paths or names; an item with a control character is reported and left out.
std::vector<std::string> get_plain_string_list(const ConfigNode& section, std::string_view key,
                                               std::vector<std::string> fallback) {
  auto value = section.child(key).as_string_list();
  if (!value) return fallback;
  for (const ConfigNode& item : section.child(key).items()) (void)plain_string(item);
  std::erase_if(*value, [](const std::string& s) { return !control_character_problem(s).empty(); });
  return std::move(*value);
}

// A map of names (dimensions): keys and values without control characters; a null value is "".
std::map<std::string, std::string> get_plain_string_map(const ConfigNode& section, std::string_view key) {
  const ConfigNode node = section.child(key);
  if (!node.is_map()) return section.get_string_map(key, {});  // absent, or its type error once
  std::map<std::string, std::string> out;
  for (auto& [name, item] : node.entries()) {
    if (std::string problem = control_character_problem(name); !problem.empty()) {
      item.error("in the name: " + problem);
      continue;
    }
    if (auto value = item.present() ? plain_string(item) : std::optional<std::string>("")) out[name] = *value;
  }
  return out;
}

std::string get_url(const ConfigNode& section, std::string_view key, std::string fallback) {
  ConfigNode node = section.child(key);
  auto value = node.as_string();
  if (!value) return fallback;
  check_url(node, *value);
  return *value;
}

// A string of bounded length (minimum 1 means "must not be empty"), without control characters
// unless `checked_later` (the caller has a more specific rule for the characters).
std::string get_bounded_string(const ConfigNode& section, std::string_view key, std::string fallback,
                               size_t min_length, size_t max_length, bool checked_later = false) {
  ConfigNode node = section.child(key);
  auto value = checked_later ? node.as_string() : plain_string(node);
  if (!value) return fallback;
  if (value->size() < min_length || value->size() > max_length) {
    node.error("must be " + std::to_string(min_length) + " to " + std::to_string(max_length) +
               " characters long, got " + std::to_string(value->size()));
    return fallback;
  }
  return *value;
}

std::vector<std::string> get_enum_list(const ConfigNode& section, std::string_view key,
                                       const std::vector<std::string_view>& allowed) {
  std::vector<std::string> out;
  for (const ConfigNode& item : section.child(key).items()) {
    if (auto value = item.as_enum(allowed)) out.push_back(*value);
  }
  return out;
}

std::vector<std::string> get_sns_arns(const ConfigNode& section, std::string_view key) {
  std::vector<std::string> out;
  for (const ConfigNode& item : section.child(key).items()) {
    auto value = item.as_string();
    if (!value) continue;
    if (!starts_with(*value, "arn:") || value->find(":sns:") == std::string::npos) {
      item.error("expected an SNS topic ARN like \"arn:aws:sns:us-east-1:123456789012:alerts\", got " +
                 in_quotes(*value));
      continue;
    }
    out.push_back(*value);
  }
  return out;
}

// Average|Minimum|Maximum|Sum|SampleCount, or a percentile pNN / pNN.N / pNN.NN with 0 < NN < 100.
bool is_valid_statistic(std::string_view text) {
  for (std::string_view s : {"Average", "Minimum", "Maximum", "Sum", "SampleCount"}) {
    if (text == s) return true;
  }
  if (text.size() < 2 || text[0] != 'p') return false;
  const std::string_view number = text.substr(1);
  const size_t dot = number.find('.');
  const std::string_view whole = number.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : number.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 2 || !all_digits(whole)) return false;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 2 || !all_digits(fraction))) {
    return false;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  return ec == std::errc() && ptr == number.data() + number.size() && value > 0 && value < 100;
}

// ---- sections -----------------------------------------------------------------------------------

struct Context {
  const common::Environment& env;
  std::filesystem::path base_dir;
  ConfigDocument& doc;
  AgentConfig& config;
};

AgentSection parse_agent(const ConfigNode& n, const Context& ctx) {
  n.expect_keys({"state_dir", "log_level", "proc_root", "shutdown_timeout", "hostname"});
  AgentSection s;
  s.state_dir = resolve_path(get_bounded_string(n, "state_dir", s.state_dir, 1, 4096), ctx.base_dir);
  s.log_level = get_enum(n, "log_level", s.log_level, kLogLevels);
  s.proc_root = get_bounded_string(n, "proc_root", s.proc_root, 1, 4096);
  s.shutdown_timeout = n.get_duration("shutdown_timeout", s.shutdown_timeout, 0s, 60s);
  s.hostname = get_plain_string(n, "hostname", s.hostname);
  return s;
}

AuditFilter parse_audit_filter(const ConfigNode& n) {
  n.expect_keys({"record_types", "keys", "users", "results"});
  AuditFilter f;
  f.record_types = n.get_string_list("record_types", {});
  f.keys = n.get_string_list("keys", {});
  f.users = n.get_string_list("users", {});
  f.results = get_enum_list(n, "results", {"success", "failure"});
  return f;
}

AwsConfig parse_aws(const ConfigNode& n, const Context& ctx) {
  n.expect_keys({"region", "profile", "role_arn", "credentials", "imds", "endpoints", "use_fips", "use_dualstack",
                 "proxy", "no_proxy", "ca_bundle"});
  AwsConfig a;
  a.region = get_plain_string(n, "region", a.region);
  a.profile = get_plain_string(n, "profile", a.profile);
  {
    ConfigNode role = n.child("role_arn");
    a.role_arn = plain_string(role).value_or("");
    if (!a.role_arn.empty() && !starts_with(a.role_arn, "arn:")) {
      role.error("expected an IAM role ARN starting with \"arn:\", got " + in_quotes(a.role_arn));
    }
  }
  ConfigNode credentials = n.section("credentials");
  if (credentials.present()) {
    credentials.expect_keys({"access_key_id", "secret_access_key", "session_token"});
    credentials.warning("static credentials in the config file; prefer an instance profile");
    // As ssh does for a private key: a secret key that others can read is as good as published.
    if (auto mode = ctx.doc.file_mode(); mode && (*mode & 077) != 0) {
      credentials.warning("this file holds a secret access key and group or others can read it (mode " +
                          common::format_file_mode(*mode) + "); run chmod 600 " + ctx.doc.file() +
                          " (or chmod 640 with a group only trailwatch is in)");
    }
    StaticCredentials c;
    if (credentials.require("access_key_id")) c.access_key_id = credentials.get_string("access_key_id", "");
    if (credentials.require("secret_access_key")) {
      c.secret_access_key = credentials.get_string("secret_access_key", "");
    }
    c.session_token = credentials.get_string("session_token", "");
    a.credentials = c;
  }
  ConfigNode imds = n.section("imds");
  imds.expect_keys({"enabled", "endpoint", "allow_imdsv1", "timeout", "retries"});
  a.imds.enabled = imds.get_bool("enabled", a.imds.enabled);
  a.imds.endpoint = get_url(imds, "endpoint", a.imds.endpoint);
  a.imds.allow_imdsv1 = imds.get_bool("allow_imdsv1", a.imds.allow_imdsv1);
  a.imds.timeout = imds.get_duration("timeout", a.imds.timeout, 100ms, 10s);
  a.imds.retries = static_cast<int>(imds.get_int("retries", a.imds.retries, 0, 5));

  ConfigNode endpoints = n.section("endpoints");
  endpoints.expect_keys({"cloudwatch", "cloudwatch_logs", "cloudtrail_data", "s3", "sns", "sts", "ssm"});
  a.endpoints.cloudwatch = get_url(endpoints, "cloudwatch", "");
  a.endpoints.cloudwatch_logs = get_url(endpoints, "cloudwatch_logs", "");
  a.endpoints.cloudtrail_data = get_url(endpoints, "cloudtrail_data", "");
  a.endpoints.s3 = get_url(endpoints, "s3", "");
  a.endpoints.sns = get_url(endpoints, "sns", "");
  a.endpoints.sts = get_url(endpoints, "sts", "");
  a.endpoints.ssm = get_url(endpoints, "ssm", "");

  a.use_fips = n.get_bool("use_fips", a.use_fips);
  a.use_dualstack = n.get_bool("use_dualstack", a.use_dualstack);
  a.proxy = get_plain_string(n, "proxy", a.proxy);
  a.no_proxy = get_plain_string(n, "no_proxy", a.no_proxy);
  a.ca_bundle = resolve_path(get_plain_string(n, "ca_bundle", a.ca_bundle), ctx.base_dir);
  return a;
}

MetricsConfig parse_metrics(const ConfigNode& n) {
  n.expect_keys({"enabled", "interval", "flush_interval", "namespace", "high_resolution", "output", "cpu", "memory",
                 "network", "append_dimensions", "dimensions", "aggregation_dimensions"});
  MetricsConfig m;
  m.enabled = n.get_bool("enabled", m.enabled);
  const auto interval = n.child("interval").as_duration(1s, 1h);
  m.interval = interval.value_or(m.interval);
  // Unset flush_interval follows a long interval, so "interval: 5m" alone is valid.
  const auto flush_interval = n.child("flush_interval").as_duration(1s, 1h);
  m.flush_interval = flush_interval.value_or(std::max(m.flush_interval, m.interval));
  // Compared only when both were given validly: a bad interval is its own error, not also this one.
  if (flush_interval && (interval || !n.has("interval")) && m.flush_interval < m.interval) {
    n.child("flush_interval")
        .error(common::format_duration(m.flush_interval) + " is shorter than metrics.interval (" +
               common::format_duration(m.interval) + "); it must be at least the interval");
  }
  {
    ConfigNode ns = n.child("namespace");
    m.namespace_name = get_bounded_string(n, "namespace", m.namespace_name, 1, kMaxNamespaceLength, true);
    if (ns.present() && !m.namespace_name.empty() && m.namespace_name.size() <= kMaxNamespaceLength) {
      if (std::string problem = metrics_namespace_problem(m.namespace_name); !problem.empty()) ns.error(problem);
    }
  }
  m.high_resolution = n.get_bool("high_resolution", m.high_resolution);
  m.output = get_enum(n, "output", m.output, kMetricsOutputs);

  ConfigNode cpu = n.section("cpu");
  cpu.expect_keys({"enabled", "per_cpu", "total"});
  m.cpu.enabled = cpu.get_bool("enabled", m.cpu.enabled);
  m.cpu.per_cpu = cpu.get_bool("per_cpu", m.cpu.per_cpu);
  m.cpu.total = cpu.get_bool("total", m.cpu.total);

  ConfigNode memory = n.section("memory");
  memory.expect_keys({"enabled", "swap"});
  m.memory.enabled = memory.get_bool("enabled", m.memory.enabled);
  m.memory.swap = memory.get_bool("swap", m.memory.swap);

  ConfigNode network = n.section("network");
  network.expect_keys({"enabled", "include", "exclude"});
  m.network.enabled = network.get_bool("enabled", m.network.enabled);
  m.network.include = get_plain_string_list(network, "include", m.network.include);
  m.network.exclude = get_plain_string_list(network, "exclude", m.network.exclude);

  m.append_dimensions =
      get_enum_list(n, "append_dimensions", {"InstanceId", "InstanceType", "ImageId", "AutoScalingGroupName"});
  m.dimensions = get_plain_string_map(n, "dimensions");
  for (const ConfigNode& item : n.child("aggregation_dimensions").items()) {
    if (auto names = item.as_string_list()) m.aggregation_dimensions.push_back(std::move(*names));
  }
  return m;
}

AuditConfig parse_audit(const ConfigNode& n, const Context& ctx) {
  n.expect_keys({"enabled", "files", "event_timeout", "max_line_bytes", "poll_interval", "filters"});
  AuditConfig a;
  a.enabled = n.get_bool("enabled", a.enabled);
  if (auto files = n.child("files").as_string_list()) {
    a.files.clear();
    for (const ConfigNode& item : n.child("files").items()) {
      if (auto f = plain_string(item)) a.files.push_back(resolve_path(*f, ctx.base_dir));
    }
    if (files->empty() && a.enabled) {
      n.child("files").error("must list at least one file while audit.enabled is true");
    }
  }
  a.event_timeout = n.get_duration("event_timeout", a.event_timeout, 100ms, 60s);
  a.max_line_bytes = n.get_size("max_line_bytes", a.max_line_bytes, kKiB, 16 * kMiB);
  a.poll_interval = n.get_duration("poll_interval", a.poll_interval, 100ms, 1min);
  ConfigNode filters = n.section("filters");
  filters.expect_keys({"include", "exclude"});
  a.filters.include = parse_audit_filter(filters.section("include"));
  a.filters.exclude = parse_audit_filter(filters.section("exclude"));
  return a;
}

TrailSink parse_trail_sink(const ConfigNode& n) {
  TrailSink s;
  if (!n.require("type")) {
    return s;
  }
  auto type_name = n.child("type").as_enum(names_of(kSinkTypes));
  if (!type_name) return s;
  s.type = get_enum(n, "type", s.type, kSinkTypes);
  switch (s.type) {
    case SinkType::kLocal:
      n.expect_keys({"type"});
      break;
    case SinkType::kCloudTrailLake: {
      n.expect_keys({"type", "channel_arn"});
      if (n.require("channel_arn")) {
        ConfigNode arn = n.child("channel_arn");
        s.channel_arn = plain_string(arn).value_or("");
        // The ARN's account is the eventData recipientAccountId (aws-wire 4.3), so it must be there.
        if (!s.channel_arn.empty()) {
          if (std::string problem = channel_arn_problem(s.channel_arn); !problem.empty()) arn.error(problem);
        }
      }
      break;
    }
    case SinkType::kCloudWatchLogs:
      n.expect_keys({"type", "log_group", "log_stream", "create"});
      // Checked as templates: {instance_id} etc. count as a representative value (sinks spec 1.2).
      if (n.require("log_group")) {
        s.log_group = get_bounded_string(n, "log_group", "", 1, kMaxLogGroupNameLength);
        if (!s.log_group.empty()) {
          if (std::string problem = log_group_name_problem(s.log_group, true); !problem.empty())
            n.child("log_group").error(problem);
        }
      }
      if (n.has("log_stream")) {
        s.log_stream = get_bounded_string(n, "log_stream", s.log_stream, 1, kMaxLogStreamNameLength);
        if (std::string problem = log_stream_name_problem(s.log_stream, true); !problem.empty())
          n.child("log_stream").error(problem);
      }
      s.create = n.get_bool("create", s.create);
      break;
    case SinkType::kS3:
      n.expect_keys({"type", "bucket", "prefix", "account_id", "interval", "max_object_size", "sse", "kms_key_id"});
      if (n.require("bucket")) s.bucket = get_bounded_string(n, "bucket", "", 3, 63);
      s.prefix = get_plain_string(n, "prefix", s.prefix);
      s.account_id = get_plain_string(n, "account_id", s.account_id);
      if (!s.account_id.empty() && !is_account_id(s.account_id)) {
        n.child("account_id").error("expected a 12-digit AWS account id, got " + in_quotes(s.account_id));
      }
      s.interval = n.get_duration("interval", s.interval, 1min, 1h);
      s.max_object_size = n.get_size("max_object_size", s.max_object_size, kMiB, 512 * kMiB);
      s.sse = get_enum(n, "sse", s.sse, kS3Encryptions);
      s.kms_key_id = get_plain_string(n, "kms_key_id", s.kms_key_id);
      if (!s.kms_key_id.empty() && s.sse != S3Encryption::kAwsKms) {
        n.child("kms_key_id").error("kms_key_id needs sse: aws:kms");
      }
      break;
  }
  return s;
}

TrailConfig parse_trail(const ConfigNode& n) {
  n.expect_keys({"sinks"});
  TrailConfig t;
  ConfigNode sinks = n.child("sinks");
  if (!sinks.present()) return t;
  t.sinks.clear();
  for (const ConfigNode& item : sinks.items()) {
    if (!item.is_map()) {
      item.error("expected a map with a \"type\" key");
      continue;
    }
    t.sinks.push_back(parse_trail_sink(item));
  }
  return t;
}

AlarmConfig parse_alarm(const ConfigNode& n) {
  n.expect_keys({"name", "description", "metric", "audit_filter", "dimensions", "statistic", "period",
                 "evaluation_periods", "datapoints_to_alarm", "comparison", "threshold", "treat_missing_data",
                 "alarm_actions", "ok_actions", "insufficient_data_actions", "repeat_interval"});
  AlarmConfig a;
  if (n.require("name")) a.name = get_bounded_string(n, "name", "", 1, kMaxAlarmNameLength);
  a.description = n.get_string("description", a.description);
  const bool has_metric = n.has("metric");
  const bool has_audit_filter = n.has("audit_filter");
  if (has_metric && has_audit_filter) {
    n.child("audit_filter").error("set either metric or audit_filter, not both");
  } else if (!has_metric && !has_audit_filter) {
    n.child("metric").error("missing required key (set metric, or audit_filter for an audit alarm)");
  }
  if (has_metric) a.metric = get_bounded_string(n, "metric", "", 1, 255);
  if (has_audit_filter) {
    ConfigNode filter = n.section("audit_filter");
    if (filter.present()) a.audit_filter = parse_audit_filter(filter);
  }
  a.dimensions = get_plain_string_map(n, "dimensions");
  {
    ConfigNode statistic = n.child("statistic");
    if (auto text = statistic.as_string()) {
      if (is_valid_statistic(*text)) {
        a.statistic = *text;
      } else {
        statistic.error("expected Average, Minimum, Maximum, Sum, SampleCount or a percentile like \"p99\" or "
                        "\"p99.9\", got " + in_quotes(*text));
      }
    }
  }
  a.period = n.get_duration("period", a.period, 1s, kDay);
  a.evaluation_periods = static_cast<int>(n.get_int("evaluation_periods", a.evaluation_periods, 1, kMaxEvaluationPeriods));
  a.datapoints_to_alarm =
      static_cast<int>(n.get_int("datapoints_to_alarm", a.evaluation_periods, 1, a.evaluation_periods));
  if (n.require("comparison")) a.comparison = get_enum(n, "comparison", a.comparison, kComparisons);
  if (n.require("threshold")) {
    a.threshold = n.get_double("threshold", 0, std::numeric_limits<double>::lowest(),
                               std::numeric_limits<double>::max());
  }
  a.treat_missing_data = get_enum(n, "treat_missing_data", a.treat_missing_data, kTreatMissingData);
  a.alarm_actions = get_sns_arns(n, "alarm_actions");
  a.ok_actions = get_sns_arns(n, "ok_actions");
  a.insufficient_data_actions = get_sns_arns(n, "insufficient_data_actions");
  a.repeat_interval = n.get_duration("repeat_interval", a.repeat_interval, 0s, kDay);
  return a;
}

std::vector<AlarmConfig> parse_alarms(const ConfigNode& n) {
  std::vector<AlarmConfig> alarms;
  std::map<std::string, int> first_line;
  for (const ConfigNode& item : n.items()) {
    if (!item.is_map()) {
      item.error("expected a map describing one alarm");
      continue;
    }
    AlarmConfig alarm = parse_alarm(item);
    if (!alarm.name.empty()) {
      ConfigNode name = item.child("name");
      auto [previous, inserted] = first_line.emplace(alarm.name, name.line());
      if (!inserted) {
        name.error("duplicate alarm name " + in_quotes(alarm.name) + " (first used at line " +
                   std::to_string(previous->second) + ")");
      }
    }
    alarms.push_back(std::move(alarm));
  }
  return alarms;
}

DeliveryConfig parse_delivery(const ConfigNode& n, const Context& ctx, const std::string& state_dir) {
  n.expect_keys({"spool_dir", "max_spool_size", "max_queue_records", "max_queue_bytes", "max_retries",
                 "retry_base", "retry_max_backoff"});
  DeliveryConfig d;
  d.spool_dir = resolve_path(get_plain_string(n, "spool_dir", ""), ctx.base_dir);
  if (d.spool_dir.empty()) d.spool_dir = (std::filesystem::path(state_dir) / "spool").string();
  d.max_spool_size = n.get_size("max_spool_size", d.max_spool_size, kMiB, 100 * kGiB);
  d.max_queue_records = n.get_int("max_queue_records", d.max_queue_records, 100, 10'000'000);
  d.max_queue_bytes = n.get_size("max_queue_bytes", d.max_queue_bytes, 64 * 1024, 4 * kGiB);
  d.max_retries = static_cast<int>(n.get_int("max_retries", d.max_retries, 0, 20));
  const auto retry_base = n.child("retry_base").as_duration(10ms, 1min);
  const auto retry_max_backoff = n.child("retry_max_backoff").as_duration(1s, 1h);
  d.retry_base = retry_base.value_or(d.retry_base);
  d.retry_max_backoff = retry_max_backoff.value_or(d.retry_max_backoff);
  const bool both_valid = (retry_base || !n.has("retry_base")) && (retry_max_backoff || !n.has("retry_max_backoff"));
  if (both_valid && d.retry_max_backoff < d.retry_base) {
    n.child(n.has("retry_max_backoff") ? "retry_max_backoff" : "retry_base")
        .error("retry_max_backoff (" + common::format_duration(d.retry_max_backoff) +
               ") must be at least retry_base (" + common::format_duration(d.retry_base) + ")");
  }
  return d;
}

LocalConfig parse_local(const ConfigNode& n, const Context& ctx) {
  n.expect_keys({"path", "pretty"});
  LocalConfig l;
  l.path = resolve_path(get_bounded_string(n, "path", l.path, 1, 4096), ctx.base_dir);
  l.pretty = n.get_bool("pretty", l.pretty);
  return l;
}

// ---- environment --------------------------------------------------------------------------------

// Set and non-empty; AWS SDKs treat an empty variable as unset.
std::optional<std::string> env_value(const common::Environment& env, std::string_view name) {
  auto value = env.get(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::optional<bool> env_bool(const Context& ctx, std::string_view name, const std::string& key_path) {
  auto value = env_value(ctx.env, name);
  if (!value) return std::nullopt;
  std::string lowered = *value;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  if (lowered == "true") return true;
  if (lowered == "false") return false;
  ctx.doc.add_warning(key_path, "ignoring " + std::string(name) + "=" + in_quotes(*value) + ": expected true or false");
  return std::nullopt;
}

// Fills `target` from the first set variable in `names` unless the file set `key` in `section`.
void apply_env_string(const Context& ctx, const ConfigNode& section, std::string_view key,
                      std::initializer_list<std::string_view> names, std::string& target) {
  const std::string key_path = section.child_path(key);
  if (section.has(key)) {
    ctx.config.sources[key_path] = "config";
    return;
  }
  for (std::string_view name : names) {
    if (auto value = env_value(ctx.env, name)) {
      if (std::string problem = control_character_problem(*value); !problem.empty()) {
        ctx.doc.add_error(key_path, "from " + std::string(name) + ": " + problem);
      }
      target = *value;
      ctx.config.sources[key_path] = "env " + std::string(name);
      return;
    }
  }
}

void apply_env_bool(const Context& ctx, const ConfigNode& section, std::string_view key, std::string_view name,
                    bool invert, bool& target) {
  const std::string key_path = section.child_path(key);
  if (section.has(key)) {
    ctx.config.sources[key_path] = "config";
    return;
  }
  if (auto value = env_bool(ctx, name, key_path)) {
    target = invert ? !*value : *value;
    ctx.config.sources[key_path] = "env " + std::string(name);
  }
}

void apply_environment(const Context& ctx, const ConfigNode& root) {
  AwsConfig& aws = ctx.config.aws;
  const ConfigNode n = root.section("aws");
  apply_env_string(ctx, n, "region", {"AWS_REGION", "AWS_DEFAULT_REGION"}, aws.region);
  apply_env_string(ctx, n, "profile", {"AWS_PROFILE"}, aws.profile);
  apply_env_string(ctx, n, "ca_bundle", {"AWS_CA_BUNDLE"}, aws.ca_bundle);
  apply_env_string(ctx, n, "proxy", {"HTTPS_PROXY", "https_proxy"}, aws.proxy);
  apply_env_string(ctx, n, "no_proxy", {"NO_PROXY", "no_proxy"}, aws.no_proxy);
  apply_env_bool(ctx, n, "use_fips", "AWS_USE_FIPS_ENDPOINT", false, aws.use_fips);
  apply_env_bool(ctx, n, "use_dualstack", "AWS_USE_DUALSTACK_ENDPOINT", false, aws.use_dualstack);

  const ConfigNode imds = n.section("imds");
  apply_env_string(ctx, imds, "endpoint", {"AWS_EC2_METADATA_SERVICE_ENDPOINT"}, aws.imds.endpoint);
  if (!imds.has("endpoint")) {
    if (std::string problem = endpoint_url_problem(aws.imds.endpoint); !problem.empty()) {
      ctx.doc.add_error("aws.imds.endpoint", "from AWS_EC2_METADATA_SERVICE_ENDPOINT: " + problem);
    }
  }
  apply_env_bool(ctx, imds, "enabled", "AWS_EC2_METADATA_DISABLED", true, aws.imds.enabled);
  apply_env_bool(ctx, imds, "allow_imdsv1", "AWS_EC2_METADATA_V1_DISABLED", true, aws.imds.allow_imdsv1);

  // Per-service variables beat the global one; the file beats both; the switch turns both off.
  const ConfigNode endpoints = n.section("endpoints");
  const bool ignore_env_endpoints =
      env_bool(ctx, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "aws.endpoints").value_or(false);
  struct Service {
    std::string_view key;
    std::string_view variable;
    std::string* target;
  };
  const Service services[] = {
      {"cloudwatch", "AWS_ENDPOINT_URL_CLOUDWATCH", &aws.endpoints.cloudwatch},
      {"cloudwatch_logs", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", &aws.endpoints.cloudwatch_logs},
      {"cloudtrail_data", "AWS_ENDPOINT_URL_CLOUDTRAIL_DATA", &aws.endpoints.cloudtrail_data},
      {"s3", "AWS_ENDPOINT_URL_S3", &aws.endpoints.s3},
      {"sns", "AWS_ENDPOINT_URL_SNS", &aws.endpoints.sns},
      {"sts", "AWS_ENDPOINT_URL_STS", &aws.endpoints.sts},
      {"ssm", "AWS_ENDPOINT_URL_SSM", &aws.endpoints.ssm},
  };
  bool global_reported = false;  // a bad AWS_ENDPOINT_URL is one error, not one per service
  for (const Service& s : services) {
    const std::string key_path = endpoints.child_path(s.key);
    if (endpoints.has(s.key)) {
      ctx.config.sources[key_path] = "config";
      continue;
    }
    if (ignore_env_endpoints) continue;
    for (std::string_view name : {s.variable, std::string_view("AWS_ENDPOINT_URL")}) {
      auto value = env_value(ctx.env, name);
      if (!value) continue;
      if (std::string problem = endpoint_url_problem(*value); !problem.empty()) {
        const bool global = name == "AWS_ENDPOINT_URL";
        if (!global || !global_reported) {
          ctx.doc.add_error(global ? std::string("aws.endpoints") : key_path, "from " + std::string(name) + ": " + problem);
        }
        global_reported = global_reported || global;
      }
      *s.target = *value;
      ctx.config.sources[key_path] = "env " + std::string(name);
      break;
    }
  }
}

// Diagnostics are collected section by section (unknown keys first, then values, then the
// environment); a reader wants them in the order of the file: by line and column, then those without
// a position (environment variables) in the order found.
std::vector<common::ConfigDiagnostic> in_file_order(std::vector<common::ConfigDiagnostic> diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const common::ConfigDiagnostic& a, const common::ConfigDiagnostic& b) {
                     auto key = [](const common::ConfigDiagnostic& d) {
                       return std::tuple(d.line == 0, d.line, d.column);
                     };
                     return key(a) < key(b);
                   });
  return diagnostics;
}

ConfigLoad load_document(ConfigDocument doc, const std::string& display_name, const common::Environment& env,
                         const std::optional<std::string>& base_dir = std::nullopt) {
  ConfigLoad load;
  try {
    AgentConfig config;
    if (doc.parsed()) {
      Context ctx{env, base_dir ? std::filesystem::path(*base_dir) : std::filesystem::path(display_name).parent_path(),
                  doc, config};
      const ConfigNode root = doc.root();
      root.expect_keys({"agent", "aws", "metrics", "audit", "trail", "alarms", "delivery", "local"});
      config.agent = parse_agent(root.section("agent"), ctx);
      config.aws = parse_aws(root.section("aws"), ctx);
      config.metrics = parse_metrics(root.section("metrics"));
      config.audit = parse_audit(root.section("audit"), ctx);
      config.trail = parse_trail(root.section("trail"));
      config.alarms = parse_alarms(root.child("alarms"));
      config.delivery = parse_delivery(root.section("delivery"), ctx, config.agent.state_dir);
      config.local = parse_local(root.section("local"), ctx);
      apply_environment(ctx, root);
    }
    load.errors = in_file_order(doc.errors());
    load.warnings = in_file_order(doc.warnings());
    if (load.errors.empty()) load.config = std::move(config);
  } catch (const std::exception& e) {
    // A bug or a yaml-cpp surprise: report it like any other problem instead of crashing.
    load.config.reset();
    load.errors.push_back(
        common::ConfigDiagnostic{display_name, 0, 0, "", std::string("internal error reading config: ") + e.what()});
  }
  return load;
}

// ---- dump ---------------------------------------------------------------------------------------

std::string number_text(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) return "0";
  return std::string(buffer, end);
}

void emit_list(YAML::Emitter& out, std::string_view key, const std::vector<std::string>& values) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& v : values) out << v;
  out << YAML::EndSeq;
}

void emit_map(YAML::Emitter& out, std::string_view key, const std::map<std::string, std::string>& values) {
  out << YAML::Key << std::string(key) << YAML::Value;
  if (values.empty()) {
    out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
    return;
  }
  out << YAML::BeginMap;
  for (const auto& [k, v] : values) out << YAML::Key << k << YAML::Value << v;
  out << YAML::EndMap;
}

template <typename T>
void emit(YAML::Emitter& out, std::string_view key, const T& value) {
  out << YAML::Key << std::string(key) << YAML::Value << value;
}

void emit_duration(YAML::Emitter& out, std::string_view key, Millis value) {
  emit(out, key, common::format_duration(value));
}

void emit_size(YAML::Emitter& out, std::string_view key, uint64_t value) {
  emit(out, key, common::format_size(value));
}

void emit_string(YAML::Emitter& out, std::string_view key, std::string_view value) {
  emit(out, key, std::string(value));
}

void emit_filter(YAML::Emitter& out, std::string_view key, const AuditFilter& f) {
  out << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap;
  emit_list(out, "record_types", f.record_types);
  emit_list(out, "keys", f.keys);
  emit_list(out, "users", f.users);
  emit_list(out, "results", f.results);
  out << YAML::EndMap;
}

}  // namespace

std::string metrics_namespace_problem(std::string_view ns) {
  if (ns.empty() || ns.size() > kMaxNamespaceLength) {
    return "must be 1 to " + std::to_string(kMaxNamespaceLength) + " characters long, got " + std::to_string(ns.size());
  }
  for (std::size_t i = 0; i < ns.size(); ++i) {
    const auto u = static_cast<unsigned char>(ns[i]);
    if (u < 0x20 || u > 0x7e) {
      return describe_name_byte(ns[i]) + " at position " + std::to_string(i + 1) +
             " is not allowed: CloudWatch namespaces are printable ASCII";
    }
  }
  if (ns.front() == ':') return "a namespace may not start with ':'";
  if (ns.starts_with("AWS/")) return "namespaces starting with \"AWS/\" are reserved for AWS";
  return {};
}

namespace {

bool log_group_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == '/' || c == '#';
}

// Shared by the group and stream checks: characters are checked where the user wrote them (positions
// in the template), lengths on the name as it will be sent (placeholders filled in with examples).
std::string log_name_problem(std::string_view name, bool with_placeholders, bool group) {
  const std::size_t max = group ? kMaxLogGroupNameLength : kMaxLogStreamNameLength;
  std::string expanded;
  bool expanded_any = false;
  for (std::size_t i = 0; i < name.size();) {
    if (with_placeholders && name[i] == '{') {
      if (const std::size_t close = name.find('}', i); close != std::string_view::npos) {
        const std::string_view token = name.substr(i, close - i + 1);
        const auto* it = std::find_if(std::begin(kLogNamePlaceholders), std::end(kLogNamePlaceholders),
                                      [&](const LogNamePlaceholder& p) { return p.name == token; });
        if (it == std::end(kLogNamePlaceholders)) {
          std::string known;
          for (const auto& p : kLogNamePlaceholders) known += (known.empty() ? "" : ", ") + std::string(p.name);
          return "unknown placeholder " + in_quotes(token) + " at position " + std::to_string(i + 1) + "; known: " +
                 known;
        }
        expanded += it->example;
        expanded_any = true;
        i = close + 1;
        continue;
      }
    }
    const char c = name[i];
    if (group && !log_group_char_ok(c)) {
      return describe_name_byte(c) + " at position " + std::to_string(i + 1) +
             " is not allowed: log group names are made of A-Z a-z 0-9 . - _ / #";
    }
    if (!group && (c == ':' || c == '*')) {
      return describe_name_byte(c) + " at position " + std::to_string(i + 1) +
             " is not allowed: log stream names may not contain ':' or '*'";
    }
    expanded.push_back(c);
    ++i;
  }
  if (expanded.empty() || expanded.size() > max) {
    if (expanded_any) {
      return "would be " + std::to_string(expanded.size()) +
             " characters long with its placeholders filled in with typical values; the limit is " +
             std::to_string(max);
    }
    return "must be 1 to " + std::to_string(max) + " characters long, got " + std::to_string(expanded.size());
  }
  if (group && starts_with(expanded, "aws/")) return "log group names starting with \"aws/\" are reserved for AWS";
  return {};
}

}  // namespace

std::string log_group_name_problem(std::string_view name, bool with_placeholders) {
  return log_name_problem(name, with_placeholders, true);
}

std::string log_stream_name_problem(std::string_view name, bool with_placeholders) {
  return log_name_problem(name, with_placeholders, false);
}

std::string channel_arn_problem(std::string_view arn) {
  if (!starts_with(arn, "arn:")) return "expected a channel ARN starting with \"arn:\", got " + in_quotes(arn);
  const std::string shape =
      "expected arn:<partition>:cloudtrail:<region>:<account>:channel/<id>, got " + in_quotes(arn);
  std::string_view fields[6];
  std::string_view rest = arn;
  for (int i = 0; i < 5; ++i) {
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return shape;
    fields[i] = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  fields[5] = rest;
  if (fields[1].empty() || fields[3].empty()) return shape;
  if (fields[2] != "cloudtrail") return "not a CloudTrail ARN (service " + in_quotes(fields[2]) + "); " + shape;
  if (!is_account_id(fields[4])) {
    return "the account " + in_quotes(fields[4]) + " is not a 12-digit AWS account id; " + shape;
  }
  if (!starts_with(fields[5], "channel/") || fields[5].size() == 8) return shape;
  return {};
}

std::string channel_arn_account(std::string_view arn) {
  if (!channel_arn_problem(arn).empty()) return {};
  std::string_view rest = arn;
  for (int i = 0; i < 4; ++i) rest.remove_prefix(rest.find(':') + 1);
  return std::string(rest.substr(0, rest.find(':')));
}

std::string_view to_string(LogLevel value) { return name_of(kLogLevels, value); }
std::string_view to_string(MetricsOutput value) { return name_of(kMetricsOutputs, value); }
std::string_view to_string(SinkType value) { return name_of(kSinkTypes, value); }
std::string_view to_string(S3Encryption value) { return name_of(kS3Encryptions, value); }
std::string_view to_string(Comparison value) { return name_of(kComparisons, value); }
std::string_view to_string(TreatMissingData value) { return name_of(kTreatMissingData, value); }

ConfigLoad load_config_file(const std::string& path, const common::Environment& env) {
  return load_document(ConfigDocument::from_file(path), path, env);
}

ConfigLoad load_config_text(std::string_view yaml, const std::string& display_name, const common::Environment& env,
                            const std::optional<std::string>& base_dir) {
  return load_document(ConfigDocument::from_text(yaml, display_name), display_name, env, base_dir);
}

std::string dump_effective_config(const AgentConfig& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;

  out << YAML::Key << "agent" << YAML::Value << YAML::BeginMap;
  emit_string(out, "state_dir", c.agent.state_dir);
  emit_string(out, "log_level", to_string(c.agent.log_level));
  emit_string(out, "proc_root", c.agent.proc_root);
  emit_duration(out, "shutdown_timeout", c.agent.shutdown_timeout);
  emit_string(out, "hostname", c.agent.hostname);
  out << YAML::EndMap;

  out << YAML::Key << "aws" << YAML::Value << YAML::BeginMap;
  emit_string(out, "region", c.aws.region);
  emit_string(out, "profile", c.aws.profile);
  emit_string(out, "role_arn", c.aws.role_arn);
  if (c.aws.credentials) {
    out << YAML::Key << "credentials" << YAML::Value << YAML::BeginMap;
    emit_string(out, "access_key_id", c.aws.credentials->access_key_id);
    emit_string(out, "secret_access_key", c.aws.credentials->secret_access_key.empty() ? "" : "<redacted>");
    emit_string(out, "session_token", c.aws.credentials->session_token.empty() ? "" : "<redacted>");
    out << YAML::EndMap;
  }
  out << YAML::Key << "imds" << YAML::Value << YAML::BeginMap;
  emit(out, "enabled", c.aws.imds.enabled);
  emit_string(out, "endpoint", c.aws.imds.endpoint);
  emit(out, "allow_imdsv1", c.aws.imds.allow_imdsv1);
  emit_duration(out, "timeout", c.aws.imds.timeout);
  emit(out, "retries", c.aws.imds.retries);
  out << YAML::EndMap;
  std::map<std::string, std::string> endpoints;
  const std::pair<const char*, const std::string*> endpoint_fields[] = {
      {"cloudwatch", &c.aws.endpoints.cloudwatch}, {"cloudwatch_logs", &c.aws.endpoints.cloudwatch_logs},
      {"cloudtrail_data", &c.aws.endpoints.cloudtrail_data}, {"s3", &c.aws.endpoints.s3},
      {"sns", &c.aws.endpoints.sns}, {"sts", &c.aws.endpoints.sts}, {"ssm", &c.aws.endpoints.ssm}};
  for (const auto& [key, value] : endpoint_fields) {
    if (!value->empty()) endpoints[key] = *value;
  }
  emit_map(out, "endpoints", endpoints);
  emit(out, "use_fips", c.aws.use_fips);
  emit(out, "use_dualstack", c.aws.use_dualstack);
  emit_string(out, "proxy", common::redact_url_userinfo(c.aws.proxy));  // its password, like the keys
  emit_string(out, "no_proxy", c.aws.no_proxy);
  emit_string(out, "ca_bundle", c.aws.ca_bundle);
  out << YAML::EndMap;

  const MetricsConfig& m = c.metrics;
  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  emit(out, "enabled", m.enabled);
  emit_duration(out, "interval", m.interval);
  emit_duration(out, "flush_interval", m.flush_interval);
  emit_string(out, "namespace", m.namespace_name);
  emit(out, "high_resolution", m.high_resolution);
  emit_string(out, "output", to_string(m.output));
  out << YAML::Key << "cpu" << YAML::Value << YAML::BeginMap;
  emit(out, "enabled", m.cpu.enabled);
  emit(out, "per_cpu", m.cpu.per_cpu);
  emit(out, "total", m.cpu.total);
  out << YAML::EndMap;
  out << YAML::Key << "memory" << YAML::Value << YAML::BeginMap;
  emit(out, "enabled", m.memory.enabled);
  emit(out, "swap", m.memory.swap);
  out << YAML::EndMap;
  out << YAML::Key << "network" << YAML::Value << YAML::BeginMap;
  emit(out, "enabled", m.network.enabled);
  emit_list(out, "include", m.network.include);
  emit_list(out, "exclude", m.network.exclude);
  out << YAML::EndMap;
  emit_list(out, "append_dimensions", m.append_dimensions);
  emit_map(out, "dimensions", m.dimensions);
  out << YAML::Key << "aggregation_dimensions" << YAML::Value << YAML::BeginSeq;
  for (const auto& group : m.aggregation_dimensions) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& name : group) out << name;
    out << YAML::EndSeq;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;

  out << YAML::Key << "audit" << YAML::Value << YAML::BeginMap;
  emit(out, "enabled", c.audit.enabled);
  emit_list(out, "files", c.audit.files);
  emit_duration(out, "event_timeout", c.audit.event_timeout);
  emit_size(out, "max_line_bytes", c.audit.max_line_bytes);
  emit_duration(out, "poll_interval", c.audit.poll_interval);
  out << YAML::Key << "filters" << YAML::Value << YAML::BeginMap;
  emit_filter(out, "include", c.audit.filters.include);
  emit_filter(out, "exclude", c.audit.filters.exclude);
  out << YAML::EndMap;
  out << YAML::EndMap;

  out << YAML::Key << "trail" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "sinks" << YAML::Value << YAML::BeginSeq;
  for (const TrailSink& s : c.trail.sinks) {
    out << YAML::BeginMap;
    emit_string(out, "type", to_string(s.type));
    switch (s.type) {
      case SinkType::kLocal:
        break;
      case SinkType::kCloudTrailLake:
        emit_string(out, "channel_arn", s.channel_arn);
        break;
      case SinkType::kCloudWatchLogs:
        emit_string(out, "log_group", s.log_group);
        emit_string(out, "log_stream", s.log_stream);
        emit(out, "create", s.create);
        break;
      case SinkType::kS3:
        emit_string(out, "bucket", s.bucket);
        emit_string(out, "prefix", s.prefix);
        emit_string(out, "account_id", s.account_id);
        emit_duration(out, "interval", s.interval);
        emit_size(out, "max_object_size", s.max_object_size);
        emit_string(out, "sse", to_string(s.sse));
        emit_string(out, "kms_key_id", s.kms_key_id);
        break;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;

  out << YAML::Key << "alarms" << YAML::Value << YAML::BeginSeq;
  for (const AlarmConfig& a : c.alarms) {
    out << YAML::BeginMap;
    emit_string(out, "name", a.name);
    emit_string(out, "description", a.description);
    if (a.audit_filter) {
      emit_filter(out, "audit_filter", *a.audit_filter);
    } else {
      emit_string(out, "metric", a.metric);
    }
    emit_map(out, "dimensions", a.dimensions);
    emit_string(out, "statistic", a.statistic);
    emit_duration(out, "period", a.period);
    emit(out, "evaluation_periods", a.evaluation_periods);
    emit(out, "datapoints_to_alarm", a.datapoints_to_alarm);
    emit_string(out, "comparison", to_string(a.comparison));
    emit_string(out, "threshold", number_text(a.threshold));
    emit_string(out, "treat_missing_data", to_string(a.treat_missing_data));
    emit_list(out, "alarm_actions", a.alarm_actions);
    emit_list(out, "ok_actions", a.ok_actions);
    emit_list(out, "insufficient_data_actions", a.insufficient_data_actions);
    emit_duration(out, "repeat_interval", a.repeat_interval);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "delivery" << YAML::Value << YAML::BeginMap;
  emit_string(out, "spool_dir", c.delivery.spool_dir);
  emit_size(out, "max_spool_size", c.delivery.max_spool_size);
  emit(out, "max_queue_records", c.delivery.max_queue_records);
  emit_size(out, "max_queue_bytes", c.delivery.max_queue_bytes);
  emit(out, "max_retries", c.delivery.max_retries);
  emit_duration(out, "retry_base", c.delivery.retry_base);
  emit_duration(out, "retry_max_backoff", c.delivery.retry_max_backoff);
  out << YAML::EndMap;

  out << YAML::Key << "local" << YAML::Value << YAML::BeginMap;
  emit_string(out, "path", c.local.path);
  emit(out, "pretty", c.local.pretty);
  out << YAML::EndMap;

  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace agent
