#include "agent/pipeline/trail_record.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>

#include "common/clock/time_format.h"

namespace agent {
namespace {

using Json = nlohmann::ordered_json;

// CloudTrail Lake eventData limits (aws-wire 4.3).
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/query-integration-event-schema.html
constexpr std::size_t kLakeMaxIdentityType = 128;
constexpr std::size_t kLakeMaxPrincipalId = 1024;
constexpr std::size_t kLakeMaxString = 1024;  // userAgent, eventSource, eventName, UID
constexpr std::size_t kLakeMaxErrorField = 256;  // errorCode, errorMessage
constexpr std::size_t kLakeMaxRequestObject = 100'000;  // requestParameters / responseElements ("100 kB")
constexpr std::size_t kLakeMaxAdditionalData = 28'000;  // additionalEventData ("28 kB")

// Cuts at most max bytes without splitting a UTF-8 sequence.
std::string utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

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

void put_if(Json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}
template <typename T>
void put_if(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

Json identity_details(const TrailIdentity& id) {
  Json d = Json::object();
  put_if(d, "auid", id.auid);
  put_if(d, "auidName", id.auid_name);
  put_if(d, "uid", id.uid);
  put_if(d, "uidName", id.uid_name);
  put_if(d, "euid", id.euid);
  put_if(d, "euidName", id.euid_name);
  put_if(d, "ses", id.ses);
  put_if(d, "tty", id.tty);
  put_if(d, "account", id.account);
  return d;
}

Json request_parameters(const TrailRecord& r, std::size_t max_command_line = SIZE_MAX) {
  Json p = Json::object();
  put_if(p, "recordType", r.record_type);
  if (r.syscall) {
    p["syscall"] = *r.syscall;
    put_if(p, "arch", r.arch);
  }
  put_if(p, "exe", r.exe);
  put_if(p, "comm", r.comm);
  put_if(p, "pid", r.pid);
  put_if(p, "ppid", r.ppid);
  put_if(p, "cwd", r.cwd);
  if (!r.command_line.empty()) {
    if (r.command_line.size() > max_command_line) {
      p["commandLine"] = utf8_prefix(r.command_line, max_command_line);
      p["commandLineTruncated"] = true;
    } else {
      p["commandLine"] = r.command_line;
    }
  }
  put_if(p, "argc", r.argc);
  if (!r.paths.empty()) {
    Json paths = Json::array();
    for (const auto& path : r.paths) {
      Json e = Json::object();
      e["name"] = path.name;
      put_if(e, "nametype", path.nametype);
      paths.push_back(std::move(e));
    }
    p["paths"] = std::move(paths);
  }
  if (r.socket) {
    Json s = Json::object();
    s["family"] = r.socket->family;
    put_if(s, "address", r.socket->address);
    put_if(s, "port", r.socket->port);
    p["socketAddress"] = std::move(s);
  }
  if (!r.keys.empty()) {
    std::string joined;
    for (const auto& k : r.keys) joined += (joined.empty() ? "" : ",") + k;
    p["key"] = joined;
  }
  put_if(p, "operation", r.operation);
  put_if(p, "account", r.identity.account);
  put_if(p, "terminal", r.terminal);
  put_if(p, "remoteHostname", r.remote_hostname);
  return p;
}

Json response_elements(const TrailRecord& r) {
  Json e = Json::object();
  e["result"] = std::string(to_string(r.result));
  put_if(e, "exit", r.exit_code);
  return e;
}

Json additional_data(const TrailRecord& r, bool include_extra, bool include_raw, bool truncated) {
  Json a = Json::object();
  put_if(a, "instanceId", r.instance_id);
  if (include_extra) {
    put_if(a, "hostname", r.hostname);
    put_if(a, "node", r.node);
    a["auditTime"] = format_event_time(r.time_ms, true);
    a["serial"] = r.serial;
    a["identity"] = identity_details(r.identity);
    a["recordTypes"] = r.record_types;
  }
  if (include_raw) a["raw"] = r.raw_lines;
  if (truncated) a["truncated"] = true;
  return a;
}

}  // namespace

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

nlohmann::ordered_json cloudtrail_event_json(const TrailRecord& r, const CloudTrailRenderOptions& options) {
  Json j = Json::object();
  j["eventVersion"] = kTrailEventVersion;
  Json who = Json::object();
  who["type"] = kTrailIdentityType;
  who["principalId"] = principal_id(r.identity);
  put_if(who, "accountId", r.account_id);
  put_if(who, "userName", principal_name(r.identity));
  j["userIdentity"] = std::move(who);
  j["eventTime"] = format_event_time(r.time_ms, false);
  j["eventSource"] = kTrailEventSource;
  j["eventName"] = r.event_name;
  j["awsRegion"] = r.region;
  put_if(j, "sourceIPAddress", r.source_ip);
  j["userAgent"] = user_agent(r);
  j["requestParameters"] = request_parameters(r);
  j["responseElements"] = response_elements(r);
  if (r.result == TrailResult::kFailure) {
    j["errorCode"] = r.error_code;
    j["errorMessage"] = r.error_message;
  }
  j["additionalEventData"] = additional_data(r, options.include_extra, options.include_extra && options.include_raw,
                                             options.truncated);
  j["requestID"] = r.request_id;
  j["eventID"] = r.event_id;
  j["readOnly"] = false;
  if (!r.instance_id.empty()) {
    Json res = Json::object();
    res["ARN"] = "arn:aws:ec2:" + r.region + ":" + r.account_id + ":instance/" + r.instance_id;
    res["accountId"] = r.account_id;
    res["type"] = "AWS::EC2::Instance";
    j["resources"] = Json::array({std::move(res)});
  }
  j["eventType"] = kTrailEventType;
  j["managementEvent"] = false;
  j["recipientAccountId"] = r.account_id;
  j["eventCategory"] = kTrailEventCategory;
  return j;
}

std::string render_cloudtrail_event(const TrailRecord& r, std::size_t max_bytes) {
  std::string out = dump_json(cloudtrail_event_json(r));
  if (out.size() <= max_bytes) return out;
  out = dump_json(cloudtrail_event_json(r, {.include_raw = false, .include_extra = true, .truncated = true}));
  if (out.size() <= max_bytes) return out;
  return dump_json(cloudtrail_event_json(r, {.include_raw = false, .include_extra = false, .truncated = true}));
}

nlohmann::ordered_json lake_event_data_json(const TrailRecord& r) {
  Json j = Json::object();
  j["version"] = kTrailLakeEventVersion;
  Json who = Json::object();
  who["type"] = utf8_prefix(kTrailIdentityType, kLakeMaxIdentityType);
  who["principalId"] = utf8_prefix(principal_id(r.identity), kLakeMaxPrincipalId);
  Json details = identity_details(r.identity);
  put_if(details, "userName", principal_name(r.identity));
  who["details"] = std::move(details);
  j["userIdentity"] = std::move(who);
  j["userAgent"] = utf8_prefix(user_agent(r), kLakeMaxString);
  j["eventSource"] = utf8_prefix(kTrailEventSource, kLakeMaxString);
  j["eventName"] = utf8_prefix(r.event_name, kLakeMaxString);
  j["eventTime"] = format_event_time(r.time_ms, false);
  j["UID"] = utf8_prefix(r.request_id, kLakeMaxString);

  Json params = request_parameters(r);
  if (dump_json(params).size() > kLakeMaxRequestObject) {
    // The command line is what grows without bound; give it what is left, then give up on detail.
    const std::size_t rest = dump_json(request_parameters(r, 0)).size();
    const std::size_t room = rest + 64 < kLakeMaxRequestObject ? (kLakeMaxRequestObject - rest - 64) / 6 : 0;
    params = request_parameters(r, room);  // /6: worst-case JSON escaping of control bytes
    if (dump_json(params).size() > kLakeMaxRequestObject) {
      params = Json::object();
      put_if(params, "recordType", r.record_type);
      put_if(params, "exe", utf8_prefix(r.exe, kLakeMaxString));
      params["truncated"] = true;
    }
  }
  j["requestParameters"] = std::move(params);
  j["responseElements"] = response_elements(r);
  if (r.result == TrailResult::kFailure) {
    j["errorCode"] = utf8_prefix(r.error_code, kLakeMaxErrorField);
    j["errorMessage"] = utf8_prefix(r.error_message, kLakeMaxErrorField);
  }
  if (is_ip_address(r.source_ip)) j["sourceIPAddress"] = r.source_ip;
  j["recipientAccountId"] = r.account_id;
  Json extra = additional_data(r, true, true, false);
  if (dump_json(extra).size() > kLakeMaxAdditionalData) extra = additional_data(r, true, false, true);
  if (dump_json(extra).size() > kLakeMaxAdditionalData) extra = additional_data(r, false, false, true);
  j["additionalEventData"] = std::move(extra);
  return j;
}

}  // namespace agent
