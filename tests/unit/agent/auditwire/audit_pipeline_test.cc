// AuditPipeline: checkpoints move only past events every output acknowledged (in any order),
// filtered events and corrupt lines count as delivered at once, a newer file flushes the older
// one, backpressure pauses reading, and LocalTrailOutput writes what each sink type would send.
#include "agent/app/audit_pipeline.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/sinks/local_sink.h"
#include "agent/sinks/local_trail_output.h"
#include "tests/support/log_capture.h"
#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/support/temp_dir.h"

namespace {

using tests::TempDir;

// Records what it was given; acknowledges only when the test says (or at once when auto_ack).
class FakeOutput final : public agent::TrailOutput {
 public:
  explicit FakeOutput(std::string name, bool auto_ack = false) : name_(std::move(name)), auto_ack_(auto_ack) {}
  void set_on_delivered(DeliveredFn fn) override { fn_ = std::move(fn); }
  void submit(std::uint64_t seq, const agent::TrailRecord& record) override {
    submitted.emplace_back(seq, record.serial);
    lines_cut.push_back(record.lines_cut);
    if (auto_ack_) {
      fn_(seq);
    } else {
      unacked.insert(seq);
    }
  }
  void flush(std::function<void()> done) override {
    ++flushes;
    done();
  }
  std::size_t pending() const override { return unacked.size(); }
  std::size_t pending_bytes() const override { return unacked.size() * bytes_each; }
  std::string describe() const override { return name_; }
  std::size_t bytes_each = 1000;  // what it pretends to hold per unacknowledged record

  void ack(std::uint64_t seq) {
    ASSERT_EQ(unacked.erase(seq), 1u) << "seq " << seq;
    fn_(seq);
  }
  // seq of the record with this audit serial
  std::uint64_t seq_of(std::uint64_t serial) const {
    for (const auto& [seq, s] : submitted) {
      if (s == serial) return seq;
    }
    ADD_FAILURE() << "serial " << serial << " not submitted";
    return 0;
  }

  std::vector<std::pair<std::uint64_t, std::uint64_t>> submitted;  // seq, serial
  std::vector<bool> lines_cut;                                       // TrailRecord::lines_cut, same order
  std::set<std::uint64_t> unacked;
  int flushes = 0;

 private:
  std::string name_;
  bool auto_ack_;
  DeliveredFn fn_;
};

std::string login(int serial, const std::string& res = "success") {
  return "type=USER_LOGIN msg=audit(1764000014.902:" + std::to_string(serial) +
         "): pid=2231 uid=0 auid=1000 ses=7 msg='op=login acct=\"deploy\" exe=\"/usr/sbin/sshd\" hostname=? "
         "addr=203.0.113.7 terminal=ssh res=" + res + "'";
}
std::string auth(int serial) {
  return "type=USER_AUTH msg=audit(1764000014.902:" + std::to_string(serial) +
         "): pid=2231 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication acct=\"deploy\" "
         "exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.7 terminal=ssh res=failed'";
}
std::string syscall(int serial) {
  return "type=SYSCALL msg=audit(1764000015.100:" + std::to_string(serial) +
         "): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=0 "
         "tty=pts0 ses=7 comm=\"cat\" exe=\"/usr/bin/cat\" key=\"k\"";
}
std::string eoe(int serial) { return "type=EOE msg=audit(1764000015.100:" + std::to_string(serial) + "):"; }

class AuditPipelineTest : public ::testing::Test {
 protected:
  void build(int outputs, agent::AuditFilters filters = {}, std::size_t max_pending = 1000) {
    agent::AuditPipelineOptions o;
    o.tailer.files = {dir_.path() + "/absent/audit.log"};  // the tailer finds nothing; lines are fed by hand
    o.tailer.use_inotify = false;
    o.state_dir = dir_.path();
    o.checkpoints.min_commit_interval = std::chrono::milliseconds(0);
    o.filters = std::move(filters);
    o.max_pending_records = max_pending;
    o.max_pending_bytes = max_pending_bytes_;
    o.host.boot_id = "b1";
    o.host.hostname = "h";
    std::vector<std::unique_ptr<agent::TrailOutput>> outs;
    for (int i = 0; i < outputs; ++i) {
      auto out = std::make_unique<FakeOutput>("fake" + std::to_string(i));
      fakes_.push_back(out.get());
      outs.push_back(std::move(out));
    }
    pipeline_ = std::make_unique<agent::AuditPipeline>(io_, scheduler_, clock_, std::move(o), std::move(outs));
    pipeline_->start();
  }

