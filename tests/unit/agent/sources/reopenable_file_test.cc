// common/fs tests live here until tests/unit/common/ gets an fs folder (owned by the proc work).
#include "common/fs/reopenable_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/unit/agent/sources/proc_tree.h"

namespace {

using common::join_root;
using common::ReopenableFile;

TEST(JoinRoot, ExactlyOneSlash) {
  EXPECT_EQ(join_root("/proc", "stat"), "/proc/stat");
  EXPECT_EQ(join_root("/proc/", "/net/dev"), "/proc/net/dev");
  EXPECT_EQ(join_root("fixtures/t0", "meminfo"), "fixtures/t0/meminfo");
  EXPECT_EQ(join_root("", "stat"), "/stat");
  EXPECT_EQ(join_root("/", "stat"), "/stat");
}

TEST(ReopenableFile, MissingFileIsNotFoundUntilItAppears) {
  tests::ProcTree tree;
  ReopenableFile file(tree.root().string(), "stat");
  const auto missing = file.read_all();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), common::ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("stat"), std::string::npos);
  EXPECT_FALSE(file.is_open());

  tree.write("stat", "cpu  1 2 3 4\n");
  const auto present = file.read_all();
  ASSERT_TRUE(present.ok()) << present.error().to_string();
  EXPECT_EQ(*present, "cpu  1 2 3 4\n");
  EXPECT_TRUE(file.is_open());
  EXPECT_EQ(file.open_count(), 1u);
}

TEST(ReopenableFile, RereadsFromTheStartWithoutReopening) {
  tests::ProcTree tree;
  tree.write("f", "first version\n");
  ReopenableFile file(tree.root().string(), "f");
  ASSERT_EQ(*file.read_all(), "first version\n");
  tree.write("f", "v2\n");  // truncated and rewritten in place, like a pseudo-file
  ASSERT_EQ(*file.read_all(), "v2\n");
  EXPECT_EQ(file.open_count(), 1u);
}

TEST(ReopenableFile, GrowsOnlyWhenNeededAndReusesItsBuffer) {
  tests::ProcTree tree;
  const std::string big(ReopenableFile::kInitialCapacity * 3 + 17, 'x');
  tree.write("f", big);
  ReopenableFile file(tree.root().string(), "f");
  const auto first = file.read_all();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, big);
  const std::size_t capacity = file.capacity();
  EXPECT_GT(capacity, big.size());  // room for the EOF probe

  tree.write("f", "small");
  const auto second = file.read_all();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "small");
  EXPECT_EQ(second->data(), first->data());
  EXPECT_EQ(file.capacity(), capacity);
}

TEST(ReopenableFile, EmptyFileIsEmptyView) {
  tests::ProcTree tree;
  tree.write("f", "");
  ReopenableFile file(tree.root().string(), "f");
  const auto text = file.read_all();
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(text->empty());
}

TEST(ReopenableFile, ReadsZeroSizedProcFiles) {
  // /proc files report st_size 0; the content only shows up by reading to EOF.
  ReopenableFile file("/proc", "self/stat");
  const auto text = file.read_all();
  ASSERT_TRUE(text.ok()) << text.error().to_string();
  EXPECT_EQ(text->substr(0, std::to_string(::getpid()).size() + 1), std::to_string(::getpid()) + " ");
}

TEST(ReopenableFile, DirectoryIsAnIoError) {
  tests::ProcTree tree;
  tree.write("dir/f", "x");
  ReopenableFile file(tree.root().string(), "dir");
  const auto text = file.read_all();
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code(), common::ErrorCode::kIo);
}

TEST(ReopenableFile, MoveKeepsTheDescriptor) {
  tests::ProcTree tree;
  tree.write("f", "abc");
  ReopenableFile a(tree.root().string(), "f");
  ASSERT_TRUE(a.read_all().ok());
  ReopenableFile b(std::move(a));
  EXPECT_TRUE(b.is_open());
  EXPECT_EQ(*b.read_all(), "abc");
  EXPECT_EQ(b.open_count(), 1u);
}

}  // namespace
