#include "agent/pipeline/durable_queue.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/unit/agent/alarmwire/alarmwire_test_util.h"

namespace {

using agent::DurableQueue;
using tests::TempDir;

std::vector<std::string> datas(const DurableQueue& q) {
  std::vector<std::string> out;
  for (const auto& e : q.entries()) out.push_back(e.data);
  return out;
}

std::vector<std::pair<std::uint64_t, std::string>> records(const DurableQueue& q) {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const auto& e : q.entries()) out.emplace_back(e.id, e.data);
  return out;
}

// The file with the first `from` replaced by `to` (a bit flip that keeps the line JSON).
void damage(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = tests::read_file(path);
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << text;
  text.replace(at, from.size(), to);
  tests::write_file(path, text);
}

// A queue file holding `items` as appended by this version; returns their ids.
std::vector<std::uint64_t> fill(const std::string& path, const std::vector<std::string>& items) {
  auto q = DurableQueue::open(path);
  EXPECT_TRUE(q.ok());
  std::vector<std::uint64_t> ids;
  for (const auto& item : items) ids.push_back((*q)->append(item).value());
  return ids;
}

TEST(DurableQueueTest, AppendKeepsOrderAndIsOnDiskImmediately) {
  TempDir dir;
  auto q = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  auto a = (*q)->append("first");
  auto b = (*q)->append("second {\"json\": \"quotes\"}\nnewline");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(*a, *b);
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"first", "second {\"json\": \"quotes\"}\nnewline"}));
  // Without closing the first instance: a second reader sees both (they were written through).
  auto again = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(datas(**again), datas(**q));
  // One line per record: the newline inside the data is escaped.
  const std::string text = tests::read_file(dir.file("q.jsonl"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(DurableQueueTest, RestartRereadsWhatWasNotRemoved) {
  TempDir dir;
  std::uint64_t second_id = 0;
  {
    auto q = DurableQueue::open(dir.file("q.jsonl"));
    ASSERT_TRUE(q.ok());
    auto a = (*q)->append("a");
    auto b = (*q)->append("b");
    ASSERT_TRUE((*q)->append("c").ok());
    ASSERT_TRUE(a.ok() && b.ok());
    second_id = *b;
    ASSERT_TRUE((*q)->remove(*a).ok());
    EXPECT_EQ(datas(**q), (std::vector<std::string>{"b", "c"}));
  }
  auto q = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ((*q)->entries().front().id, second_id);
  // New ids never collide with the surviving ones.
  auto d = (*q)->append("d");
  ASSERT_TRUE(d.ok());
  EXPECT_GT(*d, (*q)->entries()[1].id);
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
}

TEST(DurableQueueTest, RemoveOnlyTakesKnownIdsAndEmptyQueueCompactsTheFile) {
  TempDir dir;
  auto q = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(q.ok());
  auto a = (*q)->append("a");
  ASSERT_TRUE(a.ok());
  auto missing = (*q)->remove(*a + 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), common::ErrorCode::kNotFound);
  EXPECT_GT(tests::read_file(dir.file("q.jsonl")).size(), 0u);
  ASSERT_TRUE((*q)->remove(*a).ok());
  EXPECT_TRUE((*q)->empty());
  // Rewritten, not an ever-growing log: only the mark of the highest id used is left.
  const std::string text = tests::read_file(dir.file("q.jsonl"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("\"done\":" + std::to_string(*a)), std::string::npos) << text;
  EXPECT_GE((*q)->compactions(), 1u);
  // Still usable after the compaction.
  auto b = (*q)->append("b");
  ASSERT_TRUE(b.ok());
  EXPECT_GT(*b, *a);
  auto again = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(datas(**again), (std::vector<std::string>{"b"}));
  EXPECT_EQ((*again)->corrupt_lines(), 0u);
}

TEST(DurableQueueTest, IdsAreNotReusedAfterEveryRecordWasRemovedAndTheQueueReopened) {
  TempDir dir;
  std::uint64_t last = 0;
  {
    auto q = DurableQueue::open(dir.file("q.jsonl"));
    ASSERT_TRUE(q.ok());
    auto a = (*q)->append("a");
    auto b = (*q)->append("b");
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE((*q)->remove(*a).ok());
    ASSERT_TRUE((*q)->remove(*b).ok());
    last = *b;
  }
  auto q = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE((*q)->empty());
  auto c = (*q)->append("c");
  ASSERT_TRUE(c.ok());
  EXPECT_GT(*c, last);
}

TEST(DurableQueueTest, ManyRemovalsKeepTheFileSmall) {
  TempDir dir;
  auto q = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE((*q)->append("keep").ok());
  for (int i = 0; i < 500; ++i) {
    auto id = (*q)->append("x" + std::to_string(i));
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE((*q)->remove(*id).ok());
  }
  const std::string text = tests::read_file(dir.file("q.jsonl"));
  EXPECT_LT(std::count(text.begin(), text.end(), '\n'), 2 * static_cast<long>(DurableQueue::kCompactAfterDoneLines) + 4);
  auto again = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(datas(**again), (std::vector<std::string>{"keep"}));
}

TEST(DurableQueueTest, TornTailLineIsSkippedAndTheNextAppendStartsOnAFreshLine) {
  TempDir dir;
  {
    auto q = DurableQueue::open(dir.file("q.jsonl"));
    ASSERT_TRUE(q.ok());
    ASSERT_TRUE((*q)->append("a").ok());
    ASSERT_TRUE((*q)->append("b").ok());
  }
  // A crash in the middle of the third append.
  const std::string good = tests::read_file(dir.file("q.jsonl"));
  tests::write_file(dir.file("q.jsonl"), good + "{\"id\":3,\"data\":\"c");
  {
    auto q = DurableQueue::open(dir.file("q.jsonl"));
    ASSERT_TRUE(q.ok()) << q.error().to_string();
    EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ((*q)->corrupt_lines(), 1u);
    EXPECT_EQ((*q)->corrupt_tail_lines(), 1u);
    EXPECT_EQ((*q)->corrupt_middle_lines(), 0u);
    ASSERT_TRUE((*q)->append("d").ok());
  }
  auto q = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
}

TEST(DurableQueueTest, GarbageLinesInTheMiddleAreSkipped) {
  TempDir dir;
  tests::write_file(dir.file("q.jsonl"),
                    "{\"id\":1,\"data\":\"a\"}\nnot json at all\n{\"id\":\"2\",\"data\":\"wrong id type\"}\n"
                    "{\"done\":7}\n{\"id\":4,\"data\":\"d\"}\n");
  auto q = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "d"}));
  EXPECT_EQ((*q)->corrupt_lines(), 2u);
  EXPECT_EQ((*q)->corrupt_middle_lines(), 2u);
  EXPECT_EQ((*q)->corrupt_tail_lines(), 0u);
  EXPECT_EQ((*q)->legacy_lines(), 3u);  // no checksums: the previous version's format
  // Past the highest id seen (the "done" mark 7), and past one id per skipped line, whose ids are unknown.
  auto e = (*q)->append("e");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, 10u);
}

