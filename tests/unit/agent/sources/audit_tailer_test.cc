// AuditTailer on real files in a temp dir, driven by a real io_context. Every rotation case of
// docs/audit-rotation.md, asserting that each line is delivered exactly once, in order, and that a
// restart from the checkpoint loses nothing. Loops are bounded by a generous guard; assertions are
// on content, never on timing.
#include "agent/sources/audit_tailer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using agent::AuditTailer;
using agent::AuditTailerOptions;
using agent::CheckpointStore;
using agent::TailedLine;

constexpr auto kGuard = std::chrono::seconds(30);

using tests::TempDir;

// Longer than the 64-byte fingerprint, and different per generation from the first bytes on.
std::string line_text(int gen, int seq) {
  return fmt::format("gen={} seq={:06} type=SYSCALL msg=audit(1700000000.{:03}:{}): arch=c000003e syscall=59", gen,
                     seq, seq % 1000, seq);
}

std::vector<std::string> expected(int gen, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(line_text(gen, i));
  return out;
}

// "" when equal; else where the two sequences part, for a readable failure.
std::string first_difference(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  for (std::size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    const std::string g = i < got.size() ? got[i] : "<none>";
    const std::string w = i < want.size() ? want[i] : "<none>";
    if (g != w) return fmt::format("got {} lines, want {}; at {}: got '{}', want '{}'", got.size(), want.size(), i, g, w);
  }
  return "";
}

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

