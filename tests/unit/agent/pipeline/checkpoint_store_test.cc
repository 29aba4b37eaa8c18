#include "agent/pipeline/checkpoint_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/manual_clock.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using agent::CheckpointEntry;
using agent::CheckpointLoad;
using agent::CheckpointStore;
using agent::FileKey;

using tests::TempDir;

FileKey key(uint64_t dev, uint64_t ino, uint32_t len, uint64_t hash) {
  FileKey k;
  k.device = dev;
  k.inode = ino;
  k.fingerprint.length = len;
  k.fingerprint.hash = hash;
  return k;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

TEST(CheckpointStoreTest, MissingFileLoadsEmpty) {
  TempDir dir;
  tests::ManualClock clock;
  CheckpointStore store(dir.path(), clock);
  auto loaded = store.load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, CheckpointLoad::kMissing);
  EXPECT_TRUE(store.entries().empty());
  EXPECT_FALSE(store.dirty());
}

TEST(CheckpointStoreTest, RoundTripsEntriesThroughTheFile) {
  TempDir dir;
  tests::ManualClock clock;
  const FileKey a = key(2049, 131077, 64, 0xfedcba9876543210ULL);  // needs all 64 bits
  const FileKey b = key(2049, 42, 12, 7);
  {
    CheckpointStore store(dir.path(), clock);
    ASSERT_TRUE(store.load().ok());
    store.set(a, "/var/log/audit/audit.log", 1234);
    store.set(b, "/var/log/audit/audit.log", UINT64_MAX - 1);
    EXPECT_TRUE(store.dirty());
    ASSERT_TRUE(store.commit(true).ok());
    EXPECT_FALSE(store.dirty());
    EXPECT_EQ(store.stats().commits, 1u);
  }
  CheckpointStore again(dir.path(), clock);
  auto loaded = again.load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, CheckpointLoad::kLoaded);
  ASSERT_EQ(again.entries().size(), 2u);
  EXPECT_EQ(again.find(a), (CheckpointEntry{a, "/var/log/audit/audit.log", 1234}));
  EXPECT_EQ(again.find(b), (CheckpointEntry{b, "/var/log/audit/audit.log", UINT64_MAX - 1}));
  EXPECT_EQ(again.entries_for("/var/log/audit/audit.log").size(), 2u);
  EXPECT_TRUE(again.entries_for("/other").empty());
  // A different fingerprint is a different file.
  EXPECT_FALSE(again.find(key(2049, 131077, 64, 1)).has_value());
  // The file is private to the agent.
  struct stat st {};
  ASSERT_EQ(::stat(again.file_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(CheckpointStoreTest, PerSinkOffsetsRoundTripAndTheShortSetKeepsThem) {
  TempDir dir;
  tests::ManualClock clock;
  const FileKey a = key(2049, 7, 64, 0xabc);
  {
    CheckpointStore store(dir.path(), clock);
    ASSERT_TRUE(store.load().ok());
    store.set(a, "/var/log/audit/audit.log", 100, {{"s3(s3://b/p)", 900}, {"cloudtrail_lake(arn)", 100}});
    store.set(a, "/var/log/audit/audit.log", 100);  // unchanged offset: the sinks stay
    ASSERT_TRUE(store.commit(true).ok());
    EXPECT_NE(store.serialize().find("\"sinks\""), std::string::npos);
  }
  CheckpointStore reread(dir.path(), clock);
  ASSERT_EQ(*reread.load(), CheckpointLoad::kLoaded);
  auto e = reread.find(a);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->offset, 100u);
  EXPECT_EQ(e->sinks, (std::vector<std::pair<std::string, uint64_t>>{{"cloudtrail_lake(arn)", 100},
                                                                     {"s3(s3://b/p)", 900}}));
}

TEST(CheckpointStoreTest, CommitIsRateLimitedUnlessForced) {
  TempDir dir;
  tests::ManualClock clock;
  CheckpointStore store(dir.path(), clock, {"checkpoints.json", std::chrono::milliseconds(1000)});
  ASSERT_TRUE(store.load().ok());
  const FileKey a = key(1, 2, 3, 4);
  store.set(a, "p", 10);
  ASSERT_TRUE(store.commit().ok());  // the first write is not held back
  EXPECT_EQ(store.stats().commits, 1u);

  store.set(a, "p", 20);
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(store.stats().commits, 1u);  // within the interval: deferred, still dirty
  EXPECT_TRUE(store.dirty());
  EXPECT_NE(slurp(store.file_path()).find("\"offset\": 10"), std::string::npos);

  clock.advance(std::chrono::milliseconds(1000));
  ASSERT_TRUE(store.commit().ok());
  EXPECT_EQ(store.stats().commits, 2u);
  EXPECT_NE(slurp(store.file_path()).find("\"offset\": 20"), std::string::npos);

  store.set(a, "p", 30);
  ASSERT_TRUE(store.commit(true).ok());  // shutdown
  EXPECT_EQ(store.stats().commits, 3u);
  EXPECT_NE(slurp(store.file_path()).find("\"offset\": 30"), std::string::npos);

  // Nothing changed: no write at all, even forced.
  store.set(a, "p", 30);
  EXPECT_FALSE(store.dirty());
  ASSERT_TRUE(store.commit(true).ok());
  EXPECT_EQ(store.stats().commits, 3u);
}

TEST(CheckpointStoreTest, InterruptedWriteLeavesTheLastGoodFile) {
  TempDir dir;
  tests::ManualClock clock;
  const FileKey a = key(1, 2, 3, 4);
  {
    CheckpointStore store(dir.path(), clock);
    ASSERT_TRUE(store.load().ok());
    store.set(a, "p", 100);
    ASSERT_TRUE(store.commit(true).ok());
    EXPECT_FALSE(fs::exists(store.temp_path()));  // renamed into place
    // A crash after writing half of the next version: only the temp file has it.
    write_file(store.temp_path(), "{\"version\":1,\"files\":[{\"path\":\"p\",\"dev");
  }
  CheckpointStore again(dir.path(), clock);
  auto loaded = again.load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, CheckpointLoad::kLoaded);
  ASSERT_TRUE(again.find(a).has_value());
  EXPECT_EQ(again.find(a)->offset, 100u);
  EXPECT_FALSE(fs::exists(again.temp_path()));  // the leftover is removed
}