TEST(DurableQueueTest, EveryLineCarriesTheChecksumOfWhatFollowsIt) {
  EXPECT_EQ(DurableQueue::record_line(7, "x\ny"), "{\"crc\":667253872,\"id\":7,\"data\":\"x\\ny\"}\n");
  TempDir dir;
  const auto ids = fill(dir.file("q.jsonl"), {"x\ny"});
  EXPECT_EQ(tests::read_file(dir.file("q.jsonl")), DurableQueue::record_line(ids[0], "x\ny"));
}

TEST(DurableQueueTest, RecordsOfEveryKindOfTextReadBackAsWritten) {
  TempDir dir;
  const std::string path = dir.file("q.jsonl");
  const std::vector<std::string> items = {"", "plain ascii &Action=PutMetricData", "quote \" backslash \\ tab \t",
                                          "caf\xc3\xa9 \xe2\x82\xac", std::string("nul \0 inside", 12)};
  const auto ids = fill(path, items);
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(datas(**q), items);
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
  EXPECT_EQ(tests::read_file(path).find(DurableQueue::record_line(ids[1], items[1])),
            DurableQueue::record_line(ids[0], items[0]).size());
  // Bytes that are not UTF-8 cannot go into JSON: they read back as U+FFFD, still as a good line.
  ASSERT_TRUE((*q)->append("bad \xff byte").ok());
  auto again = DurableQueue::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->entries().back().data, "bad \xef\xbf\xbd byte");
  EXPECT_EQ((*again)->corrupt_lines(), 0u);
}