std::vector<std::string> concat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Writes like auditd: one descriptor opened with O_APPEND; rotate() closes it, shifts
// path.N -> path.N+1 ... path -> path.1, and opens a new path.
class LogWriter {
 public:
  explicit LogWriter(std::string path) : path_(std::move(path)) { open(); }
  ~LogWriter() { close(); }
  void open() { fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void write(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::write(fd_, s.data(), s.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        ADD_FAILURE() << "write failed: " << errno;
        return;
      }
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void lines(int gen, int from, int to) {
    std::string batch;
    for (int i = from; i <= to; ++i) batch += line_text(gen, i) + "\n";
    write(batch);
  }
  void rotate(int keep = 10) {
    close();
    for (int i = keep - 1; i >= 1; --i) {
      const std::string from = fmt::format("{}.{}", path_, i);
      if (fs::exists(from)) fs::rename(from, fmt::format("{}.{}", path_, i + 1));
    }
    fs::rename(path_, path_ + ".1");
    open();
  }
  // logrotate copytruncate: shifts path.N -> path.N+1 ..., copies path to path.1, truncates path.
  // The writer's descriptor stays (O_APPEND: the next write lands at the new end, 0).
  void copytruncate(int keep = 10) {
    for (int i = keep - 1; i >= 1; --i) {
      const std::string from = fmt::format("{}.{}", path_, i);
      if (fs::exists(from)) fs::rename(from, fmt::format("{}.{}", path_, i + 1));
    }
    fs::copy_file(path_, path_ + ".1");
    ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

struct Got {
  agent::FileKey key;
  std::string path;
  std::string bytes;
  uint64_t begin = 0;
  uint64_t end = 0;
  bool truncated = false;
};

class AuditTailerTest : public ::testing::Test {
 protected:
  AuditTailerTest() : log_(dir_.path() + "/audit.log"), state_(dir_.path() + "/state") {
    fs::create_directory(state_);
    store_ = std::make_unique<CheckpointStore>(state_, clock_);
    (void)store_->load();
  }
  ~AuditTailerTest() override {
    tailer_.reset();
    // Let cancelled handlers run while their owners' memory is still ours to inspect.
    io_.restart();
    io_.poll();
  }

  AuditTailerOptions options(bool inotify = true, std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
    AuditTailerOptions o;
    o.files = {log_};
    o.poll_interval = poll;
    o.use_inotify = inotify;
    return o;
  }

  void make_tailer(AuditTailerOptions o) {
    tailer_ = std::make_unique<AuditTailer>(io_, scheduler_, clock_, std::move(o), *store_, [this](const TailedLine& l) {
      got_.push_back({l.key, std::string(l.path), std::string(l.bytes), l.begin, l.end, l.truncated});
      if (ack_(l)) store_->set(l.key, l.path, l.end);
    });
  }

  // A process restart: the tailer goes, the checkpoint file is what survives.
  void restart(AuditTailerOptions o) {
    tailer_.reset();
    ASSERT_TRUE(store_->commit(true).ok());
    io_.restart();
    io_.poll();
    store_ = std::make_unique<CheckpointStore>(state_, clock_);
    auto loaded = store_->load();
    ASSERT_TRUE(loaded.ok());
    ASSERT_NE(*loaded, agent::CheckpointLoad::kCorrupt);
    got_.clear();
    make_tailer(std::move(o));
    tailer_->start();
  }

  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  bool run_until_lines(std::size_t n) { return run_until([&] { return got_.size() >= n; }); }
  // Runs a few poll periods, for asserting that nothing (more) arrives.
  void run_polls(uint64_t n) {
    const uint64_t target = tailer_->stats().polls + n;
    ASSERT_TRUE(run_until([&] { return tailer_->stats().polls >= target; }));
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const Got& g : got_) out.push_back(g.bytes);
    return out;
  }

  TempDir dir_;
  std::string log_;
  std::string state_;
  boost::asio::io_context io_;
  common::AsioScheduler scheduler_{io_};
  common::SystemClock clock_;
  std::unique_ptr<CheckpointStore> store_;
  std::function<bool(const TailedLine&)> ack_ = [](const TailedLine&) { return true; };
  std::vector<Got> got_;
  std::unique_ptr<AuditTailer> tailer_;
};

TEST_F(AuditTailerTest, DeliversCompleteLinesWithOffsetsAndWaitsForTheNewline) {
  LogWriter w(log_);
  w.lines(1, 1, 3);
  w.write("gen=1 seq=000004 partial");  // no newline yet
  // A poll period of an hour: after start, only inotify can bring the rest.
  make_tailer(options(true, std::chrono::hours(1)));
  tailer_->start();
  ASSERT_TRUE(run_until_lines(3));
  EXPECT_TRUE(tailer_->stats().inotify_active);
  ASSERT_TRUE(run_until([&] { return tailer_->stats().bytes == fs::file_size(log_); }));
  EXPECT_EQ(lines(), expected(1, 1, 3));  // the partial line is not a line

  w.write(" rest\n");
  w.lines(1, 5, 6);
  ASSERT_TRUE(run_until_lines(6));
  EXPECT_EQ(got_[3].bytes, "gen=1 seq=000004 partial rest");
  EXPECT_FALSE(got_[3].truncated);
  uint64_t offset = 0;
  for (const Got& g : got_) {
    EXPECT_EQ(g.begin, offset);
    EXPECT_EQ(g.end, g.begin + g.bytes.size() + 1);
    EXPECT_EQ(g.path, log_);
    EXPECT_EQ(g.key, got_[0].key);
    offset = g.end;
  }
  EXPECT_EQ(offset, fs::file_size(log_));
  EXPECT_EQ(got_[0].key.fingerprint.length, agent::kFingerprintBytes);
  EXPECT_EQ(tailer_->stats().lines, 6u);
  EXPECT_GT(tailer_->stats().inotify_events, 0u);
  EXPECT_EQ(tailer_->stats().polls, 0u);
}

TEST_F(AuditTailerTest, PollingAloneFollowsTheFileWhenInotifyIsOff) {
  LogWriter w(log_);
  w.lines(1, 1, 10);
  make_tailer(options(false));
  tailer_->start();
  ASSERT_TRUE(run_until_lines(10));
  w.lines(1, 11, 25);
  ASSERT_TRUE(run_until_lines(25));
  w.rotate();
  w.lines(2, 1, 5);
  ASSERT_TRUE(run_until_lines(30));
  EXPECT_EQ(lines(), concat({expected(1, 1, 25), expected(2, 1, 5)}));
  EXPECT_FALSE(tailer_->stats().inotify_active);
  EXPECT_EQ(tailer_->stats().inotify_events, 0u);
  EXPECT_GT(tailer_->stats().polls, 0u);
}

TEST_F(AuditTailerTest, LongLinesAreCutAtTheCapAndTheRestSkipped) {
  auto o = options();
  o.max_line_bytes = 100;
  o.chunk_bytes = 64;  // lines span several chunks
  LogWriter w(log_);
  const std::string long_line(1000, 'x');
  const std::string exact(100, 'y');
  w.write("short one\n" + long_line + "\n" + exact + "\nafter\n");
  make_tailer(o);
  tailer_->start();
  ASSERT_TRUE(run_until_lines(4));
  ASSERT_EQ(got_.size(), 4u);
  EXPECT_EQ(got_[0].bytes, "short one");
  EXPECT_EQ(got_[1].bytes, long_line.substr(0, 100));
  EXPECT_TRUE(got_[1].truncated);
  EXPECT_EQ(got_[1].begin, 10u);
  EXPECT_EQ(got_[1].end, 10u + 1001u);  // after its newline: a checkpoint there skips it whole
  EXPECT_EQ(got_[2].bytes, exact);      // exactly at the cap is not truncated
  EXPECT_FALSE(got_[2].truncated);
  EXPECT_EQ(got_[3].bytes, "after");
  EXPECT_EQ(tailer_->stats().truncated_lines, 1u);
  EXPECT_EQ(tailer_->stats().skipped_bytes, 900u);

  // An over-long line still being written is not handed out before its newline.
  w.write(std::string(300, 'z'));
  ASSERT_TRUE(run_until([&] { return tailer_->stats().bytes == fs::file_size(log_); }));
  EXPECT_EQ(got_.size(), 4u);
  w.write("zz\n");
  ASSERT_TRUE(run_until_lines(5));
  EXPECT_EQ(got_[4].bytes, std::string(100, 'z'));
  EXPECT_TRUE(got_[4].truncated);
}

// (a) auditd's own rotation, with a writer appending and rotating concurrently.
TEST_F(AuditTailerTest, RenameAndCreateWhileAppendingLosesNothing) {
  constexpr int kGenerations = 6;
  constexpr int kLinesPerGeneration = 400;
  auto first = std::make_unique<LogWriter>(log_);  // auditd's log exists when the agent starts
  first->lines(1, 1, 20);
  make_tailer(options(true, std::chrono::milliseconds(50)));
  tailer_->start();
  std::thread writer([&] {
    std::unique_ptr<LogWriter> owned = std::move(first);
    LogWriter& w = *owned;
    for (int gen = 1; gen <= kGenerations; ++gen) {
      for (int i = gen == 1 ? 21 : 1; i <= kLinesPerGeneration; i += 20) w.lines(gen, i, i + 19);
      if (gen < kGenerations) w.rotate(kGenerations + 2);
    }
  });
  const bool all = run_until_lines(kGenerations * kLinesPerGeneration);
  writer.join();
  ASSERT_TRUE(all) << got_.size() << " lines; last: " << (got_.empty() ? "" : got_.back().bytes);
  std::vector<std::string> want;
  for (int gen = 1; gen <= kGenerations; ++gen) {
    auto part = expected(gen, 1, kLinesPerGeneration);
    want.insert(want.end(), part.begin(), part.end());
  }
  run_polls(2);  // nothing more comes
  EXPECT_EQ(first_difference(lines(), want), "");
  EXPECT_EQ(tailer_->stats().rotations, static_cast<uint64_t>(kGenerations - 1));
  EXPECT_EQ(tailer_->stats().truncations, 0u);

  // And a restart from the checkpoint replays nothing; new lines still come.
  restart(options());
  run_polls(2);
  EXPECT_TRUE(got_.empty());
  LogWriter w(log_);
  w.lines(kGenerations, kLinesPerGeneration + 1, kLinesPerGeneration + 5);
  ASSERT_TRUE(run_until_lines(5));
  EXPECT_EQ(lines(), expected(kGenerations, kLinesPerGeneration + 1, kLinesPerGeneration + 5));
}

// (b) copytruncate: the same inode shrinks to 0 after being copied to audit.log.1.
TEST_F(AuditTailerTest, CopyTruncateRestartsAtZero) {
  LogWriter w(log_);
  w.lines(1, 1, 50);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(50));
  fs::copy_file(log_, log_ + ".1");
  ASSERT_EQ(::truncate(log_.c_str(), 0), 0);
  w.lines(2, 1, 30);  // O_APPEND: written from 0
  ASSERT_TRUE(run_until_lines(80));
  run_polls(2);
  EXPECT_EQ(lines(), concat({expected(1, 1, 50), expected(2, 1, 30)}));
  EXPECT_EQ(tailer_->stats().truncations, 1u);
  EXPECT_EQ(got_[50].begin, 0u);
  EXPECT_TRUE(got_[50].key.same_inode(got_[0].key));
  EXPECT_NE(got_[50].key, got_[0].key);  // a new fingerprint: a new file for the checkpoints
  // The copy was found, at our offset, with nothing unread in it.
  EXPECT_EQ(tailer_->stats().copies_read, 1u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 0u);
  // The old entry of the rewritten inode is pruned.
  restart(options());
  run_polls(2);
  EXPECT_TRUE(got_.empty());
  ASSERT_EQ(store_->entries().size(), 1u);
  EXPECT_EQ(store_->entries()[0].offset, fs::file_size(log_));
}

// (b) copytruncate with lines we had not read yet: they exist only in the copy. The copy is read
// from our offset first (its own key, the original's offsets), then the truncated file from 0.
TEST_F(AuditTailerTest, CopyTruncateReadsTheUnreadRestFromTheCopyFirst) {
  LogWriter w(log_);
  w.lines(1, 1, 50);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(50));
  // Between two looks: the writer appends, logrotate copies and truncates, the writer goes on.
  w.lines(1, 51, 60);
  w.copytruncate();
  w.lines(2, 1, 30);  // shorter than our offset: seen as size < offset
  ASSERT_TRUE(run_until_lines(90));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 1, 60), expected(2, 1, 30)})), "");
  EXPECT_EQ(tailer_->stats().truncations, 1u);
  EXPECT_EQ(tailer_->stats().copies_read, 1u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 0u);
  EXPECT_EQ(got_[50].key.inode, inode_of(log_ + ".1"));
  EXPECT_EQ(got_[50].key.fingerprint, got_[0].key.fingerprint);  // same first bytes
  EXPECT_EQ(got_[50].begin, got_[49].end);                       // the original's offsets
  EXPECT_EQ(got_[50].path, log_);                                // the followed path, as for rotated files
  EXPECT_EQ(got_[60].begin, 0u);
  EXPECT_TRUE(got_[60].key.same_inode(got_[0].key));
  // A restart replays nothing.
  restart(options());
  run_polls(2);
  EXPECT_TRUE(got_.empty());
}

