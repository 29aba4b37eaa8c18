#include "agent/parsers/audit_assembler.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace agent {
namespace {

bool older(const AuditTimestamp& a, const AuditTimestamp& b) noexcept {
  return std::tie(a.sec, a.ms, a.serial) < std::tie(b.sec, b.ms, b.serial);
}

bool same_event(const AuditEventId& id, const AuditRecord& record) noexcept {
  return id.timestamp == record.timestamp() && id.node == record.node();
}

}  // namespace

AuditAssembler::AuditAssembler(AuditAssemblerOptions options) : options_(options) {}

std::size_t AuditAssembler::open_count() const noexcept { return open_; }

common::Status AuditAssembler::add_line(std::string_view line, common::SteadyTime now, SourceRange source, bool cut) {
  ++stats_.lines;
  auto record = parse_audit_line(line);
  if (!record.ok()) {
    ++stats_.corrupt_lines;
    note_source(source);
    return std::move(record).error();
  }
  record->set_cut(cut);
  add(std::move(record).value(), now, source);
  return common::ok_status();
}

void AuditAssembler::note_source(SourceRange source) noexcept {
  if (source.end == 0 && source.begin == 0) return;
  if (!high_water_ || source.end > *high_water_) high_water_ = source.end;
}

void AuditAssembler::add(AuditRecord record, common::SteadyTime now, SourceRange source) {
  note_source(source);
  const bool ends = audit_type_ends_event(record.type());
  const int64_t record_sec = record.timestamp().sec;

  bool opened = false;
  Slot* target = nullptr;
  for (Slot& slot : slots_) {
    if (slot.state == SlotState::kBuilding && same_event(slot.event.id, record)) {
      target = &slot;
      break;
    }
  }
  if (target == nullptr && record.type() == kAuditTypeEoe) {
    ++stats_.orphan_eoe;  // libauparse drops an EOE that has no event to end
  } else {
    ++stats_.records;
    if (target == nullptr) {
      auto empty = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.state == SlotState::kEmpty; });
      if (empty == slots_.end()) empty = slots_.insert(slots_.end(), Slot{});
      target = &*empty;
      target->state = SlotState::kBuilding;
      target->event = AuditEvent{};
      target->event.id.node.assign(record.node());
      target->event.id.timestamp = record.timestamp();
      target->event.source = source;
      ++open_;
      opened = true;
    } else if (source.end != 0) {
      SourceRange& range = target->event.source;
      if (range.begin == 0 && range.end == 0) {
        range = source;
      } else {
        range.begin = std::min(range.begin, source.begin);
        range.end = std::max(range.end, source.end);
      }
    }
    target->last_record = now;
    target->event.records.push_back(std::move(record));
    if (ends) close(*target, AuditEventEnd::kEndRecord);
  }

  // libauparse's end-of-event timeout, on log time.
  const int64_t timeout = options_.log_timeout.count();
  for (Slot& slot : slots_) {
    if (slot.state == SlotState::kBuilding && record_sec - slot.event.id.timestamp.sec >= timeout) {
      close(slot, AuditEventEnd::kLogTimeout);
    }
  }
  while (open_ > options_.max_open_events) {
    Slot* oldest = nullptr;
    for (Slot& slot : slots_) {
      if (slot.state == SlotState::kBuilding && (oldest == nullptr || older(slot.event.id.timestamp, oldest->event.id.timestamp))) {
        oldest = &slot;
      }
    }
    ++stats_.evicted;
    close(*oldest, AuditEventEnd::kEvicted);
  }
  // libauparse hands out events only after a record opened an event.
  if (options_.auparse_delivery && !opened) return;
  deliver();
}

void AuditAssembler::close(Slot& slot, AuditEventEnd why) {
  slot.state = SlotState::kComplete;
  slot.event.end = why;
  --open_;
  ++stats_.events;
}

void AuditAssembler::deliver() {
  for (;;) {
    Slot* oldest = nullptr;
    for (Slot& slot : slots_) {
      if (slot.state == SlotState::kEmpty) continue;
      if (oldest == nullptr || older(slot.event.id.timestamp, oldest->event.id.timestamp)) oldest = &slot;
    }
    if (oldest == nullptr || oldest->state != SlotState::kComplete) return;
    ready_.push_back(std::move(oldest->event));
    oldest->event = AuditEvent{};
    oldest->state = SlotState::kEmpty;
  }
}

void AuditAssembler::tick(common::SteadyTime now) {
  for (Slot& slot : slots_) {
    if (slot.state == SlotState::kBuilding && now - slot.last_record >= options_.idle_timeout) {
      close(slot, AuditEventEnd::kIdleTimeout);
    }
  }
  deliver();
}

void AuditAssembler::flush_all() {
  for (Slot& slot : slots_) {
    if (slot.state == SlotState::kBuilding) close(slot, AuditEventEnd::kFlush);
  }
  deliver();
}

std::vector<AuditEvent> AuditAssembler::drain() {
  std::vector<AuditEvent> out;
  out.swap(ready_);
  return out;
}

std::optional<uint64_t> AuditAssembler::checkpoint() const noexcept {
  std::optional<uint64_t> held;
  auto hold = [&](const AuditEvent& event) {
    if (event.source.begin == 0 && event.source.end == 0) return;
    if (!held || event.source.begin < *held) held = event.source.begin;
  };
  for (const Slot& slot : slots_) {
    if (slot.state != SlotState::kEmpty) hold(slot.event);
  }
  for (const AuditEvent& event : ready_) hold(event);
  return held ? held : high_water_;
}

}  // namespace agent