TEST(DurableQueueTest, ChecksumMismatchInTheMiddleIsSkippedAndCountedAndTheRestKept) {
  TempDir dir;
  const std::string path = dir.file("q.jsonl");
  const auto ids = fill(path, {"alpha", "bravo", "charlie"});
  damage(path, "bravo", "brave");  // still valid JSON: only the checksum tells
  std::vector<std::pair<std::uint64_t, std::string>> kept;
  {
    auto q = DurableQueue::open(path);
    ASSERT_TRUE(q.ok());
    kept = records(**q);
    EXPECT_EQ(kept, (std::vector<std::pair<std::uint64_t, std::string>>{{ids[0], "alpha"}, {ids[2], "charlie"}}));
    EXPECT_EQ((*q)->corrupt_middle_lines(), 1u);
    EXPECT_EQ((*q)->corrupt_tail_lines(), 0u);
    EXPECT_EQ((*q)->corrupt_lines(), 1u);
    EXPECT_EQ((*q)->legacy_lines(), 0u);
  }
  EXPECT_EQ(tests::read_file(path).find("brave"), std::string::npos);  // rewritten without it
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(records(**q), kept);
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
}

TEST(DurableQueueTest, ChecksumMismatchAtTheTailIsCutAndItsIdIsNotReused) {
  TempDir dir;
  const std::string path = dir.file("q.jsonl");
  const auto ids = fill(path, {"alpha", "bravo", "charlie"});
  damage(path, "charlie", "charlif");
  std::vector<std::pair<std::uint64_t, std::string>> kept;
  {
    auto q = DurableQueue::open(path);
    ASSERT_TRUE(q.ok());
    kept = records(**q);
    EXPECT_EQ(kept, (std::vector<std::pair<std::uint64_t, std::string>>{{ids[0], "alpha"}, {ids[1], "bravo"}}));
    EXPECT_EQ((*q)->corrupt_tail_lines(), 1u);
    EXPECT_EQ((*q)->corrupt_middle_lines(), 0u);
  }
  EXPECT_EQ(tests::read_file(path).find("charlif"), std::string::npos);
  // Reopened without appending: the same records, nothing left to cut, and still no reuse of the cut id.
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(records(**q), kept);
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
  auto d = (*q)->append("delta");
  ASSERT_TRUE(d.ok());
  EXPECT_GT(*d, ids[2]);
}

TEST(DurableQueueTest, BadLinesAfterTheLastGoodOneAreTheTailTheOthersTheMiddle) {
  TempDir dir;
  const std::string path = dir.file("q.jsonl");
  const std::string a = DurableQueue::record_line(1, "a");
  const std::string b = DurableQueue::record_line(2, "b");
  const std::string c = DurableQueue::record_line(3, "c");
  std::string bad_digits = a;
  bad_digits.replace(bad_digits.find(':') + 1, 1, "x");
  tests::write_file(path, a + "{\"crc\":99999999999,\"id\":9,\"data\":\"z\"}\n" + b + bad_digits + "{\"id\":4,\"data\":\"legacy after checked\"}\n" +
                              c.substr(0, c.size() / 2));
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*q)->corrupt_middle_lines(), 1u);
  EXPECT_EQ((*q)->corrupt_tail_lines(), 3u);
  EXPECT_EQ((*q)->corrupt_lines(), 4u);
  EXPECT_EQ((*q)->legacy_lines(), 0u);
  auto d = (*q)->append("d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 7u);  // past the highest good id (2) and the four skipped lines
}