// The same, rewritten past our offset before we look: only the fingerprint tells.
TEST_F(AuditTailerTest, CopyTruncateRewrittenPastTheOffsetStillReadsTheCopyFirst) {
  LogWriter w(log_);
  w.lines(1, 1, 10);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(10));
  w.lines(1, 11, 15);
  w.copytruncate();
  w.lines(2, 1, 40);
  ASSERT_TRUE(run_until_lines(55));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 1, 15), expected(2, 1, 40)})), "");
  EXPECT_EQ(tailer_->stats().copies_read, 1u);
}

// A restart while the copy is half delivered resumes inside the copy (found by its own inode).
TEST_F(AuditTailerTest, RestartInTheMiddleOfTheCopyResumesInsideIt) {
  LogWriter w(log_);
  w.lines(1, 1, 50);
  ack_ = [](const TailedLine& l) { return l.bytes <= std::string_view(line_text(1, 55)); };
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(50));
  w.lines(1, 51, 60);
  w.copytruncate();
  w.lines(2, 1, 30);
  ASSERT_TRUE(run_until_lines(90));
  ack_ = [](const TailedLine&) { return true; };
  restart(options());
  ASSERT_TRUE(run_until_lines(5 + 30));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 56, 60), expected(2, 1, 30)})), "");
  restart(options());
  run_polls(2);
  EXPECT_TRUE(got_.empty());
}

