#include "agent/pipeline/trail_record.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>

#include "common/clock/time_format.h"
#include "common/json/json_writer.h"
#include "common/text/utf8.h"

namespace agent {
namespace {

// CloudTrail Lake eventData limits (aws-wire 4.3).
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/query-integration-event-schema.html
constexpr std::size_t kLakeMaxIdentityType = 128;
constexpr std::size_t kLakeMaxPrincipalId = 1024;
constexpr std::size_t kLakeMaxString = 1024;  // userAgent, eventSource, eventName, UID
constexpr std::size_t kLakeMaxErrorField = 256;  // errorCode, errorMessage
constexpr std::size_t kLakeMaxRequestObject = 100'000;  // requestParameters / responseElements ("100 kB")
constexpr std::size_t kLakeMaxAdditionalData = 28'000;  // additionalEventData ("28 kB")

namespace utf8 = common::utf8;

bool is_ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string principal_id(const TrailIdentity& id) {
  if (id.auid) return "auid:" + std::to_string(*id.auid);
  if (id.uid) return "uid:" + std::to_string(*id.uid);
  return "unknown";
}

std::string principal_name(const TrailIdentity& id) { return id.auid ? id.auid_name : id.uid_name; }

std::string user_agent(const TrailRecord& r) {
  if (!r.exe.empty()) return r.exe;
  return std::string("trailwatch/") + TRAILWATCH_VERSION;
}

// Every rendering goes through common::JsonWriter (byte-identical to nlohmann's compact dump with
// invalid UTF-8 replaced, ~6x faster: this runs once per audit event). Key order is the output order.
using common::JsonWriter;

void put_if(JsonWriter& w, std::string_view key, const std::string& v) {
  if (!v.empty()) w.key(key).value(v);
}
template <typename T>
void put_if(JsonWriter& w, std::string_view key, const std::optional<T>& v) {
  if (v) w.key(key).value(*v);
}

void write_identity_details(JsonWriter& w, const TrailIdentity& id, std::string_view user_name = {}) {
  w.begin_object();
  put_if(w, "auid", id.auid);
  put_if(w, "auidName", id.auid_name);
  put_if(w, "uid", id.uid);
  put_if(w, "uidName", id.uid_name);
  put_if(w, "euid", id.euid);
  put_if(w, "euidName", id.euid_name);
  put_if(w, "ses", id.ses);
  put_if(w, "tty", id.tty);
  put_if(w, "account", id.account);
  if (!user_name.empty()) w.key("userName").value(user_name);
  w.end_object();
}

void write_request_parameters(JsonWriter& w, const TrailRecord& r, std::size_t max_command_line = SIZE_MAX) {
  w.begin_object();
  put_if(w, "recordType", r.record_type);
  if (r.syscall) {
    w.key("syscall").value(*r.syscall);
    put_if(w, "arch", r.arch);
  }
  put_if(w, "exe", r.exe);
  put_if(w, "comm", r.comm);
  put_if(w, "pid", r.pid);
  put_if(w, "ppid", r.ppid);
  put_if(w, "cwd", r.cwd);
  if (!r.command_line.empty()) {
    if (r.command_line.size() > max_command_line) {
      w.key("commandLine").value(utf8::prefix(r.command_line, max_command_line));
      w.key("commandLineTruncated").value(true);
    } else {
      w.key("commandLine").value(r.command_line);
    }
  }
  put_if(w, "argc", r.argc);
  if (!r.paths.empty()) {
    w.key("paths").begin_array();
    for (const auto& path : r.paths) {
      w.begin_object().key("name").value(path.name);
      put_if(w, "nametype", path.nametype);
      w.end_object();
    }
    w.end_array();
  }
  if (r.socket) {
    w.key("socketAddress").begin_object().key("family").value(r.socket->family);
    put_if(w, "address", r.socket->address);
    put_if(w, "port", r.socket->port);
    w.end_object();
  }
  if (!r.keys.empty()) {
    std::string joined;
    for (const auto& k : r.keys) joined += (joined.empty() ? "" : ",") + k;
    w.key("key").value(joined);
  }
  put_if(w, "operation", r.operation);
  put_if(w, "account", r.identity.account);
  put_if(w, "terminal", r.terminal);
  put_if(w, "remoteHostname", r.remote_hostname);
  w.end_object();
}

std::string request_parameters(const TrailRecord& r, std::size_t max_command_line = SIZE_MAX) {
  std::string out;
  JsonWriter w(out);
  write_request_parameters(w, r, max_command_line);
  return out;
}

void write_response_elements(JsonWriter& w, const TrailRecord& r) {
  w.begin_object().key("result").value(to_string(r.result));
  put_if(w, "exit", r.exit_code);
  w.end_object();
}

void write_additional_data(JsonWriter& w, const TrailRecord& r, bool include_extra, bool include_raw, bool truncated) {
  w.begin_object();
  put_if(w, "instanceId", r.instance_id);
  if (include_extra) {
    put_if(w, "hostname", r.hostname);
    put_if(w, "node", r.node);
    w.key("auditTime").value(format_event_time(r.time_ms, true));
    w.key("serial").value(r.serial);
    w.key("identity");
    write_identity_details(w, r.identity);
    w.key("recordTypes").begin_array();
    for (const auto& t : r.record_types) w.value(t);
    w.end_array();
  }
  if (include_raw) {
    w.key("raw").begin_array();
    for (const auto& line : r.raw_lines) w.value(line);
    w.end_array();
  }
  if (r.lines_cut) w.key("linesCut").value(true);
  if (truncated) w.key("truncated").value(true);
  w.end_object();
}

std::string additional_data(const TrailRecord& r, bool include_extra, bool include_raw, bool truncated) {
  std::string out;
  JsonWriter w(out);
  write_additional_data(w, r, include_extra, include_raw, truncated);
  return out;
}

}  // namespace

std::string_view host_id_for_events(const HostContext& host) noexcept {
  if (!host.event_host.empty()) return host.event_host;
  if (!host.instance_id.empty()) return host.instance_id;
  if (!host.machine_id.empty()) return host.machine_id;
  return host.boot_id;
}

std::string_view to_string(TrailResult r) noexcept {
  switch (r) {
    case TrailResult::kSuccess: return "success";
    case TrailResult::kFailure: return "failure";
    case TrailResult::kUnknown: break;
  }
  return "unknown";
}

std::string format_event_time(int64_t time_ms, bool millis) {
  return common::format_iso8601(common::WallTime(std::chrono::milliseconds(time_ms)), millis);
}

std::string dump_json(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string render_cloudtrail_event(const TrailRecord& r, const CloudTrailRenderOptions& options) {
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.begin_object();
  w.key("eventVersion").value(kTrailEventVersion);
  w.key("userIdentity").begin_object().key("type").value(kTrailIdentityType);
  w.key("principalId").value(principal_id(r.identity));
  put_if(w, "accountId", r.account_id);
  put_if(w, "userName", principal_name(r.identity));
  w.end_object();
  w.key("eventTime").value(format_event_time(r.time_ms, false));
  w.key("eventSource").value(kTrailEventSource);
  w.key("eventName").value(r.event_name);
  w.key("awsRegion").value(r.region);
  put_if(w, "sourceIPAddress", r.source_ip);
  w.key("userAgent").value(user_agent(r));
  w.key("requestParameters");
  write_request_parameters(w, r);
  w.key("responseElements");
  write_response_elements(w, r);
  if (r.result == TrailResult::kFailure) {
    w.key("errorCode").value(r.error_code);
    w.key("errorMessage").value(r.error_message);
  }
  w.key("additionalEventData");
  write_additional_data(w, r, options.include_extra, options.include_extra && options.include_raw, options.truncated);
  w.key("requestID").value(r.request_id);
  w.key("eventID").value(r.event_id);
  w.key("readOnly").value(false);
  if (!r.instance_id.empty()) {
    w.key("resources").begin_array().begin_object();
    w.key("ARN").value("arn:aws:ec2:" + r.region + ":" + r.account_id + ":instance/" + r.instance_id);
    w.key("accountId").value(r.account_id);
    w.key("type").value("AWS::EC2::Instance");
    w.end_object().end_array();
  }
  w.key("eventType").value(kTrailEventType);
  w.key("managementEvent").value(false);
  w.key("recipientAccountId").value(r.account_id.empty() ? options.fallback_account_id : std::string_view(r.account_id));
  w.key("eventCategory").value(kTrailEventCategory);
  w.end_object();
  return out;
}

nlohmann::ordered_json cloudtrail_event_json(const TrailRecord& r, const CloudTrailRenderOptions& options) {
  return nlohmann::ordered_json::parse(render_cloudtrail_event(r, options));
}

std::string render_cloudtrail_event(const TrailRecord& r, std::size_t max_bytes, std::string_view fallback_account_id) {
  std::string out = render_cloudtrail_event(r, {.fallback_account_id = fallback_account_id});
  if (out.size() <= max_bytes) return out;
  out = render_cloudtrail_event(
      r, {.include_raw = false, .include_extra = true, .truncated = true, .fallback_account_id = fallback_account_id});
  if (out.size() <= max_bytes) return out;
  return render_cloudtrail_event(
      r, {.include_raw = false, .include_extra = false, .truncated = true, .fallback_account_id = fallback_account_id});
}

std::string render_lake_event_data(const TrailRecord& r, std::string_view recipient_account_id) {
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.begin_object();
  w.key("version").value(kTrailLakeEventVersion);
  w.key("userIdentity").begin_object();
  w.key("type").value(utf8::prefix(kTrailIdentityType, kLakeMaxIdentityType));
  w.key("principalId").value(utf8::prefix(principal_id(r.identity), kLakeMaxPrincipalId));
  w.key("details");
  write_identity_details(w, r.identity, principal_name(r.identity));
  w.end_object();
  w.key("userAgent").value(utf8::prefix(user_agent(r), kLakeMaxString));
  w.key("eventSource").value(utf8::prefix(kTrailEventSource, kLakeMaxString));
  w.key("eventName").value(utf8::prefix(r.event_name, kLakeMaxString));
  w.key("eventTime").value(format_event_time(r.time_ms, false));
  w.key("UID").value(utf8::prefix(r.request_id, kLakeMaxString));

  std::string params = request_parameters(r);
  if (params.size() > kLakeMaxRequestObject) {
    // The command line is what grows without bound; give it what is left, then give up on detail.
    const std::size_t rest = request_parameters(r, 0).size();
    const std::size_t room = rest + 64 < kLakeMaxRequestObject ? (kLakeMaxRequestObject - rest - 64) / 6 : 0;
    params = request_parameters(r, room);  // /6: worst-case JSON escaping of control bytes
    if (params.size() > kLakeMaxRequestObject) {
      params.clear();
      JsonWriter p(params);
      p.begin_object();
      put_if(p, "recordType", r.record_type);
      put_if(p, "exe", utf8::prefix(r.exe, kLakeMaxString));
      p.key("truncated").value(true);
      p.end_object();
    }
  }
  w.key("requestParameters").raw(params);
  w.key("responseElements");
  write_response_elements(w, r);
  if (r.result == TrailResult::kFailure) {
    w.key("errorCode").value(utf8::prefix(r.error_code, kLakeMaxErrorField));
    w.key("errorMessage").value(utf8::prefix(r.error_message, kLakeMaxErrorField));
  }
  if (is_ip_address(r.source_ip)) w.key("sourceIPAddress").value(r.source_ip);
  w.key("recipientAccountId").value(recipient_account_id.empty() ? std::string_view(r.account_id) : recipient_account_id);
  std::string extra = additional_data(r, true, true, false);
  if (extra.size() > kLakeMaxAdditionalData) extra = additional_data(r, true, false, true);
  if (extra.size() > kLakeMaxAdditionalData) extra = additional_data(r, false, false, true);
  w.key("additionalEventData").raw(extra);
  w.end_object();
  return out;
}

nlohmann::ordered_json lake_event_data_json(const TrailRecord& r) {
  return nlohmann::ordered_json::parse(render_lake_event_data(r));
}

}  // namespace agent