TEST(DurableQueueTest, TornLastLineOfTheCurrentFormatIsCut) {
  TempDir dir;
  const std::string path = dir.file("q.jsonl");
  const auto ids = fill(path, {"a", "b"});
  const std::string whole = DurableQueue::record_line(ids[1] + 1, "c");
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << whole.substr(0, whole.size() - 1);  // everything but the newline: the append never returned
  }
  {
    auto q = DurableQueue::open(path);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ((*q)->corrupt_tail_lines(), 1u);
  }
  EXPECT_EQ(tests::read_file(path).find("\"c\""), std::string::npos);
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
  auto d = (*q)->append("d");
  ASSERT_TRUE(d.ok());
  EXPECT_GT(*d, ids[1] + 1);
}

TEST(DurableQueueTest, LegacyLinesWithoutChecksumLoadAndAreRewrittenWithChecksums) {
  TempDir dir;
  const std::string path = dir.file("q.jsonl");
  tests::write_file(path, "{\"id\":1,\"data\":\"a\"}\n{\"id\":2,\"data\":\"b\"}\n{\"done\":1}\n");
  {
    auto q = DurableQueue::open(path);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(records(**q), (std::vector<std::pair<std::uint64_t, std::string>>{{2, "b"}}));
    EXPECT_EQ((*q)->legacy_lines(), 3u);
    EXPECT_EQ((*q)->corrupt_lines(), 0u);
  }
  EXPECT_EQ(tests::read_file(path), DurableQueue::record_line(2, "b"));
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->legacy_lines(), 0u);
  EXPECT_EQ(records(**q), (std::vector<std::pair<std::uint64_t, std::string>>{{2, "b"}}));
  EXPECT_EQ((*q)->append("c").value(), 3u);
}

// RLIMIT_FSIZE makes the kernel accept only part of a write (then EFBIG), as a full disk does: the
// failed append must leave no partial line behind.
TEST(DurableQueueTest, AppendCutShortByTheFileSizeLimitFailsAndLeavesTheFileLoadable) {
  TempDir dir;
  const std::string path = dir.file("q.jsonl");
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  const auto a = (*q)->append("a").value();
  const auto size_before = std::filesystem::file_size(path);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = size_before + 10;  // the next line is longer than 10 bytes
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto failed = (*q)->append(std::string(100, 'x'));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), common::ErrorCode::kIo);
  EXPECT_EQ(std::filesystem::file_size(path), size_before);
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"a"}));
  auto b = (*q)->append("b");
  ASSERT_TRUE(b.ok());
  EXPECT_GT(*b, a);
  auto again = DurableQueue::open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(datas(**again), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*again)->corrupt_lines(), 0u);
}

// A real full disk: a 64 KiB tmpfs (needs root, or CAP_SYS_ADMIN).
class DurableQueueDiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mnt_ = dir_.file("small");
    std::filesystem::create_directory(mnt_);
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=64k") != 0) {
      GTEST_SKIP() << "cannot mount a 64 KiB tmpfs (needs root): " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  // Fills what is left of the tmpfs with a file; returns false if it never reported ENOSPC.
  bool fill_disk() {
    std::ofstream f(mnt_ + "/filler", std::ios::binary);
    const std::string block(4096, 'f');
    for (int i = 0; i < 64 && f; ++i) f.write(block.data(), static_cast<std::streamsize>(block.size())).flush();
    return !f;
  }
  TempDir dir_;
  std::string mnt_;
  bool mounted_ = false;
};

TEST_F(DurableQueueDiskFullTest, AppendOnAFullDiskFailsAndTheFileHoldsExactlyTheAcceptedRecords) {
  const std::string path = mnt_ + "/q.jsonl";
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  std::vector<std::string> accepted;
  common::Status last_error;
  for (int i = 0; i < 200; ++i) {
    std::string item = std::to_string(i) + ":" + std::string(700, 'r');
    auto id = (*q)->append(item);
    if (!id.ok()) {
      last_error = std::move(id).error();
      break;
    }
    accepted.push_back(std::move(item));
  }
  ASSERT_FALSE(last_error.ok()) << "64 KiB never filled up";
  EXPECT_NE(last_error.error().to_string().find(std::strerror(ENOSPC)), std::string::npos)
      << last_error.error().to_string();
  EXPECT_GT(accepted.size(), 10u);
  EXPECT_EQ(datas(**q), accepted);
  auto again = DurableQueue::open(path);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(datas(**again), accepted);
  EXPECT_EQ((*again)->corrupt_lines(), 0u);
}