  // Feeds one line of file `key` at the current offset of that file; returns its begin offset.
  // `cut_from`: the line in the file was that long; the tailer cut it to `text` (truncated).
  uint64_t feed(const std::string& text, const agent::FileKey& key = kKey, const std::string& path = kPath,
                std::size_t cut_from = 0) {
    uint64_t& offset = offsets_[key.inode];
    agent::TailedLine line;
    line.key = key;
    line.path = path;
    line.bytes = text;
    line.truncated = cut_from > 0;
    line.begin = offset;
    line.end = offset + std::max(text.size(), cut_from) + 1;
    offset = line.end;
    pipeline_->handle_line(line);
    return line.begin;
  }
  uint64_t end_of(const agent::FileKey& key = kKey) { return offsets_[key.inode]; }
  std::optional<uint64_t> stored(const agent::FileKey& key = kKey) {
    auto e = pipeline_->checkpoints().find(key);
    if (!e) return std::nullopt;
    return e->offset;
  }

  static inline const agent::FileKey kKey{1, 100, {64, 0xabc}};
  static inline const std::string kPath = "/var/log/audit/audit.log";

  TempDir dir_;
  boost::asio::io_context io_;
  tests::ManualClock clock_;
  tests::ManualScheduler scheduler_{clock_};
  std::vector<FakeOutput*> fakes_;
  std::unique_ptr<agent::AuditPipeline> pipeline_;
  std::map<uint64_t, uint64_t> offsets_;
  std::size_t max_pending_bytes_ = 8u << 20;
};

TEST_F(AuditPipelineTest, CheckpointWaitsForEveryOutputAndToleratesOutOfOrderAcks) {
  build(2);
  const uint64_t b1 = feed(login(1));
  const uint64_t b2 = feed(login(2));
  const uint64_t b3 = feed(login(3));
  const uint64_t end = end_of();
  FakeOutput& a = *fakes_[0];
  FakeOutput& b = *fakes_[1];
  ASSERT_EQ(a.submitted.size(), 3u);
  ASSERT_EQ(b.submitted.size(), 3u);
  EXPECT_EQ(a.seq_of(2), b.seq_of(2)) << "one global sequence number per record";
  EXPECT_EQ(stored(), b1);

  a.ack(a.seq_of(3));
  a.ack(a.seq_of(1));
  EXPECT_EQ(stored(), b1) << "output b has acknowledged nothing yet";
  b.ack(b.seq_of(1));
  EXPECT_EQ(stored(), b2) << "event 1 done by both";
  b.ack(b.seq_of(3));
  EXPECT_EQ(stored(), b2) << "event 2 still outstanding at both";
  b.ack(b.seq_of(2));
  EXPECT_EQ(stored(), b2) << "a has not acknowledged 2 yet";
  a.ack(a.seq_of(2));
  EXPECT_EQ(stored(), end);
  EXPECT_LT(b2, b3);
  EXPECT_EQ(pipeline_->stats().delivered, 3u);
  EXPECT_EQ(pipeline_->outstanding(), 0u);
}

// Per-sink progress (issue 11): with one sink throttled, a restart used to make the healthy sink send
// again everything past the slow sink's checkpoint (55,630 copies of 35,946 events after 10 SIGKILLs).
// Each sink now stores its own offset and skips what it already has; reading resumes at the slowest.
TEST_F(AuditPipelineTest, EachSinkResumesFromItsOwnCheckpointSoASlowSinkMakesNoOtherResend) {
  build(2);
  feed(login(1));
  const uint64_t b2 = feed(login(2));
  feed(login(3));
  const uint64_t end = end_of();
  FakeOutput& fast = *fakes_[0];
  FakeOutput& slow = *fakes_[1];
  for (int serial : {1, 2, 3}) fast.ack(fast.seq_of(serial));
  slow.ack(slow.seq_of(1));
  EXPECT_EQ(stored(), b2) << "reading resumes where the slow sink stands";
  auto entry = pipeline_->checkpoints().find(kKey);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->sinks, (std::vector<std::pair<std::string, uint64_t>>{{"fake0", end}, {"fake1", b2}}));
  pipeline_->stop();
  pipeline_.reset();  // a restart (the store was committed: SIGKILL after the last commit looks the same)
  fakes_.clear();

