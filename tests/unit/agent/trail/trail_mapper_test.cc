// map_event on real events from the shared corpus, field by field.
#include "agent/pipeline/trail_mapper.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "tests/unit/agent/trail/trail_test_util.h"

namespace {

using agent::TrailPath;
using agent::TrailRecord;
using agent::TrailResult;
using agent::TrailSocket;
using tests::map_corpus;

TEST(TrailMapper, ExecveWithCwdPathsProctitleAndEnrichedNames) {
  const TrailRecord r = map_corpus("laurel/record-execve.log", 15558);
  EXPECT_EQ(r.event_name, "execve");
  EXPECT_EQ(r.record_type, "SYSCALL");
  EXPECT_EQ(r.record_types, (std::vector<std::string>{"SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"}));
  EXPECT_EQ(r.arch, "x86_64");
  EXPECT_EQ(r.syscall, 59);
  EXPECT_EQ(r.exe, "/usr/bin/whoami");
  EXPECT_EQ(r.comm, "whoami");
  EXPECT_EQ(r.cwd, "/home/user/tmp");
  EXPECT_EQ(r.command_line, "whoami");
  EXPECT_EQ(r.argc, 1);
  EXPECT_EQ(r.pid, 10884);
  EXPECT_EQ(r.ppid, 10883);
  EXPECT_EQ(r.paths, (std::vector<TrailPath>{{"/usr/bin/whoami", "NORMAL"}, {"/lib64/ld-linux-x86-64.so.2", "NORMAL"}}));
  EXPECT_FALSE(r.socket);
  EXPECT_TRUE(r.keys.empty());  // key=(null)
  // who: numbers from the SYSCALL record, names from its enriched part
  EXPECT_EQ(r.identity.auid, 1000u);
  EXPECT_EQ(r.identity.auid_name, "user");
  EXPECT_EQ(r.identity.uid, 0u);
  EXPECT_EQ(r.identity.uid_name, "root");
  EXPECT_EQ(r.identity.euid_name, "root");
  EXPECT_EQ(r.identity.ses, 1u);
  EXPECT_EQ(r.identity.tty, "pts1");
  // when / where / from where / result
  EXPECT_EQ(r.time_ms, 1615114232375);
  EXPECT_EQ(r.request_id, "work:1615114232.375:15558");
  EXPECT_EQ(r.node, "work");
  EXPECT_EQ(r.source_ip, "10.0.1.17");
  EXPECT_FALSE(r.remote);
  EXPECT_EQ(r.result, TrailResult::kSuccess);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.error_code.empty());
  EXPECT_EQ(r.instance_id, "i-0123456789abcdef0");
  EXPECT_EQ(r.account_id, "111122223333");
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.hostname, "ip-10-0-1-17");
  ASSERT_EQ(r.raw_lines.size(), 6u);
  EXPECT_EQ(r.raw_lines[1], "node=work type=EXECVE msg=audit(1615114232.375:15558): argc=1 a0=\"whoami\"");
}

