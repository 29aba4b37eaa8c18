#include "agent/parsers/audit_record.h"

#include <charconv>
#include <string>

namespace agent {
namespace {

constexpr char kGroupSeparator = '\x1d';  // AUDIT_INTERP_SEPARATOR: start of the ENRICHED part
constexpr char kKeySeparator = '\x01';    // AUDIT_KEY_SEPARATOR: between rule keys in key=HEX

common::Error parse_error(std::string reason) { return common::Error(common::ErrorCode::kParse, std::move(reason)); }

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename T>
bool parse_digits(std::string_view text, T& out) noexcept {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string_view trim_value(std::string_view value) noexcept {
  if (!value.empty() && value.back() == ':') value.remove_suffix(1);
  if (!value.empty() && value.back() == ',') value.remove_suffix(1);
  if (!value.empty() && value.back() == '\'') value.remove_suffix(1);
  if (!value.empty() && value.back() == ')' && value != "(none)" && value != "(null)") value.remove_suffix(1);
  return value;
}

bool is_enriched_name_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

bool audit_value_is_hex(std::string_view raw) noexcept {
  if (raw.empty() || raw.size() % 2 != 0) return false;
  for (char c : raw) {
    if (hex_digit(c) < 0) return false;
  }
  return true;
}

std::string audit_decode_value(std::string_view raw) {
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') return std::string(raw.substr(1, raw.size() - 2));
  if (!audit_value_is_hex(raw)) return std::string(raw);
  std::string out;
  out.reserve(raw.size() / 2);
  for (std::size_t i = 0; i < raw.size(); i += 2) {
    out.push_back(static_cast<char>((hex_digit(raw[i]) << 4) | hex_digit(raw[i + 1])));
  }
  return out;
}

// Builds the fields of one record from its body; see the header for the rules.
class AuditRecordBuilder {
 public:
  explicit AuditRecordBuilder(AuditRecord& record) : r_(record) {}

  void tokenize(std::size_t begin, std::size_t end) {
    const std::string_view text(r_.text_);
    std::size_t pos = begin;
    while (pos < end) {
      while (pos < end && text[pos] == ' ') ++pos;
      if (pos >= end) break;
      std::size_t stop = text.find(' ', pos);
      if (stop == std::string_view::npos || stop > end) stop = end;
      pos = token(pos, stop, end);
    }
  }

 private:
  using Span = AuditRecord::Span;

  static Span span(std::size_t pos, std::size_t len) { return {static_cast<uint32_t>(pos), static_cast<uint32_t>(len)}; }

  // Handles the token [begin, stop); returns where scanning goes on.
  std::size_t token(std::size_t begin, std::size_t stop, std::size_t end) {
    const std::string_view text(r_.text_);
    std::string_view tok = text.substr(begin, stop - begin);
    std::size_t eq = tok.find('=');
    if (eq != std::string_view::npos) {
      if (tok.substr(0, 4) == "msg=" && tok.size() > 4) {
        if (tok[4] == 'a') return stop;  // msg=audit(...): the header, never a field
        if (tok[4] == '\'') {
          begin += 5;
          tok.remove_prefix(5);
          eq = tok.find('=');
          if (eq == std::string_view::npos) return stop;
        }
      }
      std::size_t name_pos = begin;
      std::size_t name_len = eq;
      if (name_len > 0 && tok.front() == '(') {
        ++name_pos;
        --name_len;
      }
      const std::string_view value = trim_value(tok.substr(eq + 1));
      if (value.empty()) return stop;
      const std::string_view name = text.substr(name_pos, name_len);
      if (name == "key" && value.front() != '(' && value.front() != '"') {
        // Rule keys: the leading hex digits are decoded (a stray trailing byte is ignored, as
        // auparse does); fewer than two hex digits -> kept as written.
        std::size_t run = 0;
        while (run < value.size() && hex_digit(value[run]) >= 0) ++run;
        if (run >= 2) {
          split_keys(span(name_pos, name_len), audit_decode_value(value.substr(0, run - run % 2)));
          return stop;
        }
      }
      r_.fields_.push_back({span(name_pos, name_len), span(begin + eq + 1, value.size()), 0});
      return stop;
    }
    if (r_.type_number_ != kAuditTypeAvc && r_.type_number_ != kAuditTypeUserAvc) return stop;
    if (r_.fields_.empty()) {
      if (tok.substr(0, 3) == "avc") return stop;
      add_synthetic("seresult", tok);
      return stop;
    }
    if (r_.fields_.size() == 1 && tok.front() == '{') {
      // "{ read write }" -> seperms=read,write
      std::string perms;
      std::size_t pos = stop;
      while (pos < end) {
        while (pos < end && text[pos] == ' ') ++pos;
        if (pos >= end) break;
        std::size_t next = text.find(' ', pos);
        if (next == std::string_view::npos || next > end) next = end;
        const std::string_view perm = text.substr(pos, next - pos);
        pos = next;
        if (perm.front() == '}') break;
        if (!perms.empty()) perms.push_back(',');
        perms.append(perm);
      }
      if (!perms.empty()) add_synthetic("seperms", perms);  // "{ }": no permissions, no field (empty values are dropped)
      return pos;
    }
    return stop;
  }

  // seresult/seperms: neither name nor (for seperms) value is a slice of the line.
  void add_synthetic(std::string_view name, std::string_view value) {
    const std::size_t name_pos = r_.extra_.size();
    r_.extra_.append(name);
    const std::size_t value_pos = r_.extra_.size();
    r_.extra_.append(value);
    r_.fields_.push_back({span(name_pos, name.size()), span(value_pos, value.size()),
                         static_cast<uint8_t>(AuditRecord::kNameInExtra | AuditRecord::kValueInExtra)});
  }

  void split_keys(Span name, const std::string& decoded) {
    std::size_t pos = 0;
    while (pos < decoded.size()) {
      std::size_t next = decoded.find(kKeySeparator, pos);
      if (next == std::string::npos) next = decoded.size();
      const std::string_view key = std::string_view(decoded).substr(pos, next - pos);
      pos = next + 1;
      if (key.empty()) continue;
      bool plain = true;
      for (char c : key) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || u < 0x21 || u > 0x7f) plain = false;
      }
      const std::size_t value_pos = r_.extra_.size();
      if (plain) {
        r_.extra_.push_back('"');
        r_.extra_.append(key);
        r_.extra_.push_back('"');
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        for (char c : key) {
          const auto u = static_cast<unsigned char>(c);
          r_.extra_.push_back(kHex[u >> 4]);
          r_.extra_.push_back(kHex[u & 0xF]);
        }
      }
      r_.fields_.push_back({name, span(value_pos, r_.extra_.size() - value_pos), AuditRecord::kValueInExtra});
    }
  }