// (b) copytruncate while stopped: the checkpoint names the truncated inode; the copy has the rest.
TEST_F(AuditTailerTest, CopyTruncateWhileStoppedResumesInTheCopyThenTheFileFromZero) {
  LogWriter w(log_);
  w.lines(1, 1, 100);
  ack_ = [](const TailedLine& l) { return l.bytes <= std::string_view(line_text(1, 50)); };
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(100));
  tailer_.reset();
  w.lines(1, 101, 110);  // written after we stopped, before the copy
  w.copytruncate();
  w.lines(2, 1, 20);
  // First start: nothing is acknowledged (the pipeline is slow, then the agent stops). The truncated
  // inode's entry must survive its prune while its copy is unread, or this restart would lose the copy.
  ack_ = [](const TailedLine&) { return false; };
  restart(options());
  ASSERT_TRUE(run_until_lines(60 + 20));
  ack_ = [](const TailedLine&) { return true; };
  restart(options());
  ASSERT_TRUE(run_until_lines(60 + 20));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 51, 110), expected(2, 1, 20)})), "");
  uint64_t end_of_50 = 0;
  for (int i = 1; i <= 50; ++i) end_of_50 += line_text(1, i).size() + 1;
  EXPECT_EQ(got_.front().begin, end_of_50);
  EXPECT_FALSE(got_.front().key.same_inode(got_.back().key));  // the copy's own key
  EXPECT_EQ(tailer_->stats().copies_read, 1u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 0u);
  // Nothing twice after another restart; the truncated inode's old entry is gone, the copy's and the file's stay.
  restart(options());
  run_polls(2);
  EXPECT_TRUE(got_.empty());
  EXPECT_EQ(store_->entries_for(log_).size(), 2u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 0u);
}

// Two copytruncates between two looks: the copy holding our rest is now .2; .1 (a later content we
// never saw) is read after it, from 0.
TEST_F(AuditTailerTest, TwoCopyTruncatesBetweenTwoLooksReadBothCopies) {
  LogWriter w(log_);
  w.lines(1, 1, 50);
  make_tailer(options(false, std::chrono::milliseconds(20)));
  tailer_->start();
  ASSERT_TRUE(run_until_lines(50));
  w.lines(1, 51, 60);
  w.copytruncate();
  w.lines(2, 1, 10);
  w.copytruncate();
  w.lines(3, 1, 5);
  ASSERT_TRUE(run_until_lines(60 + 10 + 5));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 1, 60), expected(2, 1, 10), expected(3, 1, 5)})), "");
  EXPECT_EQ(tailer_->stats().copies_read, 1u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 0u);
}

// The copy was compressed (or deleted) before we looked: today's fallback, and the loss is counted.
TEST_F(AuditTailerTest, CopyGoneBeforeWeLookMeansTheFileFromZeroAndACountedLoss) {
  LogWriter w(log_);
  w.lines(1, 1, 50);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(50));
  w.lines(1, 51, 60);  // only ever in the copy
  w.copytruncate();
  fs::rename(log_ + ".1", log_ + ".1.gz");  // as far as we are concerned, compressed
  w.lines(2, 1, 30);
  ASSERT_TRUE(run_until_lines(80));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 1, 50), expected(2, 1, 30)})), "");
  EXPECT_EQ(tailer_->stats().truncations, 1u);
  EXPECT_EQ(tailer_->stats().copies_read, 0u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 1u);
}

TEST_F(AuditTailerTest, CopyGoneWhileStoppedMeansTheFileFromZeroAndACountedLoss) {
  LogWriter w(log_);
  w.lines(1, 1, 100);
  ack_ = [](const TailedLine& l) { return l.bytes <= std::string_view(line_text(1, 50)); };
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(100));
  tailer_.reset();
  w.copytruncate();
  fs::remove(log_ + ".1");
  w.lines(2, 1, 20);
  ack_ = [](const TailedLine&) { return true; };
  restart(options());
  ASSERT_TRUE(run_until_lines(20));
  run_polls(2);
  EXPECT_EQ(lines(), expected(2, 1, 20));
  EXPECT_EQ(tailer_->stats().truncation_losses, 1u);
  // Counted once: a restart does not report the same loss again.
  restart(options());
  run_polls(2);
  EXPECT_TRUE(got_.empty());
  EXPECT_EQ(tailer_->stats().truncation_losses, 0u);
}