TEST(TrailMapper, CloudTrailJsonOfAnExecve) {
  const TrailRecord r = map_corpus("laurel/record-execve.log", 15558);
  const auto j = agent::cloudtrail_event_json(r);
  EXPECT_EQ(j["eventVersion"], "1.11");
  EXPECT_EQ(j["userIdentity"]["type"], "LinuxUser");
  EXPECT_EQ(j["userIdentity"]["principalId"], "auid:1000");
  EXPECT_EQ(j["userIdentity"]["userName"], "user");
  EXPECT_EQ(j["userIdentity"]["accountId"], "111122223333");
  EXPECT_EQ(j["eventTime"], "2021-03-07T10:50:32Z");
  EXPECT_EQ(j["eventSource"], "trailwatch.audit");
  EXPECT_EQ(j["eventName"], "execve");
  EXPECT_EQ(j["awsRegion"], "us-east-1");
  EXPECT_EQ(j["sourceIPAddress"], "10.0.1.17");
  EXPECT_EQ(j["userAgent"], "/usr/bin/whoami");
  EXPECT_EQ(j["requestParameters"]["commandLine"], "whoami");
  EXPECT_EQ(j["requestParameters"]["cwd"], "/home/user/tmp");
  EXPECT_EQ(j["requestParameters"]["syscall"], 59);
  EXPECT_EQ(j["requestParameters"]["paths"][1]["name"], "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(j["responseElements"]["result"], "success");
  EXPECT_EQ(j["responseElements"]["exit"], 0);
  EXPECT_FALSE(j.contains("errorCode"));
  EXPECT_EQ(j["additionalEventData"]["auditTime"], "2021-03-07T10:50:32.375Z");
  EXPECT_EQ(j["additionalEventData"]["identity"]["ses"], 1);
  EXPECT_EQ(j["additionalEventData"]["raw"].size(), 6u);
  EXPECT_EQ(j["requestID"], "work:1615114232.375:15558");
  EXPECT_EQ(j["eventID"], r.event_id);
  EXPECT_EQ(j["readOnly"], false);
  EXPECT_EQ(j["resources"][0]["ARN"], "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0");
  EXPECT_EQ(j["eventType"], "ActivityLog");
  EXPECT_EQ(j["eventCategory"], "ActivityAuditLog");
  EXPECT_EQ(j["recipientAccountId"], "111122223333");
}

TEST(TrailMapper, FailedRemoteLoginFromEnrichedLog) {
  const TrailRecord r = map_corpus("audit-userspace/auparse-test-enriched-rhel10.log", 891);
  EXPECT_EQ(r.event_name, "USER_LOGIN");
  EXPECT_EQ(r.result, TrailResult::kFailure);
  EXPECT_EQ(r.error_code, "failed");
  EXPECT_EQ(r.error_message, "USER_LOGIN op=login acct=newuser res=failed");
  EXPECT_EQ(r.source_ip, "10.45.224.176");
  EXPECT_TRUE(r.remote);
  EXPECT_EQ(r.remote_hostname, "");  // hostname=?
  EXPECT_EQ(r.identity.account, "newuser");
  EXPECT_FALSE(r.identity.auid);  // 4294967295
  EXPECT_FALSE(r.identity.ses);
  EXPECT_EQ(r.identity.uid, 0u);
  EXPECT_EQ(r.identity.uid_name, "root");
  EXPECT_EQ(r.exe, "/usr/libexec/openssh/sshd-session");
  EXPECT_EQ(r.operation, "login");
  EXPECT_EQ(r.terminal, "ssh");
  EXPECT_EQ(r.time_ms, 1749816872644);
  const auto j = agent::cloudtrail_event_json(r);
  EXPECT_EQ(j["userIdentity"]["principalId"], "uid:0");
  EXPECT_EQ(j["userIdentity"]["userName"], "root");
  EXPECT_EQ(j["errorCode"], "failed");
  EXPECT_EQ(j["sourceIPAddress"], "10.45.224.176");
  EXPECT_EQ(j["requestParameters"]["account"], "newuser");
  EXPECT_EQ(j["eventTime"], "2025-06-13T12:14:32Z");
}

TEST(TrailMapper, HexEncodedAccountIsDecoded) {
  const TrailRecord r = map_corpus("go-libaudit/auparse-audit-ubuntu16.log", 19955);
  EXPECT_EQ(r.event_name, "USER_LOGIN");
  EXPECT_EQ(r.identity.account, "(invalid user)");
  EXPECT_EQ(r.source_ip, "179.38.151.221");
  EXPECT_EQ(r.result, TrailResult::kFailure);
}

TEST(TrailMapper, ConnectWithInetAndInet6Sockaddr) {
  const TrailRecord ok = map_corpus("laurel/record-connect.log", 2482681);
  EXPECT_EQ(ok.event_name, "connect");
  ASSERT_TRUE(ok.socket);
  EXPECT_EQ(*ok.socket, (TrailSocket{"inet", "127.0.0.1", 11211}));
  EXPECT_EQ(ok.result, TrailResult::kSuccess);
  EXPECT_FALSE(ok.identity.auid);
  EXPECT_EQ(ok.identity.uid, 48u);
  EXPECT_EQ(ok.identity.tty, "");
  EXPECT_EQ(ok.exe, "/usr/bin/php");

  const TrailRecord failed = map_corpus("laurel/record-connect.log", 2482682);
  ASSERT_TRUE(failed.socket);
  EXPECT_EQ(*failed.socket, (TrailSocket{"inet6", "::1", 11211}));
  EXPECT_EQ(failed.result, TrailResult::kFailure);
  EXPECT_EQ(failed.exit_code, -115);
  EXPECT_EQ(failed.error_code, "EINPROGRESS");
  EXPECT_EQ(failed.error_message, "connect failed (exit=-115)");
  const auto j = agent::cloudtrail_event_json(failed);
  EXPECT_EQ(j["requestParameters"]["socketAddress"]["address"], "::1");
  EXPECT_EQ(j["requestParameters"]["socketAddress"]["port"], 11211);
  EXPECT_EQ(j["errorCode"], "EINPROGRESS");
  EXPECT_EQ(j["userIdentity"]["principalId"], "uid:48");
  EXPECT_FALSE(j["userIdentity"].contains("userName"));
}

TEST(TrailMapper, SockaddrFamilies) {
  EXPECT_EQ(agent::decode_sockaddr("01002F72756E2F73797374656D642F6E6F74696679"),
            (TrailSocket{"unix", "/run/systemd/notify", std::nullopt}));
  EXPECT_EQ(agent::decode_sockaddr("0100006162630000"), (TrailSocket{"unix", "@abc", std::nullopt}));
  EXPECT_EQ(agent::decode_sockaddr("100000000000000000000000"), (TrailSocket{"netlink", "", std::nullopt}));
  EXPECT_EQ(agent::decode_sockaddr("02000050C0A80001"), (TrailSocket{"inet", "192.168.0.1", 80}));
  EXPECT_EQ(agent::decode_sockaddr("zz"), std::nullopt);
}

TEST(TrailMapper, SplitExecveArgumentIsReassembled) {
  const TrailRecord r = map_corpus("laurel/record-execve-long.log", 21028);
  EXPECT_EQ(r.event_name, "execve");
  EXPECT_EQ(r.argc, 2);
  // a1 comes in three hex pieces of 3732, 3746 and 714 bytes
  ASSERT_EQ(r.command_line.size(), std::string("/bin/echo ").size() + 3732 + 3746 + 714);
  EXPECT_EQ(r.command_line.substr(0, 14), "/bin/echo baaa");
  EXPECT_EQ(r.command_line[10 + 3732], 'd');
  EXPECT_EQ(r.command_line[10 + 3732 + 3746], 'f');
}

TEST(TrailMapper, ProctitleIsTheCommandLineWithoutExecve) {
  const TrailRecord r = map_corpus("audit-userspace/auparse-test-enriched-rhel10.log", 826);
  EXPECT_EQ(r.event_name, "CONFIG_CHANGE");  // the first record; the SYSCALL (sendto) is detail
  EXPECT_EQ(r.command_line, "/sbin/auditctl -R /etc/audit/audit.rules");
  EXPECT_EQ(r.syscall, 44);
  EXPECT_EQ(r.exe, "/usr/sbin/auditctl");
  EXPECT_EQ(agent::decode_proctitle("\"whoami\""), "whoami");
  EXPECT_EQ(agent::decode_proctitle("6C73002D6C00"), "ls -l");
}

TEST(TrailMapper, Aarch64SyscallNamesAndErrno) {
  const TrailRecord r = map_corpus("go-libaudit/aucoalesce-ubuntu-24.04-linux-6.8.0.log", 240);
  EXPECT_EQ(r.arch, "aarch64");
  EXPECT_EQ(r.event_name, "linkat");
  EXPECT_EQ(r.error_code, "EFAULT");
  // EXECVE before SYSCALL still names the event after the syscall
  const TrailRecord exec = map_corpus("laurel/fork-sleep-exec.log", 6104005);
  EXPECT_EQ(exec.event_name, "execve");
  EXPECT_EQ(exec.record_type, "SYSCALL");
  EXPECT_EQ(exec.command_line, "/home/user/bin/uncaring-parent");
  // LOGIN ends its event at once (libauparse's rule); its SYSCALL (write) follows as its own event
  const auto login_events = tests::corpus_events("laurel/record-login.log");
  ASSERT_EQ(login_events.size(), 2u);
  const TrailRecord login = agent::map_event(login_events[0], tests::test_host());
  EXPECT_EQ(login.event_name, "LOGIN");
  EXPECT_FALSE(login.syscall);
  EXPECT_EQ(agent::map_event(login_events[1], tests::test_host()).event_name, "write");
  EXPECT_EQ(login.identity.auid, 0u);
  EXPECT_EQ(login.identity.auid_name, "root");
  EXPECT_EQ(login.identity.ses, 325u);
  EXPECT_EQ(agent::syscall_name("aarch64", 221), "execve");
  EXPECT_EQ(agent::syscall_name("x86_64", 42), "connect");
  EXPECT_EQ(agent::syscall_name("x86_64", 100000), "");
}

TEST(TrailMapper, UnknownSyscallAndArch) {
  const auto events = tests::events_from_text(
      "type=SYSCALL msg=audit(1700000000.001:5): arch=c000003e syscall=9999 success=yes exit=0 auid=1 uid=1\n"
      "type=EOE msg=audit(1700000000.001:5):\n"
      "type=SYSCALL msg=audit(1700000000.002:6): arch=deadbeef syscall=3 success=yes exit=0 auid=1 uid=1\n"
      "type=EOE msg=audit(1700000000.002:6):\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(agent::map_event(events[0], tests::test_host()).event_name, "syscall_9999");
  const TrailRecord other = agent::map_event(events[1], tests::test_host());
  EXPECT_EQ(other.event_name, "syscall_3");
  EXPECT_EQ(other.arch, "deadbeef");
}

TEST(TrailMapper, RuleKeysAndUserNameLookup) {
  agent::TrailMapperOptions options;
  options.user_name = [](uint32_t uid) -> std::optional<std::string> {
    if (uid == 1000) return "alice";
    if (uid == 0) return "root";
    return std::nullopt;
  };
  const TrailRecord r = map_corpus("laurel/record-syscall-key.log", 2365, options);
  EXPECT_EQ(r.keys, (std::vector<std::string>{"filter-this"}));
  EXPECT_EQ(r.identity.auid_name, "alice");  // no enriched part: the lookup
  EXPECT_EQ(r.identity.uid_name, "root");
  EXPECT_EQ(agent::cloudtrail_event_json(r)["requestParameters"]["key"], "filter-this");
  const TrailRecord no_lookup = map_corpus("laurel/record-syscall-key.log", 2365);
  EXPECT_EQ(no_lookup.identity.auid_name, "");
}

TEST(TrailMapper, EventIdIsDeterministicAndUuidShaped) {
  const agent::HostContext host = tests::test_host();
  const std::string first_line(tests::corpus_event("laurel/record-execve.log", 15558).records.front().line());
  const std::string_view execve_line = first_line;
  const std::string a = agent::make_trail_event_id(host, "work", 1615114232, 375, 15558, execve_line);
  EXPECT_EQ(a, agent::make_trail_event_id(host, "work", 1615114232, 375, 15558, execve_line));
  EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"))) << a;
  EXPECT_NE(a, agent::make_trail_event_id(host, "work", 1615114232, 375, 15559, execve_line));
  EXPECT_NE(a, agent::make_trail_event_id(host, "work", 1615114232, 376, 15558, execve_line));
  EXPECT_NE(a, agent::make_trail_event_id(host, "", 1615114232, 375, 15558, execve_line));
  // The host is named by its instance id, else its machine id, else its boot id. The first two
  // survive a reboot: an event re-sent after one keeps its id.
  agent::HostContext rebooted = host;
  rebooted.boot_id = "another-boot";
  EXPECT_EQ(a, agent::make_trail_event_id(rebooted, "work", 1615114232, 375, 15558, execve_line));
  agent::HostContext other = host;
  other.instance_id = "i-0fedcba9876543210";
  EXPECT_NE(a, agent::make_trail_event_id(other, "work", 1615114232, 375, 15558, execve_line));
  agent::HostContext off_ec2 = host;
  off_ec2.instance_id.clear();
  off_ec2.machine_id = "3d1219c7c4c5404aaa1f6d2a48adfda4";
  const std::string by_machine = agent::make_trail_event_id(off_ec2, "work", 1, 0, 1, execve_line);
  off_ec2.boot_id = "another-boot";
  EXPECT_EQ(by_machine, agent::make_trail_event_id(off_ec2, "work", 1, 0, 1, execve_line));
  agent::HostContext other_machine = off_ec2;
  other_machine.machine_id = "0123456789abcdef0123456789abcdef";
  EXPECT_NE(by_machine, agent::make_trail_event_id(other_machine, "work", 1, 0, 1, execve_line));
  agent::HostContext boot_only = off_ec2;
  boot_only.machine_id.clear();
  EXPECT_EQ(agent::host_id_for_events(boot_only), "another-boot");
  const std::string by_boot = agent::make_trail_event_id(boot_only, "work", 1, 0, 1, execve_line);
  boot_only.boot_id = "a-third-boot";
  EXPECT_NE(by_boot, agent::make_trail_event_id(boot_only, "work", 1, 0, 1, execve_line));
  // a re-read event (same lines) gets the same id
  EXPECT_EQ(map_corpus("laurel/record-execve.log", 15558).event_id, map_corpus("laurel/record-execve.log", 15558).event_id);
  EXPECT_EQ(map_corpus("laurel/record-execve.log", 15558).event_id, a);
}

// auditd writes a LOGIN record and the SYSCALL of the same serial; the LOGIN ends its event, so
// libauparse (expected/laurel/record-login.jsonl) and the assembler read two events with one
// (node, time, serial). They carry different eventData, so they must not share an eventID.
TEST(TrailMapper, EventIdTellsApartTwoEventsWithOneStamp) {
  const std::vector<agent::AuditEvent> events = tests::corpus_events("laurel/record-login.log");
  ASSERT_EQ(events.size(), 2u);
  ASSERT_EQ(events[0].id, events[1].id);
  EXPECT_EQ(events[0].records.front().type_name(), "LOGIN");
  EXPECT_EQ(events[1].records.front().type_name(), "SYSCALL");
  const TrailRecord login = agent::map_event(events[0], tests::test_host());
  const TrailRecord syscall = agent::map_event(events[1], tests::test_host());
  EXPECT_NE(login.event_id, syscall.event_id);
  // ...and each keeps its id when the log is read again (a restart re-reads from a checkpoint).
  const std::vector<agent::AuditEvent> again = tests::corpus_events("laurel/record-login.log");
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(agent::map_event(again[0], tests::test_host()).event_id, login.event_id);
  EXPECT_EQ(agent::map_event(again[1], tests::test_host()).event_id, syscall.event_id);
  // Read on its own (a restart whose checkpoint sits between the two), the SYSCALL event keeps it too.
  const std::vector<agent::AuditEvent> tail =
      tests::events_from_text(std::string(events[1].records[0].line()) + "\n" + std::string(events[1].records[1].line()));
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(agent::map_event(tail[0], tests::test_host()).event_id, syscall.event_id);
}

// A whole real log: one eventID per event, as many as libauparse reads (its events are in expected/).
// This log holds two LOGIN + SYSCALL pairs with one stamp each.
TEST(TrailMapper, EveryEventOfARealLogHasItsOwnId) {
  const std::string file = "audit-userspace/auparse-test-enriched-rhel10";
  std::ifstream expected(tests::corpus_path("expected/" + file + ".jsonl"));
  ASSERT_TRUE(expected.good());
  std::size_t auparse_events = 0;
  for (std::string line; std::getline(expected, line);) auparse_events += line.empty() ? 0 : 1;
  const std::vector<agent::AuditEvent> events = tests::corpus_events(file + ".log");
  std::set<std::string> ids;
  std::set<std::string> stamps;
  for (const auto& e : events) {
    ids.insert(agent::map_event(e, tests::test_host()).event_id);
    stamps.insert(agent::to_string(e.id));
  }
  EXPECT_EQ(events.size(), auparse_events);
  EXPECT_EQ(ids.size(), events.size());
  EXPECT_LT(stamps.size(), events.size());  // the case that matters is in there
}

// Every log of the corpus: two events get one eventID only when they are the same text (same stamp,
// byte-identical lines: wazuh's fixture repeats an ANOM_AMTU_FAIL line), never when they differ.
TEST(TrailMapper, EventIdsDifferWhenEventsDiffer) {
  namespace fs = std::filesystem;
  const fs::path root = tests::corpus_path("");
  std::size_t files = 0;
  std::size_t shared_stamps = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".log") continue;
    const std::string relative = fs::relative(entry.path(), root).string();
    if (relative.rfind("expected/", 0) == 0) continue;
    ++files;
    std::map<std::string, std::string> text_of_id;  // eventID -> the event's lines
    std::set<std::string> stamps;
    std::size_t events = 0;
    for (const auto& e : tests::corpus_events(relative)) {
      ++events;
      stamps.insert(agent::to_string(e.id));
      std::string text;
      for (const auto& rec : e.records) text.append(rec.line()).append("\n");
      const auto [it, fresh] = text_of_id.emplace(agent::map_event(e, tests::test_host()).event_id, text);
      if (!fresh) {
        EXPECT_EQ(it->second, text) << relative << ": two different events share eventID " << it->first;
      }
    }
    shared_stamps += events - stamps.size();
  }
  EXPECT_GT(files, 50u);
  EXPECT_GT(shared_stamps, 10u);  // events that share a stamp with another: what the id must tell apart
}

