// parse_audit_line over every line of the input (so whole audit.log files are valid seeds).
// Checks on each parsed record: type() agrees with audit_type_number(type_name()), ms <= 999, no
// field has an empty value, find() returns the first field of a name, decoded hex values
// are half as long, the enriched part is split without crashing, and parsing line() again gives
// the same record (the parser is deterministic and line() holds all it needs).
// Names may be empty (a token "=x").
#include <string>
#include <string_view>

#include "agent/parsers/audit_record.h"
#include "agent/parsers/audit_types.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void check_record(const agent::AuditRecord& record) {
  FUZZ_CHECK(record.type() == agent::audit_type_number(record.type_name()));
  FUZZ_CHECK(record.timestamp().ms <= 999);
  FUZZ_CHECK(!record.line().empty());
  for (std::size_t i = 0; i < record.field_count(); ++i) {
    const agent::AuditFieldView f = record.field(i);
    // An empty name is possible: the parser keeps a token "=x" as name "", value "x".
    FUZZ_CHECK(!f.value.empty());
    const auto first = record.find(f.name);
    FUZZ_CHECK(first.has_value());
    for (std::size_t j = 0; j < i; ++j) {
      if (record.field(j).name == f.name) {
        FUZZ_CHECK(*first == record.field(j).value);
        break;
      }
    }
    const std::string decoded = agent::audit_decode_value(f.value);
    if (agent::audit_value_is_hex(f.value)) FUZZ_CHECK(decoded.size() * 2 == f.value.size());
  }
  for (const agent::AuditFieldView& f : record.enriched_fields()) (void)f;
  if (!record.has_enriched()) FUZZ_CHECK(record.enriched().empty());
}

void check_same(const agent::AuditRecord& a, const agent::AuditRecord& b) {
  FUZZ_CHECK(a.line() == b.line());
  FUZZ_CHECK(a.node() == b.node() && a.type_name() == b.type_name() && a.timestamp() == b.timestamp());
  FUZZ_CHECK(a.field_count() == b.field_count());
  for (std::size_t i = 0; i < a.field_count(); ++i) FUZZ_CHECK(a.field(i) == b.field(i));
  FUZZ_CHECK(a.enriched() == b.enriched());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest = tests::fuzz::as_text(data, size);
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);

    auto record = agent::parse_audit_line(line);
    if (!record.ok()) continue;
    check_record(*record);
    auto again = agent::parse_audit_line(record->line());
    FUZZ_CHECK(again.ok());
    check_same(*record, *again);
    // A copy keeps its own text: its views must not point into the original.
    const agent::AuditRecord copy = *record;
    record = agent::parse_audit_line("");
    check_same(copy, *again);
  }
  return 0;
}