// A copy that starts right but is shorter than our offset may still be being written: the truncated
// file is held (neither it nor anything else of the path is read) until the copy is complete.
TEST_F(AuditTailerTest, CopyShorterThanTheOffsetIsWaitedFor) {
  LogWriter w(log_);
  w.lines(1, 1, 50);
  auto o = options();
  o.copy_wait_polls = 3;
  make_tailer(o);
  tailer_->start();
  ASSERT_TRUE(run_until_lines(50));
  w.lines(1, 51, 60);
  std::string content;
  {
    std::FILE* in = std::fopen(log_.c_str(), "rb");
    ASSERT_NE(in, nullptr);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, in)) > 0;) content.append(buf, n);
    std::fclose(in);
  }
  LogWriter copy(log_ + ".1");
  copy.write(std::string_view(content).substr(0, 1000));  // the copy so far
  ASSERT_EQ(::truncate(log_.c_str(), 0), 0);
  w.lines(2, 1, 30);
  run_polls(1);  // fewer than copy_wait_polls
  EXPECT_EQ(got_.size(), 50u);
  copy.write(std::string_view(content).substr(1000));  // the copy is complete
  ASSERT_TRUE(run_until_lines(90));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 1, 60), expected(2, 1, 30)})), "");
  EXPECT_EQ(tailer_->stats().copies_read, 1u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 0u);
  EXPECT_EQ(tailer_->stats().truncations, 1u);
}

TEST_F(AuditTailerTest, CopyThatStaysShorterIsGivenUpAfterTheWait) {
  LogWriter w(log_);
  w.lines(1, 1, 50);
  auto o = options();
  o.copy_wait_polls = 3;
  make_tailer(o);
  tailer_->start();
  ASSERT_TRUE(run_until_lines(50));
  LogWriter copy(log_ + ".1");
  copy.lines(1, 1, 20);  // starts like the file, never reaches our offset
  ASSERT_EQ(::truncate(log_.c_str(), 0), 0);
  w.lines(2, 1, 30);
  const uint64_t polls = tailer_->stats().polls;
  ASSERT_TRUE(run_until_lines(80));
  EXPECT_GE(tailer_->stats().polls, polls + 2);  // held for a few polls first
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 1, 50), expected(2, 1, 30)})), "");
  EXPECT_EQ(tailer_->stats().copies_read, 0u);
  EXPECT_EQ(tailer_->stats().truncation_losses, 1u);
}

// A fingerprint taken while the file was shorter than 64 bytes keeps its length; a copy is compared
// over exactly that many leading bytes.
TEST_F(AuditTailerTest, ShortFingerprintIsComparedOverItsOwnLength) {
  LogWriter w(log_);
  w.write("a=1\n");
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(1));
  ASSERT_EQ(got_[0].key.fingerprint.length, 4u);
  w.lines(1, 1, 20);
  ASSERT_TRUE(run_until_lines(21));
  w.lines(1, 21, 30);
  w.copytruncate();
  w.lines(2, 1, 5);
  ASSERT_TRUE(run_until_lines(36));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({{"a=1"}, expected(1, 1, 30), expected(2, 1, 5)})), "");
  EXPECT_EQ(tailer_->stats().copies_read, 1u);
}

// (h) truncation to 0 of the same file, then new lines.
TEST_F(AuditTailerTest, TruncationToZeroIsSeenAndNewLinesRead) {
  LogWriter w(log_);
  w.lines(1, 1, 20);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(20));
  ASSERT_EQ(::truncate(log_.c_str(), 0), 0);
  ASSERT_TRUE(run_until([&] { return tailer_->stats().truncations == 1; }));
  w.lines(3, 1, 10);
  ASSERT_TRUE(run_until_lines(30));
  run_polls(2);
  EXPECT_EQ(lines(), concat({expected(1, 1, 20), expected(3, 1, 10)}));
}

// An audit line as auditd writes it (starts with type=); all of them begin with the same 36 bytes.
std::string audit_line(int seq) {
  return fmt::format("type=SYSCALL msg=audit(1700000100.{:03}:{}): arch=c000003e syscall=59 success=yes exit=0 "
                     "items=2 ppid=1 pid={} comm=\"cat\" exe=\"/usr/bin/cat\" key=(null)",
                     seq % 1000, 5000 + seq, 7000 + seq);
}
std::vector<std::string> audit_lines(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(audit_line(i));
  return out;
}
void write_audit_lines(LogWriter& w, int from, int to) {
  for (int i = from; i <= to; ++i) w.write(audit_line(i) + "\n");
}
uint64_t size_of(const std::string& path) { return static_cast<uint64_t>(fs::file_size(path)); }

