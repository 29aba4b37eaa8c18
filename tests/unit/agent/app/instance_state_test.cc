#include "agent/app/instance_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using agent::check_instance_identity;
using agent::HostIdentity;
using agent::load_identity;
using agent::reset_instance_state;
using agent::store_identity;
using tests::TempDir;

constexpr const char* kMidA = "0123456789abcdef0123456789abcdef";
constexpr const char* kMidB = "fedcba9876543210fedcba9876543210";

void touch(const fs::path& p, const std::string& text = "x\n") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

struct State {
  TempDir dir;
  std::string state() const { return dir.path(); }
  std::string spool() const { return (fs::path(dir.path()) / "spool").string(); }
  void populate() const {
    for (const char* f : {"checkpoints.json", "metrics-spool.jsonl", "alarms.json", "notifications.jsonl",
                          "checkpoints.json.tmp"}) {
      touch(fs::path(state()) / f);
    }
    touch(fs::path(spool()) / "dead-letter.jsonl");
    touch(fs::path(state()) / "unrelated.txt");
  }
};

TEST(ResetInstanceState, RemovesInstanceFilesAndDeadLettersOnlyAndIsIdempotent) {
  State s;
  s.populate();
  auto r = reset_instance_state(s.state(), s.spool());
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.removed.size(), 6u);
  EXPECT_FALSE(fs::exists(fs::path(s.state()) / "checkpoints.json"));
  EXPECT_FALSE(fs::exists(fs::path(s.state()) / "metrics-spool.jsonl"));
  EXPECT_FALSE(fs::exists(fs::path(s.spool()) / "dead-letter.jsonl"));
  EXPECT_TRUE(fs::exists(fs::path(s.state()) / "unrelated.txt"));
  EXPECT_TRUE(fs::is_directory(s.spool()));
  auto again = reset_instance_state(s.state(), s.spool());
  EXPECT_TRUE(again.removed.empty());
  EXPECT_TRUE(again.errors.empty());
}

TEST(ReadMachineId, AcceptsOnly32HexDigits) {
  TempDir d;
  const auto p = (fs::path(d.path()) / "machine-id").string();
  touch(p, std::string(kMidA) + "\n");
  EXPECT_EQ(agent::read_machine_id(p), kMidA);
  touch(p, "");
  EXPECT_EQ(agent::read_machine_id(p), "");
  touch(p, "uninitialized\n");
  EXPECT_EQ(agent::read_machine_id(p), "");
  EXPECT_EQ(agent::read_machine_id(p + ".missing"), "");
}

TEST(CheckInstanceIdentity, FirstStartStoresIdentityAndResetsNothing) {
  State s;
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"i-aaa", kMidA, ""});
  EXPECT_FALSE(c.reset);
  EXPECT_TRUE(c.log_line.empty());
  EXPECT_TRUE(fs::exists(fs::path(s.state()) / "checkpoints.json"));
  auto id = load_identity(s.state());
  ASSERT_TRUE(id);
  EXPECT_EQ(id->instance_id, "i-aaa");
  EXPECT_EQ(id->machine_id, kMidA);
}

TEST(CheckInstanceIdentity, SameInstanceKeepsState) {
  State s;
  ASSERT_TRUE(store_identity(s.state(), {"i-aaa", kMidA, ""}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"i-aaa", kMidA, ""});
  EXPECT_FALSE(c.reset);
  EXPECT_TRUE(fs::exists(fs::path(s.state()) / "checkpoints.json"));
}

TEST(CheckInstanceIdentity, ChangedInstanceIdResetsAndLogsBothIds) {
  State s;
  ASSERT_TRUE(store_identity(s.state(), {"i-aaa", kMidA, ""}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"i-bbb", kMidA, ""});
  EXPECT_TRUE(c.reset);
  EXPECT_NE(c.log_line.find("i-aaa -> i-bbb"), std::string::npos) << c.log_line;
  EXPECT_FALSE(fs::exists(fs::path(s.state()) / "checkpoints.json"));
  EXPECT_FALSE(fs::exists(fs::path(s.spool()) / "dead-letter.jsonl"));
  auto id = load_identity(s.state());
  ASSERT_TRUE(id);
  EXPECT_EQ(id->instance_id, "i-bbb");
}

TEST(CheckInstanceIdentity, ImdsSilentIsNotANewInstance) {
  State s;
  ASSERT_TRUE(store_identity(s.state(), {"i-aaa", kMidA, ""}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"", kMidB, ""});  // even with another machine id
  EXPECT_FALSE(c.reset);
  EXPECT_NE(c.log_line.find("did not answer"), std::string::npos) << c.log_line;
  EXPECT_NE(c.log_line.find("i-aaa"), std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(s.state()) / "checkpoints.json"));
  EXPECT_EQ(load_identity(s.state())->instance_id, "i-aaa");
}

TEST(CheckInstanceIdentity, OffEc2ChangedMachineIdResets) {
  State s;
  ASSERT_TRUE(store_identity(s.state(), {"", kMidA, ""}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"", kMidB, ""});
  EXPECT_TRUE(c.reset);
  EXPECT_NE(c.log_line.find(std::string(kMidA) + " -> " + kMidB), std::string::npos) << c.log_line;
  EXPECT_FALSE(fs::exists(fs::path(s.state()) / "alarms.json"));
}

// ---- plan_identity: the host identity event ids are made from (pure, literal inputs) ----------

using agent::plan_identity;
constexpr const char* kBoot = "5b6e2f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

TEST(PlanIdentity, FirstStartWithImdsNamesEventsByTheInstanceAndStoresIt) {
  auto p = plan_identity(std::nullopt, {"i-aaa", kMidA, ""}, kBoot);
  EXPECT_FALSE(p.new_instance);
  EXPECT_TRUE(p.store);
  EXPECT_EQ(p.identity, (HostIdentity{"i-aaa", kMidA, "i-aaa"}));
}

