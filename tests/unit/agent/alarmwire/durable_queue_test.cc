#include "agent/pipeline/durable_queue.h"

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
  EXPECT_EQ(tests::read_file(dir.file("q.jsonl")), "");  // rewritten empty, not an ever-growing log
  EXPECT_GE((*q)->compactions(), 1u);
  // Still usable after the compaction.
  ASSERT_TRUE((*q)->append("b").ok());
  auto again = DurableQueue::open(dir.file("q.jsonl"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(datas(**again), (std::vector<std::string>{"b"}));
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
  auto e = (*q)->append("e");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, 5u);
}

TEST(DurableQueueTest, UnwritableDirectoryIsAnError) {
  auto q = DurableQueue::open("/nonexistent-dir-for-trailwatch-test/q.jsonl");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().to_string().find("/nonexistent-dir-for-trailwatch-test"), std::string::npos);
}

}  // namespace
