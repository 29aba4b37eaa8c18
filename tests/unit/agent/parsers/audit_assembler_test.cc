#include "agent/parsers/audit_assembler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using agent::AuditAssembler;
using agent::AuditAssemblerOptions;
using agent::AuditEvent;
using agent::AuditEventEnd;
using std::chrono::milliseconds;
using std::chrono::seconds;

const common::SteadyTime kT0{seconds(100)};

std::string line(std::string_view type, std::string_view stamp, std::string_view body = "a=1", std::string_view node = "") {
  std::string out;
  if (!node.empty()) out.append("node=").append(node).append(" ");
  out.append("type=").append(type).append(" msg=audit(").append(stamp).append("): ").append(body);
  return out;
}

std::vector<std::string> types_of(const AuditEvent& event) {
  std::vector<std::string> out;
  for (const auto& r : event.records) out.emplace_back(r.type_name());
  return out;
}

std::vector<uint64_t> serials(const std::vector<AuditEvent>& events) {
  std::vector<uint64_t> out;
  for (const auto& e : events) out.push_back(e.serial());
  return out;
}

void add(AuditAssembler& a, const std::string& text, common::SteadyTime now = kT0) {
  ASSERT_TRUE(a.add_line(text, now).ok()) << text;
}

TEST(AuditAssembler, GroupsAKernelEventUntilProctitle) {
  AuditAssembler a;
  add(a, line("SYSCALL", "1000.001:7", "arch=c000003e syscall=59"));
  add(a, line("EXECVE", "1000.001:7", "argc=2 a0=\"ls\" a1_len=4"));
  add(a, line("EXECVE", "1000.001:7", "a1[0]=2D6C"));
  add(a, line("CWD", "1000.001:7", "cwd=\"/\""));
  EXPECT_EQ(a.ready_count(), 0u);
  EXPECT_EQ(a.open_count(), 1u);
  add(a, line("PROCTITLE", "1000.001:7", "proctitle=6C73002D6C"));
  add(a, line("EOE", "1000.001:7", ""));  // the event already ended: this EOE is dropped
  const auto events = a.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(types_of(events[0]), (std::vector<std::string>{"SYSCALL", "EXECVE", "EXECVE", "CWD", "PROCTITLE"}));
  EXPECT_EQ(events[0].timestamp(), (agent::AuditTimestamp{1000, 1, 7}));
  EXPECT_EQ(events[0].end, AuditEventEnd::kEndRecord);
  EXPECT_EQ(a.stats().orphan_eoe, 1u);
  EXPECT_EQ(a.stats().records, 5u);
  EXPECT_EQ(a.open_count(), 0u);
}

TEST(AuditAssembler, EoeEndsAnEventAndIsKept) {
  AuditAssembler a;
  add(a, line("SYSCALL", "1000.001:8"));
  add(a, line("PATH", "1000.001:8"));
  add(a, line("EOE", "1000.001:8", ""));
  const auto events = a.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(types_of(events[0]), (std::vector<std::string>{"SYSCALL", "PATH", "EOE"}));
}

TEST(AuditAssembler, SingleRecordTypesCompleteAtOnce) {
  AuditAssembler a;
  for (const char* type : {"USER_LOGIN", "USER_AUTH", "SERVICE_START", "DAEMON_START", "LOGIN", "ANOM_LOGIN_FAILURES"}) {
    add(a, line(type, "1000.001:9"));
    const auto events = a.drain();
    ASSERT_EQ(events.size(), 1u) << type;
    EXPECT_EQ(types_of(events[0]), std::vector<std::string>{type});
  }
  // ...while these wait for more records.
  for (const char* type : {"CONFIG_CHANGE", "AVC", "ANOM_ABEND", "NETFILTER_CFG"}) {
    AuditAssembler b;
    add(b, line(type, "1000.001:9"));
    EXPECT_EQ(b.ready_count(), 0u) << type;
  }
}

TEST(AuditAssembler, SameTimestampAndSerialOnOtherNodesAreOtherEvents) {
  AuditAssembler a;
  add(a, line("SYSCALL", "1000.001:10", "a=1", "alpha"));
  add(a, line("SYSCALL", "1000.001:10", "a=2", "beta"));
  add(a, line("PROCTITLE", "1000.001:10", "proctitle=61", "beta"));
  add(a, line("PROCTITLE", "1000.001:10", "proctitle=62", "alpha"));
  const auto events = a.drain();
  ASSERT_EQ(events.size(), 2u);
  // Equal timestamps: first opened first.
  EXPECT_EQ(events[0].node(), "alpha");
  EXPECT_EQ(events[0].records[0].find("a"), std::optional<std::string_view>("1"));
  EXPECT_EQ(events[1].node(), "beta");
  EXPECT_EQ(to_string(events[1].id), "beta:1000.001:10");
}

TEST(AuditAssembler, LogTimeTimeoutClosesEventsWithoutEoe) {
  AuditAssembler a;  // log_timeout 2 s
  add(a, line("SYSCALL", "1000.500:1"));
  add(a, line("SYSCALL", "1001.999:2"));
  EXPECT_EQ(a.ready_count(), 0u);
  add(a, line("SYSCALL", "1002.000:3"));  // 1002 - 1000 >= 2: serial 1 is done
  auto events = a.drain();
  ASSERT_EQ(serials(events), (std::vector<uint64_t>{1}));
  EXPECT_EQ(events[0].end, AuditEventEnd::kLogTimeout);
  EXPECT_EQ(a.open_count(), 2u);
}