TEST(CheckpointStoreTest, CorruptFileMeansStartFromTheBeginning) {
  const std::string bad_files[] = {
      "{\"version\":1,\"files\":[{\"path\":\"p\",\"dev",                        // cut short
      "not json at all",                                                        // garbage
      "{\"version\":99,\"files\":[]}",                                          // unknown version
      "{\"version\":1,\"files\":[{\"path\":\"p\",\"device\":1,\"inode\":2,"     // wrong type
      "\"fingerprint\":{\"length\":3,\"fnv1a64\":\"zz\"},\"offset\":5}]}",
      "{\"version\":1,\"files\":[{\"path\":\"p\",\"device\":1,\"inode\":2,"
      "\"fingerprint\":{\"length\":3,\"fnv1a64\":\"04\"},\"offset\":-5}]}",    // negative offset
  };
  for (const std::string& text : bad_files) {
    TempDir dir;
    tests::ManualClock clock;
    CheckpointStore store(dir.path(), clock);
    write_file(store.file_path(), text);
    auto loaded = store.load();
    ASSERT_TRUE(loaded.ok()) << text;
    EXPECT_EQ(*loaded, CheckpointLoad::kCorrupt) << text;
    EXPECT_TRUE(store.entries().empty()) << text;
    // Kept aside for a human; the next commit writes a good file.
    EXPECT_EQ(slurp(store.file_path() + ".corrupt"), text);
    store.set(key(1, 2, 3, 4), "p", 9);
    ASSERT_TRUE(store.commit(true).ok());
    CheckpointStore again(dir.path(), clock);
    ASSERT_EQ(*again.load(), CheckpointLoad::kLoaded);
    EXPECT_EQ(again.find(key(1, 2, 3, 4))->offset, 9u);
  }
}

TEST(CheckpointStoreTest, EraseAndSetMarkDirty) {
  TempDir dir;
  tests::ManualClock clock;
  CheckpointStore store(dir.path(), clock);
  ASSERT_TRUE(store.load().ok());
  const FileKey a = key(1, 2, 3, 4);
  EXPECT_FALSE(store.erase(a));
  EXPECT_FALSE(store.dirty());
  store.set(a, "p", 1);
  ASSERT_TRUE(store.commit(true).ok());
  EXPECT_TRUE(store.erase(a));
  EXPECT_TRUE(store.dirty());
  ASSERT_TRUE(store.commit(true).ok());
  CheckpointStore again(dir.path(), clock);
  ASSERT_EQ(*again.load(), CheckpointLoad::kLoaded);
  EXPECT_TRUE(again.entries().empty());
}

TEST(CheckpointStoreTest, UnwritableStateDirIsAnErrorNotACrash) {
  tests::ManualClock clock;
  CheckpointStore store("/nonexistent-tw-state-dir/sub", clock);
  ASSERT_TRUE(store.load().ok());
  store.set(key(1, 2, 3, 4), "p", 1);
  auto st = store.commit(true);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find("checkpoints"), std::string::npos);
  EXPECT_EQ(store.stats().failed_commits, 1u);
  EXPECT_TRUE(store.dirty());  // retried by the next commit
}

}  // namespace