// truncate -s -40 in place (same inode, first bytes kept, no copy), seen before the next write, then
// three lines appended. The file is read again from 0 (the policy: only its ends are known), the
// rest of the cut line is dropped and counted, and the first new line is not glued to it.
TEST_F(AuditTailerTest, TruncationInsideALineKeepsTheFirstAppendedLine) {
  LogWriter w(log_);
  w.lines(1, 1, 20);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(20));
  ASSERT_EQ(::truncate(log_.c_str(), static_cast<off_t>(size_of(log_) - 40)), 0);
  ASSERT_TRUE(run_until([&] { return tailer_->stats().truncations == 1; }));
  w.lines(2, 1, 3);
  ASSERT_TRUE(run_until_lines(20 + 19 + 3));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({expected(1, 1, 20), expected(1, 1, 19), expected(2, 1, 3)})), "");
  EXPECT_EQ(tailer_->stats().truncation_losses, 1u);
  EXPECT_EQ(tailer_->stats().torn_lines, 1u);
  EXPECT_EQ(tailer_->stats().torn_bytes, line_text(1, 20).size() + 1 - 40);
  EXPECT_EQ(got_.back().end, size_of(log_));
}

// The same, but the three lines are appended before the tailer looks: the file is as long as our
// offset again and starts as before. Only its bytes just before our offset tell; the new lines
// start where they first differ from what was read.
TEST_F(AuditTailerTest, TruncationInsideALineThenAppendsBeforeWeLook) {
  LogWriter w(log_);
  write_audit_lines(w, 1, 20);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(20));
  const uint64_t offset = size_of(log_);
  ASSERT_EQ(::truncate(log_.c_str(), static_cast<off_t>(offset - 40)), 0);
  write_audit_lines(w, 21, 23);  // no loop turn in between
  ASSERT_GE(size_of(log_), offset);
  ASSERT_TRUE(run_until_lines(20 + 19 + 3));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({audit_lines(1, 20), audit_lines(1, 19), audit_lines(21, 23)})), "");
  EXPECT_EQ(tailer_->stats().truncations, 1u);
  EXPECT_EQ(tailer_->stats().torn_lines, 1u);
  EXPECT_EQ(tailer_->stats().torn_bytes, audit_line(20).size() + 1 - 40);
}

// Cut at a line boundary (two whole lines) and appended to before we look: the new lines begin like
// the ones they overwrite, so the first differing byte is inside the first new line; the seam is
// the start of that line, and nothing is dropped.
TEST_F(AuditTailerTest, TruncationAtALineBoundaryThenAppendsBeforeWeLook) {
  LogWriter w(log_);
  write_audit_lines(w, 1, 20);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(20));
  const uint64_t cut = 2 * (audit_line(19).size() + 1);
  ASSERT_EQ(::truncate(log_.c_str(), static_cast<off_t>(size_of(log_) - cut)), 0);
  write_audit_lines(w, 21, 21);  // shorter than what was cut: the size alone shows the truncation
  ASSERT_TRUE(run_until_lines(20 + 18 + 1));
  run_polls(2);
  EXPECT_EQ(first_difference(lines(), concat({audit_lines(1, 20), audit_lines(1, 18), audit_lines(21, 21)})), "");
  EXPECT_EQ(tailer_->stats().truncations, 1u);
  EXPECT_EQ(tailer_->stats().torn_lines, 0u);
}

// (b)/(g) while running: the file is truncated and rewritten past our offset before we look;
// only the fingerprint can tell.
TEST_F(AuditTailerTest, RewriteInPlaceBeyondTheOffsetIsCaughtByTheFingerprint) {
  LogWriter w(log_);
  w.lines(1, 1, 5);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(5));
  // No loop turns in between: the tailer sees only the result.
  ASSERT_EQ(::truncate(log_.c_str(), 0), 0);
  w.lines(2, 1, 40);
  ASSERT_TRUE(run_until_lines(45));
  run_polls(2);
  EXPECT_EQ(lines(), concat({expected(1, 1, 5), expected(2, 1, 40)}));
  EXPECT_EQ(tailer_->stats().truncations, 1u);
}

TEST_F(AuditTailerTest, RestartResumesExactlyAtTheCheckpoint) {
  LogWriter w(log_);
  w.lines(1, 1, 100);
  // The pipeline delivered only up to line 60.
  ack_ = [](const TailedLine& l) { return l.bytes <= std::string_view(line_text(1, 60)); };
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(100));
  EXPECT_EQ(lines(), expected(1, 1, 100));
  ack_ = [](const TailedLine&) { return true; };
  restart(options());
  w.lines(1, 101, 120);
  ASSERT_TRUE(run_until_lines(60));
  run_polls(2);
  EXPECT_EQ(lines(), expected(1, 61, 120));
}

TEST_F(AuditTailerTest, TheTailerNeverAdvancesCheckpointsItself) {
  LogWriter w(log_);
  w.lines(1, 1, 10);
  ack_ = [](const TailedLine&) { return false; };
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(10));
  run_polls(2);
  EXPECT_TRUE(store_->entries().empty());
  restart(options());
  ASSERT_TRUE(run_until_lines(10));
  EXPECT_EQ(lines(), expected(1, 1, 10));  // all again: nothing was acknowledged
}