TEST(AuditAssembler, IdleTimeoutOnSteadyTime) {
  AuditAssemblerOptions options;
  options.idle_timeout = milliseconds(500);
  AuditAssembler a(options);
  add(a, line("SYSCALL", "1000.000:1"), kT0);
  add(a, line("PATH", "1000.000:1"), kT0 + milliseconds(300));
  a.tick(kT0 + milliseconds(799));
  EXPECT_EQ(a.ready_count(), 0u);
  a.tick(kT0 + milliseconds(800));
  const auto events = a.drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].end, AuditEventEnd::kIdleTimeout);
  EXPECT_EQ(events[0].records.size(), 2u);
}

TEST(AuditAssembler, OlderOpenEventHoldsBackNewerFinishedOnes) {
  AuditAssembler a;
  add(a, line("SYSCALL", "1000.000:1"));
  add(a, line("USER_LOGIN", "1000.100:2"));
  add(a, line("USER_LOGIN", "1000.200:3"));
  EXPECT_EQ(a.ready_count(), 0u);
  add(a, line("EOE", "1000.000:1", ""));
  EXPECT_EQ(serials(a.drain()), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(AuditAssembler, AuparseDeliveryWaitsForTheNextNewEvent) {
  AuditAssemblerOptions options;
  options.auparse_delivery = true;
  AuditAssembler a(options);
  add(a, line("SYSCALL", "1000.000:1"));
  add(a, line("PROCTITLE", "1000.000:1", "proctitle=61"));
  EXPECT_EQ(a.ready_count(), 0u);  // closed, but libauparse hands it out only on the next event
  add(a, line("USER_END", "999.000:2"));  // older: goes first, as libauparse does
  EXPECT_EQ(serials(a.drain()), (std::vector<uint64_t>{2, 1}));

  AuditAssembler prompt;
  add(prompt, line("SYSCALL", "1000.000:1"));
  add(prompt, line("PROCTITLE", "1000.000:1", "proctitle=61"));
  EXPECT_EQ(serials(prompt.drain()), (std::vector<uint64_t>{1}));
}

TEST(AuditAssembler, CorruptLinesAreCountedAndSkipped) {
  AuditAssembler a;
  add(a, line("SYSCALL", "1000.000:1"));
  const auto bad = a.add_line("type=SYSCALL msg=audit(garbage", kT0, {100, 131});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), common::ErrorCode::kParse);
  EXPECT_FALSE(a.add_line("", kT0).ok());
  add(a, line("PROCTITLE", "1000.000:1", "proctitle=61"));
  EXPECT_EQ(a.stats().corrupt_lines, 2u);
  EXPECT_EQ(a.stats().lines, 4u);
  EXPECT_EQ(a.drain().size(), 1u);
}

TEST(AuditAssembler, CheckpointStaysBehindLinesStillHeld) {
  AuditAssembler a;
  EXPECT_EQ(a.checkpoint(), std::nullopt);
  ASSERT_TRUE(a.add_line(line("SYSCALL", "1000.000:1"), kT0, {0, 40}).ok());
  ASSERT_TRUE(a.add_line(line("USER_LOGIN", "1000.500:2"), kT0, {40, 80}).ok());
  ASSERT_TRUE(a.add_line(line("PATH", "1000.000:1"), kT0, {80, 120}).ok());
  EXPECT_EQ(a.checkpoint(), std::optional<uint64_t>(0));
  ASSERT_TRUE(a.add_line(line("EOE", "1000.000:1", ""), kT0, {120, 150}).ok());
  EXPECT_EQ(a.checkpoint(), std::optional<uint64_t>(0));  // closed but not drained yet
  const auto events = a.drain();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].source, (agent::SourceRange{0, 150}));
  EXPECT_EQ(events[1].source, (agent::SourceRange{40, 80}));
  EXPECT_EQ(a.checkpoint(), std::optional<uint64_t>(150));
  (void)a.add_line("junk", kT0, {150, 155});
  EXPECT_EQ(a.checkpoint(), std::optional<uint64_t>(155));
}

TEST(AuditAssembler, TooManyOpenEventsEvictsTheOldest) {
  AuditAssemblerOptions options;
  options.max_open_events = 2;
  AuditAssembler a(options);
  add(a, line("SYSCALL", "1000.000:3"));
  add(a, line("SYSCALL", "1000.000:1"));
  add(a, line("SYSCALL", "1000.000:2"));
  EXPECT_EQ(a.stats().evicted, 1u);
  const auto events = a.drain();
  ASSERT_EQ(serials(events), (std::vector<uint64_t>{1}));
  EXPECT_EQ(events[0].end, AuditEventEnd::kEvicted);
}

TEST(AuditAssembler, FlushClosesEverythingOldestFirst) {
  AuditAssembler a;
  add(a, line("SYSCALL", "1000.000:5"));
  add(a, line("SYSCALL", "999.000:4"));
  a.flush_all();
  const auto events = a.drain();
  EXPECT_EQ(serials(events), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(events[0].end, AuditEventEnd::kFlush);
  EXPECT_EQ(a.open_count(), 0u);
  EXPECT_EQ(a.stats().events, 2u);
}

TEST(AuditAssembler, SameIdAfterCloseOpensASecondEvent) {
  AuditAssembler a;
  add(a, line("SYSCALL", "1000.000:1"));
  add(a, line("PROCTITLE", "1000.000:1", "proctitle=61"));
  add(a, line("PATH", "1000.000:1"));  // late record of a finished event
  a.flush_all();
  const auto events = a.drain();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(types_of(events[1]), std::vector<std::string>{"PATH"});
}

}  // namespace