  build(2);
  offsets_[kKey.inode] = b2;  // the tailer resumes at the stored offset: events 2 and 3 come again
  feed(login(2));
  feed(login(3));
  EXPECT_TRUE(fakes_[0]->submitted.empty()) << "the fast sink had them already";
  ASSERT_EQ(fakes_[1]->submitted.size(), 2u);
  EXPECT_EQ(pipeline_->stats().resends_avoided, 2u);
  fakes_[1]->ack(fakes_[1]->seq_of(2));
  fakes_[1]->ack(fakes_[1]->seq_of(3));
  EXPECT_EQ(stored(), end);
  entry = pipeline_->checkpoints().find(kKey);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->sinks, (std::vector<std::pair<std::string, uint64_t>>{{"fake0", end}, {"fake1", end}}));
}

// A checkpoint file written before per-sink progress (no "sinks") still loads: every sink resumes at
// the file offset, as before.
TEST_F(AuditPipelineTest, ACheckpointWithoutSinkOffsetsResumesEverySinkAtTheFileOffset) {
  {
    std::ofstream f(dir_.path() + "/checkpoints.json");
    f << R"({"version":1,"files":[{"path":"/var/log/audit/audit.log","device":1,"inode":100,)"
         R"("fingerprint":{"length":64,"fnv1a64":"0000000000000abc"},"offset":0}]})";
  }
  build(2);
  feed(login(1));
  EXPECT_EQ(fakes_[0]->submitted.size(), 1u);
  EXPECT_EQ(fakes_[1]->submitted.size(), 1u);
  EXPECT_EQ(pipeline_->stats().resends_avoided, 0u);
}

// A checkpoint file that cannot be written (a directory sits where its temp file goes, which stops
// root too): every commit fails and is counted, and the error line goes through the rate limiter,
// 5 a minute and then one line with the count, instead of one line per delivered event.
TEST_F(AuditPipelineTest, FailedCheckpointCommitsAreCountedAndLoggedRateLimited) {
  std::filesystem::create_directories(dir_.path() + "/checkpoints.json.tmp/blocker");
  tests::LogCapture log;
  build(1);
  const auto lines = [&log] {
    const std::string text = log.text();
    std::size_t n = 0;
    for (std::size_t at = text.find("checkpoint commit failed"); at != std::string::npos;
         at = text.find("checkpoint commit failed", at + 1)) {
      ++n;
    }
    return n;
  };
  for (int serial = 1; serial <= 40; ++serial) {
    feed(login(serial));
    fakes_[0]->ack(fakes_[0]->seq_of(serial));
  }
  EXPECT_GE(pipeline_->stats().commit_errors, 30u);
  EXPECT_EQ(lines(), 5u) << log.text();
  clock_.advance(std::chrono::seconds(61));
  feed(login(41));
  fakes_[0]->ack(fakes_[0]->seq_of(41));
  EXPECT_EQ(lines(), 6u) << log.text();
  EXPECT_NE(log.text().find("similar line(s) suppressed)"), std::string::npos) << log.text();
}