// (c) several rotations while stopped (delaycompress keeps audit.log.1 plain): the checkpointed
// file is now audit.log.2; it is finished first, then .1, then audit.log.
TEST_F(AuditTailerTest, RotationsWhileStoppedResumeInTheRotatedFileFirst) {
  LogWriter w(log_);
  w.lines(1, 1, 100);
  ack_ = [](const TailedLine& l) { return l.bytes <= std::string_view(line_text(1, 50)); };
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(100));
  tailer_.reset();
  w.lines(1, 101, 110);  // written after we stopped, before the rotation
  w.rotate();
  w.lines(2, 1, 40);
  w.rotate();
  w.lines(3, 1, 30);
  ack_ = [](const TailedLine&) { return true; };
  restart(options());
  ASSERT_TRUE(run_until_lines(60 + 40 + 30));
  run_polls(2);
  EXPECT_EQ(lines(), concat({expected(1, 51, 110), expected(2, 1, 40), expected(3, 1, 30)}));
  // Resumed exactly at the checkpoint: the end of line 50.
  uint64_t end_of_50 = 0;
  for (int i = 1; i <= 50; ++i) end_of_50 += line_text(1, i).size() + 1;
  EXPECT_EQ(got_.front().begin, end_of_50);
  // Then a second restart replays nothing, and the entries of the three files are all kept.
  restart(options());
  run_polls(2);
  EXPECT_TRUE(got_.empty());
  EXPECT_EQ(store_->entries_for(log_).size(), 3u);
}

// Several rotations between two looks while running: the file we never opened (gen 2, now
// audit.log.1) is read between the old one and the new one.
TEST_F(AuditTailerTest, RotationsBetweenTwoPollsWhileRunning) {
  LogWriter w(log_);
  w.lines(1, 1, 10);
  make_tailer(options(false, std::chrono::milliseconds(20)));
  tailer_->start();
  ASSERT_TRUE(run_until_lines(10));
  // All of this happens between two turns of the loop.
  w.lines(1, 11, 20);
  w.rotate();
  w.lines(2, 1, 15);
  w.rotate();
  w.lines(3, 1, 5);
  ASSERT_TRUE(run_until_lines(20 + 15 + 5));
  run_polls(2);
  EXPECT_EQ(lines(), concat({expected(1, 1, 20), expected(2, 1, 15), expected(3, 1, 5)}));
  EXPECT_EQ(tailer_->stats().rotations, 2u);
}

// (d) deleted: the open file is read to its end (the writer still appends to it), then the new one.
TEST_F(AuditTailerTest, DeletedFileIsReadToTheEndThenTheNewFile) {
  auto w = std::make_unique<LogWriter>(log_);
  w->lines(1, 1, 10);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(10));
  ASSERT_EQ(::unlink(log_.c_str()), 0);
  w->lines(1, 11, 20);  // into the deleted file, through the writer's descriptor
  ASSERT_TRUE(run_until_lines(20));
  w.reset();
  LogWriter fresh(log_);
  fresh.lines(2, 1, 10);
  ASSERT_TRUE(run_until_lines(30));
  run_polls(2);
  EXPECT_EQ(lines(), concat({expected(1, 1, 20), expected(2, 1, 10)}));
  EXPECT_EQ(tailer_->stats().rotations, 1u);
}

// (e) not there yet: waits, then reads it from 0.
TEST_F(AuditTailerTest, MissingFileIsPickedUpFromTheStartWhenItAppears) {
  make_tailer(options());
  tailer_->start();
  run_polls(3);
  EXPECT_TRUE(got_.empty());
  LogWriter w(log_);
  w.lines(1, 1, 12);
  ASSERT_TRUE(run_until_lines(12));
  EXPECT_EQ(lines(), expected(1, 1, 12));
  EXPECT_EQ(got_[0].begin, 0u);
}

// (e') the file appears and is rotated away before our first look: what appeared while we waited is
// read (oldest first); a rotated file that was already there when we started is not.
TEST_F(AuditTailerTest, FilesRotatedAwayBeforeTheFirstLookAreReadButOlderOnesAreNot) {
  {
    std::FILE* old = std::fopen((log_ + ".1").c_str(), "w");  // history from before we started
    ASSERT_NE(old, nullptr);
    std::fputs((line_text(9, 1) + "\n").c_str(), old);
    std::fclose(old);
  }
  make_tailer(options(false, std::chrono::milliseconds(20)));
  tailer_->start();  // audit.log is missing; audit.log.1 (history) is there
  {
    // Between two looks: the file appears, is written, rotated (history .1 -> .2, it -> .1), and
    // a new one is written.
    LogWriter w(log_);
    w.lines(3, 1, 10);
    w.rotate();
    w.lines(4, 1, 6);
  }
  ASSERT_TRUE(run_until_lines(16));
  run_polls(2);
  EXPECT_EQ(lines(), concat({expected(3, 1, 10), expected(4, 1, 6)}));
}

