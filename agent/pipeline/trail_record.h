// TrailRecord: one audit event as a CloudTrail-shaped trail record (who, what, when, from where,
// result, where), plus its renderings: the CloudTrail log-file record (S3 objects, CloudWatch Logs
// messages, the local sink) and the CloudTrail Lake eventData object. Field by field mapping:
// docs/trail-mapping.md. Built by map_event() (agent/pipeline/trail_mapper.h); pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace agent {

// Where the agent runs; fills the "where" part and seeds eventID.
struct HostContext {
  std::string instance_id;   // "i-0123456789abcdef0"; may be empty off EC2
  std::string hostname;
  std::string account_id;    // 12 digits (IMDS identity document)
  std::string region;        // "us-east-1"
  std::string host_address;  // the host's own IP, sourceIPAddress of local events
  std::string machine_id;    // /etc/machine-id: this installation, the same across reboots
  std::string boot_id;       // /proc/sys/kernel/random/boot_id; changes at every boot
  std::string event_host;    // the persisted host identity (state_dir/identity.json), see below
};

// What names this host in event ids: event_host, the identity the agent persisted when it first
// ran on this instance (agent/app/instance_state.h, plan_identity), so that the ids do not depend
// on whether IMDS answered at this start. Without one (`once` on a fresh host, tests): the instance
// id, else the machine id, else the boot id. The first two survive a reboot, so an event re-sent
// after one (it was past the checkpoint when the host went down) keeps its id; the boot id is the
// last resort (ids of re-sent events then change).
std::string_view host_id_for_events(const HostContext& host) noexcept;

inline constexpr std::string_view kTrailEventSource = "trailwatch.audit";
inline constexpr std::string_view kTrailEventVersion = "1.11";       // CloudTrail record version (sinks spec 3.2)
inline constexpr std::string_view kTrailLakeEventVersion = "1.0";    // Lake eventData "version" (aws-wire 4.3)
inline constexpr std::string_view kTrailIdentityType = "LinuxUser";  // userIdentity.type (ours)
inline constexpr std::string_view kTrailEventType = "ActivityLog";   // Lake's value for non-AWS events
inline constexpr std::string_view kTrailEventCategory = "ActivityAuditLog";

struct TrailPath {
  std::string name;      // decoded; "" for (null)
  std::string nametype;  // NORMAL, CREATE, DELETE, PARENT, ...
  bool operator==(const TrailPath&) const = default;
};

struct TrailSocket {
  std::string family;   // "inet", "inet6", "unix", "netlink", or "af_<n>"
  std::string address;  // "127.0.0.1", "::1", "/run/x.sock", "@abstract"; "" when none
  std::optional<uint16_t> port;
  bool operator==(const TrailSocket&) const = default;
};

struct TrailIdentity {
  std::optional<uint32_t> auid;  // absent when unset (4294967295 / -1) or not in the event
  std::optional<uint32_t> uid;
  std::optional<uint32_t> euid;
  std::string auid_name;  // enriched AUID="..." or the lookup; "" when unknown
  std::string uid_name;
  std::string euid_name;
  std::optional<uint32_t> ses;  // absent when unset
  std::string tty;              // "" for (none)
  std::string account;          // user-space records' acct= (the account acted on), decoded
  bool operator==(const TrailIdentity&) const = default;
};

enum class TrailResult : uint8_t { kUnknown, kSuccess, kFailure };
std::string_view to_string(TrailResult r) noexcept;  // "unknown", "success", "failure"

struct TrailRecord {
  // identity of the event
  std::string event_id;    // UUID-shaped, stable for the same audit event (see make_trail_event_id)
  std::string request_id;  // "[node:]sec.mmm:serial", CloudTrail requestID / Lake UID
  std::string node;
  int64_t time_ms = 0;  // event time, ms since the epoch (UTC)
  uint64_t serial = 0;

  // what
  std::string event_name;                 // syscall name ("execve") when the primary record is SYSCALL, else its type
  std::string record_type;                // the primary record's type (first non-auxiliary: "SYSCALL", "USER_LOGIN")
  std::vector<std::string> record_types;  // every record's type, in order
  std::string arch;                       // "x86_64", "aarch64", "c000003e" when unknown
  std::optional<int64_t> syscall;         // the number
  std::string exe;
  std::string comm;
  std::string cwd;
  std::string command_line;  // EXECVE args joined with ' ', else PROCTITLE with NULs as ' '
  std::optional<int64_t> argc;
  std::optional<int64_t> pid;
  std::optional<int64_t> ppid;
  std::vector<TrailPath> paths;
  std::optional<TrailSocket> socket;
  std::string operation;  // user-space op= ("login", "PAM:authentication")
  std::string terminal;   // user-space terminal= ("ssh", "/dev/pts/0")
  std::vector<std::string> keys;  // audit rule keys (key="..."), (null) left out

  // who
  TrailIdentity identity;

  // from where
  std::string source_ip;        // addr= of a remote login, else the host address
  std::string remote_hostname;  // hostname= of a remote login ("" when "?" or absent)
  bool remote = false;          // source_ip came from the event's addr=

  // result
  TrailResult result = TrailResult::kUnknown;
  std::optional<int64_t> exit_code;  // SYSCALL exit=
  std::string error_code;            // on failure: errno name ("EACCES") or the res= value ("failed")
  std::string error_message;         // on failure: human-readable

  // where
  std::string instance_id;
  std::string hostname;
  std::string account_id;
  std::string region;

  std::vector<std::string> raw_lines;  // the audit lines, as read
  bool lines_cut = false;              // a line was longer than audit.max_line_bytes and was cut
};

// CloudTrail log-file record (S3 "Records" element, CloudWatch Logs message, local payload).
struct CloudTrailRenderOptions {
  bool include_raw = true;    // additionalEventData.raw (the audit lines)
  bool include_extra = true;  // additionalEventData beyond instanceId/truncated
  bool truncated = false;     // sets additionalEventData.truncated=true
  // recipientAccountId when the record has no account (off EC2, no IMDS): the S3 sink's account_id.
  std::string_view fallback_account_id;
};
// The record as compact JSON text (what the sinks send). Written directly, not through an nlohmann
// tree: it runs once per audit event (common/json/json_writer.h); invalid UTF-8 is replaced.
std::string render_cloudtrail_event(const TrailRecord& r, const CloudTrailRenderOptions& options);
// The same record parsed into a tree, for callers that inspect it (tests, tools).
nlohmann::ordered_json cloudtrail_event_json(const TrailRecord& r, const CloudTrailRenderOptions& options = {});

// The compact rendering, never longer than max_bytes when that is possible: when the full record is
// longer it drops raw lines, then the extra fields (marking truncated=true). Invalid UTF-8 from
// decoded audit values is replaced with U+FFFD.
std::string render_cloudtrail_event(const TrailRecord& r, std::size_t max_bytes = SIZE_MAX,
                                    std::string_view fallback_account_id = {});

// CloudTrail Lake PutAuditEvents eventData (aws-wire 4.3), strings capped at the schema limits.
// recipient_account_id: the channel owner's account (recipientAccountId); "" = r.account_id.
std::string render_lake_event_data(const TrailRecord& r, std::string_view recipient_account_id = {});
nlohmann::ordered_json lake_event_data_json(const TrailRecord& r);  // the same, parsed

// nlohmann dump that never throws: compact, invalid UTF-8 replaced.
std::string dump_json(const nlohmann::ordered_json& j);

// "2026-06-01T12:00:00Z" (CloudTrail's eventTime) and with ".123" milliseconds.
std::string format_event_time(int64_t time_ms, bool millis);

}  // namespace agent