TEST_F(AuditPipelineTest, FilteredEventsCountAsDeliveredAtOnce) {
  agent::AuditFilters filters;
  filters.exclude.record_types = {"USER_AUTH"};
  build(1, filters);
  feed(auth(1));
  feed(auth(2));
  EXPECT_EQ(stored(), end_of()) << "nothing was submitted, nothing holds the checkpoint";
  EXPECT_TRUE(fakes_[0]->submitted.empty());
  EXPECT_EQ(pipeline_->stats().filtered, 2u);
  const uint64_t b3 = feed(login(3));
  feed(auth(4));
  EXPECT_EQ(stored(), b3) << "the unacknowledged login holds it, the filtered event behind it waits";
  fakes_[0]->ack(fakes_[0]->seq_of(3));
  EXPECT_EQ(stored(), end_of());
}

TEST_F(AuditPipelineTest, CorruptLinesAreCountedSkippedAndDoNotStopTheStream) {
  build(1);
  feed(login(1));
  const uint64_t corrupt = feed("this is not an audit record");
  const uint64_t b2 = feed(login(2));
  EXPECT_EQ(pipeline_->stats().corrupt, 1u);
  ASSERT_EQ(fakes_[0]->submitted.size(), 2u);
  EXPECT_EQ(fakes_[0]->submitted[1].second, 2u);
  fakes_[0]->ack(fakes_[0]->seq_of(1));
  EXPECT_EQ(stored(), b2) << "the corrupt line at " << corrupt << " is passed with event 1";
  EXPECT_GT(b2, corrupt);
  fakes_[0]->ack(fakes_[0]->seq_of(2));
  EXPECT_EQ(stored(), end_of());
}

TEST_F(AuditPipelineTest, ALineCutAtTheCapMarksItsEventAndItsCheckpointPassesTheWholeLine) {
  build(1);
  feed(login(1));
  const std::string whole = login(2);
  feed(whole.substr(0, 60), kKey, kPath, whole.size());  // "...: pid=2231 uid=0 au": the tailer's cap was 60
  ASSERT_EQ(fakes_[0]->submitted.size(), 2u);
  EXPECT_EQ(fakes_[0]->lines_cut, (std::vector<bool>{false, true}));
  fakes_[0]->ack(fakes_[0]->seq_of(1));
  fakes_[0]->ack(fakes_[0]->seq_of(2));
  EXPECT_EQ(stored(), end_of()) << "the checkpoint is after the whole line, newline included";
}

TEST_F(AuditPipelineTest, AnOpenMultiRecordEventHoldsTheCheckpointBehindLaterDeliveredOnes) {
  build(1);
  const uint64_t b1 = feed(syscall(1));  // stays open until its EOE
  feed(login(2));
  ASSERT_EQ(fakes_[0]->submitted.size(), 1u);
  fakes_[0]->ack(fakes_[0]->seq_of(2));
  EXPECT_EQ(stored(), b1) << "the SYSCALL line was not delivered yet";
  feed(eoe(1));
  ASSERT_EQ(fakes_[0]->submitted.size(), 2u);
  EXPECT_EQ(stored(), b1);
  fakes_[0]->ack(fakes_[0]->seq_of(1));
  EXPECT_EQ(stored(), end_of());
}

TEST_F(AuditPipelineTest, IdleEventsAreClosedByTheTickTimer) {
  build(1);
  feed(syscall(1));
  EXPECT_TRUE(fakes_[0]->submitted.empty());
  scheduler_.advance(std::chrono::seconds(5));  // > event_timeout, several ticks
  ASSERT_EQ(fakes_[0]->submitted.size(), 1u);
  EXPECT_EQ(fakes_[0]->submitted[0].second, 1u);
}