TEST(TrailMapper, PersistedEventHostNamesTheHostWhetherImdsAnsweredOrNot) {
  // The same persisted identity with and without the instance id (IMDS answered or not at this
  // start): one id. Without event_host the two would differ (instance id vs machine id).
  agent::HostContext answered;
  answered.instance_id = "i-0123456789abcdef0";
  answered.machine_id = "3d1219c7c4c5404aaa1f6d2a48adfda4";
  answered.event_host = "i-0123456789abcdef0";
  agent::HostContext silent = answered;
  silent.instance_id.clear();
  EXPECT_EQ(agent::host_id_for_events(silent), "i-0123456789abcdef0");
  EXPECT_EQ(agent::make_trail_event_id(answered, "work", 1, 0, 1, "type=LOGIN"), agent::make_trail_event_id(silent, "work", 1, 0, 1, "type=LOGIN"));
  agent::HostContext legacy = silent;
  legacy.event_host.clear();
  EXPECT_NE(agent::make_trail_event_id(answered, "work", 1, 0, 1, "type=LOGIN"), agent::make_trail_event_id(legacy, "work", 1, 0, 1, "type=LOGIN"));
  // A machine id persisted on a first start without IMDS stays the name after IMDS answers.
  agent::HostContext kept = answered;
  kept.event_host = answered.machine_id;
  EXPECT_EQ(agent::host_id_for_events(kept), "3d1219c7c4c5404aaa1f6d2a48adfda4");
}

