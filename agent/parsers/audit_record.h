// parse_audit_line: one line of auditd's log (audit.log, raw or ENRICHED format).
//
//   [node=NAME ]type=TYPE msg=audit(SEC[.MS]:SERIAL): name=value name=value ...[\x1dNAME=value ...]
//
// Fields are split the way libauparse splits them, so that what we forward matches what
// ausearch/auparse users see (tests/differential checks this against libauparse on the shared
// corpus):
// - the body is cut at single spaces (runs of spaces are one cut; tabs belong to tokens); a
//   token is a field when it holds '=': name before the first '=', value after it. Values are
//   kept RAW as written: "quoted" values keep their quotes, hex-encoded ones stay hex
//   (decode with audit_decode_value()). Quoted values with spaces are split like auparse does.
// - tokens without '=' are dropped, except in AVC/USER_AVC records, where the unlabelled
//   "denied"/"granted" becomes seresult and "{ read write }" becomes seperms=read,write.
// - user-space messages carry msg='k=v k=v ...': the opening "msg='" is dropped and the inner
//   fields are fields of the record (a trailing ' is dropped from the last value). A token
//   "msg=a..." (msg=audit(...) itself) is never a field.
// - a leading '(' is dropped from names; from values a trailing ':' then ',' then '\'' then ')'
//   (except "(none)"/"(null)"). Fields with an empty value are dropped.
// - an unquoted key=HEX (not "(null)") is decoded and split at 0x01 into one "key" field per
//   rule key, each written back quoted ("k1") or, if it holds '"', controls or non-ASCII, as
//   upper-case hex. These (and seperms) are the only values that are not slices of the line.
// - the ENRICHED part after 0x1d (GS) is kept apart: enriched() / enriched_fields().
// Records keep field order and duplicate names. A record owns a copy of its line; field
// accessors return views into it (valid while the record lives and is not modified).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/parsers/audit_types.h"
#include "common/result/result.h"

namespace agent {

// Bigger lines are refused; auditd's own limit is MAX_AUDIT_MESSAGE_LENGTH (8970) + enrichment.
inline constexpr std::size_t kMaxAuditLineBytes = 1u << 20;

struct AuditTimestamp {
  int64_t sec = 0;
  uint32_t ms = 0;  // 0..999
  uint64_t serial = 0;

  friend bool operator==(const AuditTimestamp&, const AuditTimestamp&) = default;
};

struct AuditFieldView {
  std::string_view name;
  std::string_view value;

  friend bool operator==(const AuditFieldView&, const AuditFieldView&) = default;
};

class AuditRecord {
 public:
  AuditRecord() = default;

  std::string_view line() const noexcept { return text_; }  // without the trailing newline
  std::string_view node() const noexcept { return slice(node_); }  // "" when there is no node=
  std::string_view type_name() const noexcept { return slice(type_); }  // "SYSCALL", "UNKNOWN[1420]"
  int32_t type() const noexcept { return type_number_; }  // audit_type_number(type_name())
  const AuditTimestamp& timestamp() const noexcept { return timestamp_; }

  std::size_t field_count() const noexcept { return fields_.size(); }
  AuditFieldView field(std::size_t index) const noexcept {
    const FieldSpan& f = fields_[index];
    return {(f.flags & kNameInExtra) != 0 ? extra(f.name) : slice(f.name),
            (f.flags & kValueInExtra) != 0 ? extra(f.value) : slice(f.value)};
  }
  // The first field with this name (auparse's find_field), raw.
  std::optional<std::string_view> find(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const AuditFieldView f = field(i);
      if (f.name == name) return f.value;
    }
    return std::nullopt;
  }

  bool has_enriched() const noexcept { return enriched_.pos != kNoSpan; }
  std::string_view enriched() const noexcept { return has_enriched() ? slice(enriched_) : std::string_view(); }
  // The enriched part cut before every " NAME=" (NAME of [A-Z0-9_-]): UID="root" AUID="unset".
  std::vector<AuditFieldView> enriched_fields() const;

  // The line was longer than the reader's cap (audit.max_line_bytes) and was cut: its last field may
  // be incomplete. Set by whoever read the line; the parser cannot tell.
  bool cut() const noexcept { return cut_; }
  void set_cut(bool cut) noexcept { cut_ = cut; }

 private:
  friend common::Result<AuditRecord> parse_audit_line(std::string_view line);
  friend class AuditRecordBuilder;

  static constexpr uint32_t kNoSpan = UINT32_MAX;
  struct Span {
    uint32_t pos = kNoSpan;
    uint32_t len = 0;
  };
  static constexpr uint8_t kNameInExtra = 1;   // seresult, seperms
  static constexpr uint8_t kValueInExtra = 2;  // seperms, split rule keys
  struct FieldSpan {
    Span name;
    Span value;
    uint8_t flags = 0;
  };

  std::string_view slice(Span s) const noexcept {
    return s.pos == kNoSpan ? std::string_view() : std::string_view(text_).substr(s.pos, s.len);
  }

  std::string_view extra(Span s) const noexcept { return std::string_view(extra_).substr(s.pos, s.len); }

  std::string text_;
  std::string extra_;
  Span node_;
  Span type_;
  Span enriched_;
  int32_t type_number_ = kAuditTypeUnknown;
  bool cut_ = false;
  AuditTimestamp timestamp_;
  std::vector<FieldSpan> fields_;
};

// Errors (kParse, never a crash): empty line, line over kMaxAuditLineBytes, no "type=", no
// "msg=audit(", a malformed timestamp (SEC digits, optional .MS of 1-3 digits, :SERIAL digits
// that fit 64 bits, then ')'; the usual ':' after it may be missing, as in old DAEMON_CONFIG lines), or anything but spaces between the header parts.
[[nodiscard]] common::Result<AuditRecord> parse_audit_line(std::string_view line);

// Decodes a raw value the way auditd encoded it: "quoted" -> without quotes; an even-length run
// of hex digits -> its bytes (proctitle=..., EXECVE a1=..., name=..., untrusted strings); anything
// else ((null), 0x1f, ?, unquoted words) is returned as written.
std::string audit_decode_value(std::string_view raw);

// True when `raw` is an unquoted even-length hex string (what audit_decode_value would decode).
bool audit_value_is_hex(std::string_view raw) noexcept;

}  // namespace agent