TEST_F(AuditPipelineTest, ANewerFileOfThePathFlushesTheOlderOnesOpenEvent) {
  build(1);
  const agent::FileKey rotated = kKey;
  const agent::FileKey fresh{1, 101, {64, 0xdef}};
  feed(syscall(1), rotated);  // its EOE never comes: the file was rotated
  EXPECT_TRUE(fakes_[0]->submitted.empty());
  feed(login(2), fresh);
  ASSERT_EQ(fakes_[0]->submitted.size(), 2u);
  EXPECT_EQ(fakes_[0]->submitted[0].second, 1u) << "the older file's event first";
  fakes_[0]->ack(fakes_[0]->seq_of(1));
  EXPECT_EQ(stored(rotated), end_of(rotated));
  EXPECT_EQ(pipeline_->stats().files_finished, 1u);
}

TEST_F(AuditPipelineTest, FlushClosesOpenEventsAndCommitsToDisk) {
  build(1);
  feed(login(1));
  feed(syscall(2));
  fakes_[0]->ack(fakes_[0]->seq_of(1));
  bool done = false;
  pipeline_->flush([&] { done = true; });
  EXPECT_TRUE(done);
  EXPECT_EQ(fakes_[0]->flushes, 1);
  ASSERT_EQ(fakes_[0]->submitted.size(), 2u);
  fakes_[0]->ack(fakes_[0]->seq_of(2));
  pipeline_->stop();  // forced commit
  agent::CheckpointStore reread(dir_.path(), clock_);
  ASSERT_TRUE(reread.load().ok());
  auto entry = reread.find(kKey);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->offset, end_of());
  EXPECT_EQ(entry->path, kPath);
}

TEST_F(AuditPipelineTest, ReadsAgainAfterABackpressurePauseWithoutTakingALineTwice) {
  build(1, {}, /*max_pending=*/2);
  feed(login(1));
  feed(login(2));
  EXPECT_FALSE(pipeline_->paused());
  feed(login(3));
  EXPECT_TRUE(pipeline_->paused());
  EXPECT_EQ(pipeline_->stats().pauses, 1u);
  EXPECT_FALSE(pipeline_->tailer().running());
  fakes_[0]->ack(fakes_[0]->seq_of(1));
  fakes_[0]->ack(fakes_[0]->seq_of(2));
  scheduler_.advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(pipeline_->paused());
  EXPECT_TRUE(pipeline_->tailer().running());
  // After the restart the tailer hands out the lines from the checkpoint again: they are skipped.
  agent::TailedLine again;
  again.key = kKey;
  again.path = kPath;
  const std::string text = login(3);
  again.bytes = text;
  again.begin = *stored();
  again.end = end_of();
  pipeline_->handle_line(again);
  EXPECT_EQ(pipeline_->stats().reread_lines, 1u);
  EXPECT_EQ(fakes_[0]->submitted.size(), 3u);
}

// Memory is bounded in bytes, across the outputs together (the 620 MB case: two sinks at 100,000
// records of ~3 KB): past delivery.max_queue_bytes reading pauses, below half of it it resumes.
TEST_F(AuditPipelineTest, BackpressureCountsBytesAcrossOutputsNotOnlyRecords) {
  max_pending_bytes_ = 5000;  // two outputs at 1000 bytes per record: paused past 2 records each
  build(2, {}, /*max_pending=*/1000);
  feed(login(1));
  feed(login(2));
  EXPECT_FALSE(pipeline_->paused());
  EXPECT_EQ(pipeline_->outputs_pending_bytes(), 4000u);
  feed(login(3));
  EXPECT_TRUE(pipeline_->paused());
  EXPECT_EQ(pipeline_->stats().pauses, 1u);
  for (FakeOutput* f : fakes_) {
    f->ack(f->seq_of(1));
    f->ack(f->seq_of(2));
  }
  EXPECT_EQ(pipeline_->outputs_pending_bytes(), 2000u);  // <= 5000 / 2
  scheduler_.advance(std::chrono::milliseconds(1));
  EXPECT_FALSE(pipeline_->paused());
}