TEST(PlanIdentity, FirstStartWithoutImdsPersistsTheMachineIdAndKeepsItWhenImdsAnswersLater) {
  auto first = plan_identity(std::nullopt, {"", kMidA, ""}, kBoot);
  EXPECT_TRUE(first.store);
  EXPECT_EQ(first.identity, (HostIdentity{"", kMidA, kMidA}));
  // Later (the retry, or the next start) IMDS answers: the instance id is filled in, the name stays.
  auto later = plan_identity(first.identity, {"i-aaa", kMidA, ""}, kBoot);
  EXPECT_FALSE(later.new_instance);
  EXPECT_TRUE(later.store);
  EXPECT_EQ(later.identity, (HostIdentity{"i-aaa", kMidA, kMidA}));
  // And a start after that, with IMDS silent again: the same name, nothing to write.
  auto again = plan_identity(later.identity, {"", kMidA, ""}, "another-boot");
  EXPECT_FALSE(again.store);
  EXPECT_EQ(again.identity.event_host, kMidA);
}

TEST(PlanIdentity, ImdsSilentAtARestartKeepsTheStoredInstanceName) {
  // The defect: a 429 at start used to name events by the machine id (0 of 351 ids matched).
  const HostIdentity stored{"i-aaa", kMidA, "i-aaa"};
  auto p = plan_identity(stored, {"", kMidA, ""}, kBoot);
  EXPECT_FALSE(p.new_instance);
  EXPECT_FALSE(p.store);
  EXPECT_EQ(p.identity.event_host, "i-aaa");
  EXPECT_EQ(plan_identity(stored, {"i-aaa", kMidA, ""}, kBoot).identity, stored);
  EXPECT_FALSE(plan_identity(stored, {"i-aaa", kMidA, ""}, kBoot).store);
}

TEST(PlanIdentity, ANewInstanceStartsANewName) {
  auto p = plan_identity(HostIdentity{"i-aaa", kMidA, "i-aaa"}, {"i-bbb", kMidA, ""}, kBoot);
  EXPECT_TRUE(p.new_instance);
  EXPECT_TRUE(p.store);
  EXPECT_EQ(p.identity, (HostIdentity{"i-bbb", kMidA, "i-bbb"}));
  EXPECT_EQ(p.what, "instance id i-aaa -> i-bbb");
  // An image made where IMDS was silent (machine id name), launched as an instance with a new machine id.
  auto img = plan_identity(HostIdentity{"", kMidA, kMidA}, {"i-bbb", kMidB, ""}, kBoot);
  EXPECT_TRUE(img.new_instance);
  EXPECT_EQ(img.identity.event_host, "i-bbb");
  // Off EC2, a changed machine id.
  auto off = plan_identity(HostIdentity{"", kMidA, kMidA}, {"", kMidB, ""}, kBoot);
  EXPECT_TRUE(off.new_instance);
  EXPECT_EQ(off.identity.event_host, kMidB);
}

TEST(PlanIdentity, AnOlderFileWithoutANameGetsTheOneTheOlderAgentUsedWithImds) {
  auto p = plan_identity(HostIdentity{"i-aaa", kMidA, ""}, {"", kMidA, ""}, kBoot);
  EXPECT_FALSE(p.new_instance);
  EXPECT_TRUE(p.store);
  EXPECT_EQ(p.identity, (HostIdentity{"i-aaa", kMidA, "i-aaa"}));
  EXPECT_EQ(plan_identity(HostIdentity{"", kMidA, ""}, {"", kMidA, ""}, kBoot).identity.event_host, kMidA);
}

TEST(PlanIdentity, NoIdAtAllPersistsTheBootIdSoARebootKeepsTheName) {
  auto p = plan_identity(std::nullopt, {"", "", ""}, kBoot);
  EXPECT_TRUE(p.store);
  EXPECT_EQ(p.identity.event_host, kBoot);
  auto rebooted = plan_identity(p.identity, {"", "", ""}, "another-boot");
  EXPECT_FALSE(rebooted.store);
  EXPECT_EQ(rebooted.identity.event_host, kBoot);
  EXPECT_FALSE(plan_identity(std::nullopt, {"", "", ""}, "").store);  // nothing to name it by, nothing written
}

TEST(CheckInstanceIdentity, ImdsSilentAfterANormalStartKeepsTheNameAndDoesNotRewriteTheFile) {
  State s;
  auto first = check_instance_identity(s.state(), s.spool(), {"i-aaa", kMidA, ""}, kBoot);
  EXPECT_EQ(first.identity.event_host, "i-aaa");
  const auto file = fs::path(s.state()) / agent::kIdentityFile;
  struct stat before {};
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  auto silent = check_instance_identity(s.state(), s.spool(), {"", kMidA, ""}, kBoot);
  EXPECT_FALSE(silent.reset);
  EXPECT_EQ(silent.identity.event_host, "i-aaa");
  struct stat after {};
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "written again although nothing changed (atomic writes rename)";
  EXPECT_EQ(load_identity(s.state())->event_host, "i-aaa");
}

TEST(DaemonLock, HeldWhileOpenAndFreeAfter) {
  TempDir d;
  EXPECT_FALSE(agent::daemon_lock_held(d.path()));
  auto fd = agent::acquire_daemon_lock(d.path());
  ASSERT_TRUE(fd.ok());
  EXPECT_TRUE(agent::daemon_lock_held(d.path()));
  EXPECT_FALSE(agent::acquire_daemon_lock(d.path()).ok());
  ::close(*fd);
  EXPECT_FALSE(agent::daemon_lock_held(d.path()));
}

}  // namespace
