// AuditAssembler over the lines of the input. The first byte picks options (max_open_events 1..8
// or the default, auparse_delivery, log_timeout 0..3 s); steady time advances 10 ms a line and
// every 16th line ticks. Checks: the stats add up (lines = corrupt + records + orphan EOEs,
// events = events drained), every record of an event carries the event's node and timestamp,
// an event's source range covers its lines, nothing is left after flush_all(), and the
// checkpoint ends at the last line.
#include <chrono>
#include <string>
#include <string_view>

#include "agent/parsers/audit_assembler.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

struct Totals {
  uint64_t events = 0;
  uint64_t records = 0;
};

void check_events(const std::vector<agent::AuditEvent>& events, Totals& totals) {
  for (const agent::AuditEvent& event : events) {
    FUZZ_CHECK(!event.records.empty());
    FUZZ_CHECK(event.source.begin <= event.source.end);
    for (const agent::AuditRecord& record : event.records) {
      FUZZ_CHECK(record.node() == event.node());
      FUZZ_CHECK(record.timestamp() == event.timestamp());
    }
    ++totals.events;
    totals.records += event.records.size();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = tests::fuzz::as_text(data, size);
  agent::AuditAssemblerOptions options;
  if (!input.empty()) {
    const auto knobs = static_cast<unsigned char>(input.front());
    // Only a non-printable first byte is a knob, so plain audit.log seeds run with the defaults.
    if (knobs < 0x20 || knobs >= 0x80) {
      input.remove_prefix(1);
      if ((knobs & 0x08) != 0) options.max_open_events = (knobs & 0x07) + 1u;
      options.auparse_delivery = (knobs & 0x10) != 0;
      options.log_timeout = std::chrono::seconds((knobs >> 5) & 0x03);
    }
  }
  agent::AuditAssembler assembler(options);
  common::SteadyTime now{};
  Totals totals;
  uint64_t offset = 0;
  uint64_t line_count = 0;
  std::string_view rest = input;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    const uint64_t length = nl == std::string_view::npos ? rest.size() : nl + 1;
    rest.remove_prefix(length);
    now += std::chrono::milliseconds(10);
    (void)assembler.add_line(line, now, agent::SourceRange{offset, offset + length});
    offset += length;
    if (++line_count % 16 == 0) {
      assembler.tick(now);
      check_events(assembler.drain(), totals);
    }
  }
  assembler.tick(now + std::chrono::hours(1));
  check_events(assembler.drain(), totals);
  assembler.flush_all();
  check_events(assembler.drain(), totals);

  const agent::AuditAssemblerStats& stats = assembler.stats();
  FUZZ_CHECK(stats.lines == line_count);
  FUZZ_CHECK(stats.lines == stats.corrupt_lines + stats.records + stats.orphan_eoe);
  FUZZ_CHECK(stats.records == totals.records);
  FUZZ_CHECK(stats.events == totals.events);
  FUZZ_CHECK(stats.evicted <= stats.events);
  FUZZ_CHECK(assembler.open_count() == 0 && assembler.ready_count() == 0);
  if (line_count > 0) {
    FUZZ_CHECK(assembler.checkpoint().has_value() && *assembler.checkpoint() == offset);
  } else {
    FUZZ_CHECK(!assembler.checkpoint().has_value());
  }
  return 0;
}