 private:
  AuditRecord& r_;
};

common::Result<AuditRecord> parse_audit_line(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return parse_error("empty line");
  if (line.size() > kMaxAuditLineBytes) return parse_error("line longer than " + std::to_string(kMaxAuditLineBytes) + " bytes");

  AuditRecord record;
  record.text_.assign(line);
  const std::string_view text(record.text_);
  const std::size_t gs = text.find(kGroupSeparator);
  const std::size_t body_end = gs == std::string_view::npos ? text.size() : gs;
  if (gs != std::string_view::npos) {
    record.enriched_ = {static_cast<uint32_t>(gs + 1), static_cast<uint32_t>(text.size() - gs - 1)};
  }
  const std::string_view head = text.substr(0, body_end);

  std::size_t pos = 0;
  auto skip_spaces = [&] { while (pos < head.size() && head[pos] == ' ') ++pos; };
  // One "name=value" header token: returns the value span, or nothing.
  auto header_token = [&](std::string_view prefix) -> std::optional<AuditRecord::Span> {
    if (head.substr(pos, prefix.size()) != prefix) return std::nullopt;
    const std::size_t value_pos = pos + prefix.size();
    std::size_t stop = head.find(' ', value_pos);
    if (stop == std::string_view::npos) stop = head.size();
    if (stop == value_pos) return std::nullopt;
    pos = stop;
    return AuditRecord::Span{static_cast<uint32_t>(value_pos), static_cast<uint32_t>(stop - value_pos)};
  };

  skip_spaces();
  if (auto node = header_token("node=")) {
    record.node_ = *node;
    skip_spaces();
  } else if (head.substr(pos, 5) == "node=") {
    return parse_error("empty node= name");
  }
  const auto type = header_token("type=");
  if (!type) return parse_error("no type= at the start of the line");
  record.type_ = *type;
  record.type_number_ = audit_type_number(record.type_name());
  skip_spaces();
  constexpr std::string_view kMsg = "msg=audit(";
  if (head.substr(pos, kMsg.size()) != kMsg) return parse_error("no msg=audit( after type=");
  pos += kMsg.size();

  // SEC[.MS]:SERIAL):
  const std::size_t close = head.find(')', pos);
  if (close == std::string_view::npos) return parse_error("timestamp not closed by ')'");
  const std::string_view stamp = head.substr(pos, close - pos);
  const std::size_t colon = stamp.find(':');
  if (colon == std::string_view::npos) return parse_error("timestamp without :SERIAL");
  std::string_view time_part = stamp.substr(0, colon);
  const std::string_view serial_part = stamp.substr(colon + 1);
  const std::size_t dot = time_part.find('.');
  std::string_view ms_part;
  if (dot != std::string_view::npos) {
    ms_part = time_part.substr(dot + 1);
    time_part = time_part.substr(0, dot);
    if (ms_part.empty() || ms_part.size() > 3 || !parse_digits(ms_part, record.timestamp_.ms)) {
      return parse_error("timestamp milliseconds are not 1-3 digits");
    }
  }
  if (!parse_digits(time_part, record.timestamp_.sec)) return parse_error("timestamp seconds are not a number");
  if (!parse_digits(serial_part, record.timestamp_.serial)) return parse_error("serial is not a 64-bit number");

  // Like auparse, the body starts after the whole msg=audit(...) token: "):a=b" loses a=b.
  std::size_t body = head.find(' ', close);
  if (body == std::string_view::npos) body = head.size();
  AuditRecordBuilder builder(record);
  builder.tokenize(body, body_end);
  return record;
}

std::vector<AuditFieldView> AuditRecord::enriched_fields() const {
  std::vector<AuditFieldView> out;
  const std::string_view rest = enriched();
  std::size_t start = 0;
  auto emit = [&](std::size_t stop) {
    std::string_view item = rest.substr(start, stop - start);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n')) item.remove_suffix(1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos) out.push_back({item.substr(0, eq), item.substr(eq + 1)});
  };
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != ' ') continue;
    std::size_t j = i + 1;
    while (j < rest.size() && is_enriched_name_char(rest[j])) ++j;
    if (j > i + 1 && j < rest.size() && rest[j] == '=') {
      emit(i);
      start = i + 1;
    }
  }
  emit(rest.size());
  return out;
}

}  // namespace agent