TEST_F(DurableQueueDiskFullTest, OpenOnAFullDiskCutsTheTornTailInPlaceWhenItCannotRewrite) {
  const std::string path = mnt_ + "/q.jsonl";
  const auto ids = fill(path, {"a", "b"});
  const std::string whole = DurableQueue::record_line(ids[1] + 1, std::string(3000, 'c'));
  {
    std::ofstream f(path, std::ios::binary | std::ios::app);
    f << whole.substr(0, 2000);
  }
  ASSERT_TRUE(fill_disk());
  {
    auto q = DurableQueue::open(path);
    ASSERT_TRUE(q.ok()) << q.error().to_string();
    EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ((*q)->corrupt_tail_lines(), 1u);
    EXPECT_EQ((*q)->compactions(), 0u);  // the rewrite found no space
  }
  EXPECT_EQ(tests::read_file(path), DurableQueue::record_line(ids[0], "a") + DurableQueue::record_line(ids[1], "b"));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
  EXPECT_EQ(datas(**q), (std::vector<std::string>{"a", "b"}));
}

// issue 11: "A request already delivered stays in metrics-spool.jsonl when the disk is full, and is
// sent again after a restart". With no room for the "done" line the record is marked where it is.
TEST_F(DurableQueueDiskFullTest, RemoveOnAFullDiskMarksTheRecordInPlaceSoItIsNotSentAgain) {
  const std::string path = mnt_ + "/q.jsonl";
  std::uint64_t first = 0;
  std::vector<std::string> left;
  {
    auto q = DurableQueue::open(path);
    ASSERT_TRUE(q.ok());
    first = (*q)->append(std::string(500, 'a')).value();
    ASSERT_TRUE((*q)->append(std::string(500, 'b')).ok());
    ASSERT_TRUE(fill_disk());
    // Fill the file's last page too: small records until not even one more line fits.
    int appended = 0;
    while (appended < 10000 && (*q)->append("y").ok()) ++appended;
    ASSERT_LT(appended, 10000) << "the disk never filled up";
    left = datas(**q);
    left.erase(left.begin());
    const auto st = (*q)->remove(first);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    EXPECT_EQ((*q)->marked_in_place(), 1u);
    EXPECT_EQ(datas(**q), left);
  }
  auto q = DurableQueue::open(path);
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  EXPECT_EQ(datas(**q), left) << "the delivered one stays gone";
  EXPECT_EQ((*q)->corrupt_lines(), 0u);
}

TEST(DurableQueueTest, AnInPlaceDoneLineHasExactlyTheRecordsLength) {
  for (std::size_t length = 20; length < 300; ++length) {
    const std::string line = DurableQueue::done_line_of_length(42, length);
    if (line.empty()) {
      EXPECT_LT(length, 38u) << "only lines about as short as the shortest record line can have no mark";
      continue;
    }
    EXPECT_EQ(line.size(), length);
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), length - 1);
  }
  // Every record line can be marked: the shortest record is longer than the shortest mark.
  for (std::uint64_t id : {1ull, 42ull, 123456789ull}) {
    const std::string record = DurableQueue::record_line(id, "");
    EXPECT_EQ(DurableQueue::done_line_of_length(id, record.size()).size(), record.size()) << record;
  }
}

TEST(DurableQueueTest, UnwritableDirectoryIsAnError) {
  auto q = DurableQueue::open("/nonexistent-dir-for-trailwatch-test/q.jsonl");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().to_string().find("/nonexistent-dir-for-trailwatch-test"), std::string::npos);
}

}  // namespace
