#include "agent/app/instance_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

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
  auto c = check_instance_identity(s.state(), s.spool(), {"i-aaa", kMidA});
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
  ASSERT_TRUE(store_identity(s.state(), {"i-aaa", kMidA}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"i-aaa", kMidA});
  EXPECT_FALSE(c.reset);
  EXPECT_TRUE(fs::exists(fs::path(s.state()) / "checkpoints.json"));
}

TEST(CheckInstanceIdentity, ChangedInstanceIdResetsAndLogsBothIds) {
  State s;
  ASSERT_TRUE(store_identity(s.state(), {"i-aaa", kMidA}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"i-bbb", kMidA});
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
  ASSERT_TRUE(store_identity(s.state(), {"i-aaa", kMidA}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"", kMidB});  // even with another machine id
  EXPECT_FALSE(c.reset);
  EXPECT_NE(c.log_line.find("did not answer"), std::string::npos) << c.log_line;
  EXPECT_NE(c.log_line.find("i-aaa"), std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(s.state()) / "checkpoints.json"));
  EXPECT_EQ(load_identity(s.state())->instance_id, "i-aaa");
}

TEST(CheckInstanceIdentity, OffEc2ChangedMachineIdResets) {
  State s;
  ASSERT_TRUE(store_identity(s.state(), {"", kMidA}).ok());
  s.populate();
  auto c = check_instance_identity(s.state(), s.spool(), {"", kMidB});
  EXPECT_TRUE(c.reset);
  EXPECT_NE(c.log_line.find(std::string(kMidA) + " -> " + kMidB), std::string::npos) << c.log_line;
  EXPECT_FALSE(fs::exists(fs::path(s.state()) / "alarms.json"));
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