// (f) permission denied: counted, logged, retried on the poll timer until it works.
TEST_F(AuditTailerTest, PermissionDeniedIsRetriedOnThePollTimer) {
  LogWriter w(log_);
  w.lines(1, 1, 5);
  auto denied = std::make_shared<int>(3);
  auto o = options();
  o.open_file = [denied](const std::string& path) {
    if (*denied > 0) {
      --*denied;
      errno = EACCES;
      return -1;
    }
    return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  };
  make_tailer(o);
  tailer_->start();
  ASSERT_TRUE(run_until_lines(5));
  EXPECT_EQ(lines(), expected(1, 1, 5));
  EXPECT_EQ(tailer_->stats().read_errors, 3u);
  EXPECT_EQ(*denied, 0);
}

TEST_F(AuditTailerTest, PermissionDeniedOnARealFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read a mode-000 file";
  LogWriter w(log_);
  w.lines(1, 1, 5);
  ASSERT_EQ(::chmod(log_.c_str(), 0), 0);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until([&] { return tailer_->stats().read_errors >= 2; }));
  EXPECT_TRUE(got_.empty());
  ASSERT_EQ(::chmod(log_.c_str(), 0644), 0);
  ASSERT_TRUE(run_until_lines(5));
  EXPECT_EQ(lines(), expected(1, 1, 5));
}

// (g) inode reuse while stopped: same device + inode, different first bytes -> a new file, from 0.
TEST_F(AuditTailerTest, ReusedInodeWithAnotherFingerprintStartsAtZero) {
  {
    LogWriter w(log_);
    w.lines(1, 1, 20);
  }
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(20));
  const uint64_t inode = got_[0].key.inode;
  tailer_.reset();
  // Same inode, rewritten longer than the checkpoint, so only the fingerprint differs.
  {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ::close(fd);
    LogWriter w(log_);
    w.lines(4, 1, 50);
  }
  restart(options());
  ASSERT_TRUE(run_until_lines(50));
  run_polls(2);
  EXPECT_EQ(lines(), expected(4, 1, 50));
  EXPECT_EQ(got_[0].key.inode, inode);
  EXPECT_EQ(store_->entries_for(log_).size(), 1u);  // the old file's entry is gone
}

TEST_F(AuditTailerTest, CheckpointedFileGoneMeansTheCurrentFileFromZero) {
  {
    LogWriter w(log_);
    w.lines(1, 1, 20);
  }
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(20));
  tailer_.reset();
  fs::remove(log_);
  {
    LogWriter w(log_);
    w.lines(5, 1, 7);
  }
  restart(options());
  ASSERT_TRUE(run_until_lines(7));
  run_polls(2);
  EXPECT_EQ(lines(), expected(5, 1, 7));
}

TEST_F(AuditTailerTest, CorruptCheckpointFileMeansTheCurrentFilesFromZero) {
  LogWriter w(log_);
  w.lines(1, 1, 8);
  {
    std::FILE* f = std::fopen((state_ + "/checkpoints.json").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("{\"version\":1,\"fil", f);
    std::fclose(f);
  }
  store_ = std::make_unique<CheckpointStore>(state_, clock_);
  ASSERT_EQ(*store_->load(), agent::CheckpointLoad::kCorrupt);
  make_tailer(options());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(8));
  EXPECT_EQ(lines(), expected(1, 1, 8));
}

TEST_F(AuditTailerTest, GlobsFollowActiveFilesNotTheirRotatedSiblings) {
  LogWriter a(dir_.path() + "/a.log");
  LogWriter b(dir_.path() + "/b.log");
  LogWriter a1(dir_.path() + "/a.log.1");
  a.lines(1, 1, 3);
  b.lines(2, 1, 4);
  a1.lines(9, 1, 5);
  auto o = options();
  o.files = {dir_.path() + "/*.log*"};
  make_tailer(o);
  tailer_->start();
  ASSERT_TRUE(run_until_lines(7));
  run_polls(2);
  EXPECT_EQ(tailer_->followed_paths(),
            (std::vector<std::string>{dir_.path() + "/a.log", dir_.path() + "/b.log"}));
  EXPECT_EQ(lines(), concat({expected(1, 1, 3), expected(2, 1, 4)}));
  // A file matching the glob later is picked up.
  LogWriter c(dir_.path() + "/c.log");
  c.lines(3, 1, 2);
  ASSERT_TRUE(run_until_lines(9));
  EXPECT_EQ(got_[7].path, dir_.path() + "/c.log");
}

TEST_F(AuditTailerTest, StopFromTheCallbackIsSafeAndStartResumesFromTheCheckpoint) {
  LogWriter w(log_);
  w.lines(1, 1, 30);
  tailer_ = std::make_unique<AuditTailer>(io_, scheduler_, clock_, options(), *store_, [this](const TailedLine& l) {
    got_.push_back({l.key, std::string(l.path), std::string(l.bytes), l.begin, l.end, l.truncated});
    store_->set(l.key, l.path, l.end);
    if (got_.size() == 10) tailer_->stop();
  });
  tailer_->start();
  ASSERT_TRUE(run_until([&] { return got_.size() >= 10; }));
  for (int i = 0; i < 20; ++i) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(got_.size(), 10u);
  EXPECT_FALSE(tailer_->running());
  tailer_->start();
  ASSERT_TRUE(run_until_lines(30));
  EXPECT_EQ(lines(), expected(1, 1, 30));
}

}  // namespace