TEST(TrailMapper, EveryCorpusEventMapsAndRenders) {
  // Smoke over the whole corpus: rendering never throws and the required fields are filled.
  for (const char* file : {"laurel/record-execve.log", "laurel/record-connect.log", "laurel/record-perl-reverse-shell.log",
                           "audit-userspace/auparse-test-enriched-rhel10.log", "beats/filebeat-test-misc-types.log",
                           "linux-audit-parser-rs/single-lines-all-types.log", "wazuh/ruleset-test-auditd-lines.log"}) {
    for (const auto& e : tests::corpus_events(file)) {
      const TrailRecord r = agent::map_event(e, tests::test_host());
      EXPECT_FALSE(r.event_name.empty()) << file << " " << r.request_id;
      EXPECT_FALSE(agent::render_cloudtrail_event(r).empty());
      EXPECT_FALSE(agent::dump_json(agent::lake_event_data_json(r)).empty());
    }
  }
}

}  // namespace

namespace {

TEST(TrailMapper, InvalidUtf8InArgumentsIsRepairedWhenRendered) {
  const auto events = tests::events_from_text(
      "type=SYSCALL msg=audit(1700000000.001:9): arch=c000003e syscall=59 success=yes exit=0 auid=1 uid=1 "
      "exe=\"/bin/echo\"\n"
      "type=EXECVE msg=audit(1700000000.001:9): argc=2 a0=\"echo\" a1=41FF42\n"
      "type=EOE msg=audit(1700000000.001:9):\n");
  ASSERT_EQ(events.size(), 1u);
  const agent::TrailRecord r = agent::map_event(events[0], tests::test_host());
  EXPECT_EQ(r.command_line, "echo A\xFF" "B");  // the record keeps the bytes
  const auto parsed = nlohmann::json::parse(agent::render_cloudtrail_event(r));
  EXPECT_EQ(parsed["requestParameters"]["commandLine"], "echo A\xEF\xBF\xBD" "B");
  EXPECT_TRUE(nlohmann::json::accept(agent::dump_json(agent::lake_event_data_json(r))));
}

}  // namespace