TEST_F(AuditPipelineTest, ReadOnceReadsEachFileToItsEndWithoutCheckpoints) {
  const std::string file = dir_.path() + "/audit.log";
  {
    std::ofstream out(file);
    out << login(1) << "\n" << syscall(2) << "\n" << eoe(2) << "\ngarbage\n" << login(3) << "\n" << "partial";
  }
  agent::AuditPipelineOptions o;
  o.tailer.files = {dir_.path() + "/audit.*"};
  o.state_dir = dir_.path();
  o.persist_checkpoints = false;
  auto out = std::make_unique<FakeOutput>("once", /*auto_ack=*/true);
  FakeOutput* fake = out.get();
  std::vector<std::unique_ptr<agent::TrailOutput>> outs;
  outs.push_back(std::move(out));
  agent::AuditPipeline pipeline(io_, scheduler_, clock_, std::move(o), std::move(outs));
  pipeline.read_once();
  pipeline.flush([] {});
  std::vector<uint64_t> serials;
  for (const auto& [seq, serial] : fake->submitted) serials.push_back(serial);
  EXPECT_EQ(serials, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(pipeline.stats().corrupt, 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/checkpoints.json"));
}

TEST(LocalTrailOutputTest, WritesEachSinkTypesPayloadAndAcknowledgesAtOnce) {
  TempDir dir;
  const std::string path = dir.path() + "/trail.jsonl";
  auto sink = agent::LocalSink::open(path, false);
  ASSERT_TRUE(sink.ok());
  tests::ManualClock clock;
  agent::HostContext host;
  host.hostname = "web-1";
  agent::TrailRecord record;
  record.event_id = "11111111-2222-8333-8444-555555555555";
  record.serial = 7;
  record.time_ms = 1'764'000'014'902;
  record.event_name = "USER_LOGIN";
  std::vector<agent::TrailSink> sinks(4);
  sinks[1].type = agent::SinkType::kCloudTrailLake;
  sinks[1].channel_arn = "arn:aws:cloudtrail:us-east-1:123456789012:channel/abc";
  sinks[2].type = agent::SinkType::kCloudWatchLogs;
  sinks[2].log_group = "/trailwatch/audit";
  sinks[2].log_stream = "{hostname}";
  sinks[3].type = agent::SinkType::kS3;
  sinks[3].bucket = "b";
  std::vector<std::uint64_t> acked;
  for (std::size_t i = 0; i < sinks.size(); ++i) {
    agent::LocalTrailOutput out(clock, **sink, sinks[i], host);
    out.set_on_delivered([&](std::uint64_t seq) { acked.push_back(seq); });
    out.submit(10 + i, record);
    EXPECT_EQ(out.pending(), 0u);
    EXPECT_EQ(out.written(), 1u);
  }
  EXPECT_EQ(acked, (std::vector<std::uint64_t>{10, 11, 12, 13}));
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["api"], "CloudTrailRecord");
  EXPECT_EQ(lines[0]["payload"]["eventID"], record.event_id);
  EXPECT_EQ(lines[1]["destination"], "cloudtrail_lake");
  EXPECT_EQ(lines[1]["api"], "PutAuditEvents");
  EXPECT_EQ(lines[1]["payload"]["channelArn"], sinks[1].channel_arn);
  EXPECT_EQ(lines[1]["payload"]["auditEvents"][0]["id"], record.event_id);
  EXPECT_EQ(lines[2]["api"], "PutLogEvents");
  EXPECT_EQ(lines[2]["payload"]["logStreamName"], "web-1");
  EXPECT_EQ(lines[2]["payload"]["logEvents"][0]["timestamp"], record.time_ms);
  EXPECT_EQ(nlohmann::json::parse(lines[2]["payload"]["logEvents"][0]["message"].get<std::string>())["eventID"],
            record.event_id);
  EXPECT_EQ(lines[3]["api"], "PutObject");
  EXPECT_EQ(lines[3]["payload"]["Records"][0]["eventID"], record.event_id);
}

}  // namespace