namespace {

TEST(TrailMapper, PlainFieldsAreNotHexDecoded) {
  // op=, terminal=, hostname= are never hex-encoded by auditd; acct= is.
  const auto events = tests::events_from_text(
      "type=USER_CMD msg=audit(1700000000.001:11): pid=1 uid=1000 auid=1000 ses=2 "
      "msg='op=cafe acct=616C696365 exe=\"/usr/bin/sudo\" hostname=beef addr=? terminal=/dev/pts/0 res=success'\n");
  ASSERT_EQ(events.size(), 1u);
  const agent::TrailRecord r = agent::map_event(events[0], tests::test_host());
  EXPECT_EQ(r.operation, "cafe");
  EXPECT_EQ(r.remote_hostname, "beef");
  EXPECT_EQ(r.identity.account, "alice");
  EXPECT_EQ(r.terminal, "/dev/pts/0");
  EXPECT_EQ(r.identity.tty, "/dev/pts/0");  // from terminal= when there is no tty=
  EXPECT_EQ(r.source_ip, "10.0.1.17");     // addr=? and a hostname that is not an address
  EXPECT_FALSE(r.remote);
  EXPECT_EQ(r.result, agent::TrailResult::kSuccess);
  EXPECT_EQ(r.event_name, "USER_CMD");
}

TEST(TrailMapper, ACutLineIsMarkedInEverySinksRecord) {
  agent::AuditAssembler assembler;
  const common::SteadyTime now{};
  ASSERT_TRUE(assembler.add_line("type=USER_LOGIN msg=audit(1764000014.902:7): pid=2231 uid=0 auid=1000 ses=7 msg='op=lo",
                                 now, {0, 5000}, /*cut=*/true).ok());
  ASSERT_TRUE(assembler.add_line("type=USER_LOGIN msg=audit(1764000014.903:8): pid=2231 uid=0 auid=1000 ses=7", now,
                                 {5000, 5100}).ok());
  assembler.flush_all();
  const auto events = assembler.drain();
  ASSERT_EQ(events.size(), 2u);
  const TrailRecord cut = agent::map_event(events[0], tests::test_host());
  const TrailRecord whole = agent::map_event(events[1], tests::test_host());
  EXPECT_TRUE(cut.lines_cut);
  EXPECT_FALSE(whole.lines_cut);
  EXPECT_EQ(agent::cloudtrail_event_json(cut)["additionalEventData"]["linesCut"], true);
  EXPECT_FALSE(agent::cloudtrail_event_json(whole)["additionalEventData"].contains("linesCut"));
  EXPECT_EQ(agent::lake_event_data_json(cut)["additionalEventData"]["linesCut"], true);
}

}  // namespace
