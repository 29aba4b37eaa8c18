// The Outbox against a scripted transport: per-item settlement, batching to the transport's limits,
// overflow policies and byte bounds, the one backoff (and its reset), setup problems waiting the cap,
// the spool (replay at start, removal on settlement), flush, and the outage / recovery log lines.
#include "agent/delivery/outbox.h"

#include <deque>
#include <map>

#include <gtest/gtest.h>

#include "tests/support/fixed_rng.h"
#include "tests/support/log_capture.h"
#include "tests/support/manual_clock.h"
#include "tests/support/manual_scheduler.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using agent::delivery::BatchResult;
using agent::delivery::Disposition;
using agent::delivery::Outbox;
using agent::delivery::OutboxItem;
using agent::delivery::OutboxPolicy;
using agent::delivery::Overflow;
using agent::delivery::Settlement;
using agent::delivery::SubmitResult;

// Answers each batch from a script of per-item rules (by payload), or delivers everything. The
// answer comes on the next turn of the loop, as from a real call.
class ScriptedTransport final : public agent::delivery::Transport {
 public:
  explicit ScriptedTransport(common::Scheduler& s) : scheduler_(s) {}
  Limits limits() const override { return limits_; }
  void send(std::span<const OutboxItem> batch, std::function<void(BatchResult)> done) override {
    std::vector<std::string> payloads;
    BatchResult r;
    for (const auto& item : batch) {
      payloads.push_back(item.payload);
      auto it = rule.find(item.payload);
      r.dispositions.push_back(it != rule.end() ? it->second : all);
    }
    if (all != Disposition::kDelivered) r.error = "scripted failure";
    batches.push_back(std::move(payloads));
    scheduler_.post([r = std::move(r), done = std::move(done)] { done(r); });
  }
  std::string describe() const override { return "scripted"; }

  Limits limits_{3, 1000};
  Disposition all = Disposition::kDelivered;       // for payloads without a rule
  std::map<std::string, Disposition> rule;         // per payload
  std::vector<std::vector<std::string>> batches;   // what was sent, in order

 private:
  common::Scheduler& scheduler_;
};

class OutboxTest : public ::testing::Test {
 protected:
  void make(OutboxPolicy policy, agent::DurableQueue* spool = nullptr) {
    outbox_ = std::make_unique<Outbox>(clock_, scheduler_, transport_, policy, rng_, spool);
    outbox_->set_on_settled([this](const OutboxItem& item, Settlement how) { settled_.push_back({item.id, how}); });
    outbox_->start();
  }
  std::size_t count(Settlement how) const {
    std::size_t n = 0;
    for (const auto& [id, h] : settled_) n += h == how;
    return n;
  }

  tests::ManualClock clock_;
  tests::ManualScheduler scheduler_{clock_};
  tests::FixedRng rng_{{1.0}};  // every wait at the ceiling of its full-jitter range
  ScriptedTransport transport_{scheduler_};
  std::unique_ptr<Outbox> outbox_;
  std::vector<std::pair<std::uint64_t, Settlement>> settled_;
};

TEST_F(OutboxTest, CutsBatchesToTheTransportLimitsAndSettlesEachItem) {
  make({});
  for (int i = 0; i < 7; ++i) ASSERT_EQ(outbox_->submit("p" + std::to_string(i)), SubmitResult::kAccepted);
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  ASSERT_EQ(transport_.batches.size(), 3u);  // at most 3 per call
  EXPECT_EQ(transport_.batches[0], (std::vector<std::string>{"p0", "p1", "p2"}));
  EXPECT_EQ(transport_.batches[2], (std::vector<std::string>{"p6"}));
  EXPECT_EQ(count(Settlement::kDelivered), 7u);
  EXPECT_EQ(outbox_->stats().delivered, 7u);
  EXPECT_EQ(outbox_->stats().bytes_sent, 14u);
  EXPECT_EQ(outbox_->stats().queued_items, 0u);
  EXPECT_TRUE(outbox_->idle());
}

TEST_F(OutboxTest, ABurstOfSubmitsPostsOneTurnOfWorkNotOnePerItem) {
  make({.linger = 5000ms});
  scheduler_.advance(0ms);  // start()'s turn
  for (int i = 0; i < 50; ++i) outbox_->submit("p");
  EXPECT_EQ(scheduler_.pending(), 1u);  // one pump for the burst
  scheduler_.advance(0ms);
  EXPECT_EQ(transport_.batches.size(), 17u);  // full batches of 3 back to back: 50 = 16 * 3 + 2
  EXPECT_EQ(outbox_->stats().submitted, 50u);
}

TEST_F(OutboxTest, ByteLimitOfACallSplitsBatchesButAnOversizedItemStillGoesAlone) {
  transport_.limits_ = {10, 10};
  make({});
  outbox_->submit(std::string(6, 'a'));
  outbox_->submit(std::string(6, 'b'));
  outbox_->submit(std::string(25, 'c'));
  for (int i = 0; i < 4; ++i) scheduler_.advance(0ms);
  ASSERT_EQ(transport_.batches.size(), 3u);
  EXPECT_EQ(transport_.batches[2].front().size(), 25u);
  EXPECT_EQ(outbox_->stats().delivered, 3u);
}

TEST_F(OutboxTest, PartialAnswerRetriesOnlyTheFailedItemsInOrderAndRefusedAreNeverResent) {
  make({.backoff_base = 1000ms, .backoff_cap = 8000ms});
  transport_.rule = {{"b", Disposition::kRetry}, {"c", Disposition::kRefused}};
  outbox_->submit("a");
  outbox_->submit("b");
  outbox_->submit("c");
  scheduler_.advance(0ms);  // sends a, b, c
  scheduler_.advance(0ms);  // the answer
  EXPECT_EQ(outbox_->stats().delivered, 1u);
  EXPECT_EQ(outbox_->stats().refused, 1u);
  EXPECT_EQ(outbox_->stats().queued_items, 1u);
  transport_.rule.clear();
  scheduler_.advance(999ms);
  EXPECT_EQ(transport_.batches.size(), 1u);  // waits the backoff (1 s at the ceiling)
  scheduler_.advance(1ms);
  scheduler_.advance(0ms);
  ASSERT_EQ(transport_.batches.size(), 2u);
  EXPECT_EQ(transport_.batches[1], (std::vector<std::string>{"b"}));
  EXPECT_EQ(outbox_->stats().resent, 1u);
  EXPECT_EQ(count(Settlement::kDelivered), 2u);
  EXPECT_EQ(count(Settlement::kRefused), 1u);
}

TEST_F(OutboxTest, BackoffDoublesToTheCapAndResetsAfterASuccessWithOneLogLineEachWay) {
  tests::LogCapture log;
  make({.backoff_base = 1000ms, .backoff_cap = 4000ms});
  transport_.all = Disposition::kRetry;
  outbox_->submit("x");
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  ASSERT_EQ(transport_.batches.size(), 1u);
  // Retries at +1, +2, +4, +4 s (full jitter at its ceiling, capped).
  for (auto wait : {1000ms, 2000ms, 4000ms, 4000ms}) {
    const auto before = transport_.batches.size();
    scheduler_.advance(wait - 1ms);
    EXPECT_EQ(transport_.batches.size(), before) << wait.count();
    scheduler_.advance(1ms);
    scheduler_.advance(0ms);
    EXPECT_EQ(transport_.batches.size(), before + 1) << wait.count();
  }
  EXPECT_EQ(outbox_->stats().outages, 1u);
  EXPECT_TRUE(outbox_->stats().outage_since.has_value());
  EXPECT_EQ(outbox_->stats().last_error, "scripted failure");
  transport_.all = Disposition::kDelivered;
  scheduler_.advance(4000ms);
  scheduler_.advance(0ms);
  EXPECT_EQ(outbox_->stats().delivered, 1u);
  EXPECT_EQ(outbox_->stats().recoveries, 1u);
  EXPECT_FALSE(outbox_->stats().outage_since.has_value());
  const std::string text = log.text();
  EXPECT_NE(text.find("scripted: delivery failing (scripted failure); 1 item(s) kept"), std::string::npos) << text;
  EXPECT_NE(text.find("scripted: delivering again after 15 s of failures"), std::string::npos) << text;
  // A new failure after the success starts again at the base.
  transport_.all = Disposition::kRetry;
  outbox_->submit("y");
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  const auto before = transport_.batches.size();
  scheduler_.advance(1000ms);
  scheduler_.advance(0ms);
  EXPECT_EQ(transport_.batches.size(), before + 1);
}

TEST_F(OutboxTest, SetupProblemWaitsTheCapAndKeepsTheItems) {
  make({.backoff_base = 1000ms, .backoff_cap = 60000ms});
  transport_.all = Disposition::kSetup;
  outbox_->submit("x");
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  scheduler_.advance(59999ms);
  EXPECT_EQ(transport_.batches.size(), 1u);
  scheduler_.advance(1ms);
  scheduler_.advance(0ms);
  EXPECT_EQ(transport_.batches.size(), 2u);
  EXPECT_EQ(outbox_->stats().setup_failures, 2u);
  EXPECT_EQ(outbox_->stats().delivered + outbox_->stats().refused, 0u);
  EXPECT_EQ(outbox_->stats().queued_items, 1u);
}

TEST_F(OutboxTest, BlockPolicySaysFullAtTheByteBoundAndAcceptsAgainWhenDrained) {
  make({.overflow = Overflow::kBlock, .max_queued_bytes = 10});
  EXPECT_EQ(outbox_->submit(std::string(6, 'a')), SubmitResult::kAccepted);
  EXPECT_EQ(outbox_->submit(std::string(6, 'b')), SubmitResult::kFull);
  EXPECT_FALSE(outbox_->full());  // 6 of 10 bytes: room for smaller items
  EXPECT_EQ(outbox_->stats().rejected_full, 1u);
  EXPECT_EQ(outbox_->stats().queued_bytes, 6u);
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  EXPECT_EQ(outbox_->submit(std::string(6, 'b')), SubmitResult::kAccepted);
  EXPECT_EQ(outbox_->stats().dropped_overflow, 0u);  // blocking never drops
}

TEST_F(OutboxTest, DropOldestMakesRoomFromTheOldestQueuedAndCountsIt) {
  make({.overflow = Overflow::kDropOldest, .max_queued_bytes = 10, .linger = 1000ms});
  outbox_->submit("aaaa");
  outbox_->submit("bbbb");
  outbox_->submit("cccc");  // 12 > 10: "aaaa" goes
  EXPECT_EQ(outbox_->stats().dropped_overflow, 1u);
  ASSERT_EQ(settled_.size(), 1u);
  EXPECT_EQ(settled_[0], (std::pair<std::uint64_t, Settlement>{1, Settlement::kDropped}));
  EXPECT_EQ(outbox_->stats().queued_bytes, 8u);
  scheduler_.advance(1000ms);
  scheduler_.advance(0ms);
  ASSERT_EQ(transport_.batches.size(), 1u);
  EXPECT_EQ(transport_.batches[0], (std::vector<std::string>{"bbbb", "cccc"}));
}

TEST_F(OutboxTest, LingerWaitsForAFullBatchUnlessFlushed) {
  make({.linger = 5000ms});
  outbox_->submit("a");
  scheduler_.advance(4999ms);
  EXPECT_TRUE(transport_.batches.empty());
  outbox_->submit("b");
  outbox_->submit("c");  // 3 = the transport's max items: sent without waiting
  scheduler_.advance(0ms);
  EXPECT_EQ(transport_.batches.size(), 1u);
  outbox_->submit("d");
  bool flushed = false;
  outbox_->flush([&] { flushed = true; });
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  EXPECT_EQ(transport_.batches.size(), 2u);
  EXPECT_TRUE(flushed);
}

TEST_F(OutboxTest, FlushReturnsWhenTheNextAttemptFailsSoShutdownNeverWaitsForAnOutage) {
  make({.backoff_base = 1000ms, .backoff_cap = 300000ms});
  transport_.all = Disposition::kRetry;
  outbox_->submit("a");
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);  // failed once, backing off
  bool flushed = false;
  outbox_->flush([&] { flushed = true; });  // cuts the backoff short: tries now
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  EXPECT_EQ(transport_.batches.size(), 2u);
  EXPECT_TRUE(flushed);
  EXPECT_EQ(outbox_->stats().queued_items, 1u);  // still kept
}

TEST_F(OutboxTest, SpoolHoldsEveryUnsettledItemAndIsReplayedFirstAfterARestart) {
  tests::TempDir dir;
  const std::string path = dir.file("spool.jsonl");
  {
    auto q = agent::DurableQueue::open(path);
    ASSERT_TRUE(q.ok());
    transport_.all = Disposition::kRetry;
    make({}, q->get());
    outbox_->submit("one");
    outbox_->submit("two");
    scheduler_.advance(0ms);
    scheduler_.advance(0ms);
    EXPECT_EQ((*q)->size(), 2u);
    EXPECT_EQ(outbox_->stats().spooled, 2u);
    outbox_.reset();  // a restart (or a crash: the spool was written before submit returned)
  }
  auto q = agent::DurableQueue::open(path);
  ASSERT_TRUE(q.ok());
  transport_.all = Disposition::kDelivered;
  transport_.batches.clear();
  make({}, q->get());
  EXPECT_EQ(outbox_->stats().spool_replayed, 2u);
  outbox_->submit("three");
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  ASSERT_FALSE(transport_.batches.empty());
  EXPECT_EQ(transport_.batches[0], (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(outbox_->stats().delivered, 3u);
  EXPECT_TRUE((*q)->empty());  // settled items leave the spool
}

TEST_F(OutboxTest, NothingIsSentBeforeStartAndARestoredSpoolOverTheBoundDropsItsOldest) {
  tests::TempDir dir;
  auto q = agent::DurableQueue::open(dir.file("spool.jsonl"));
  ASSERT_TRUE(q.ok());
  for (const char* p : {"old1", "old2", "old3"}) ASSERT_TRUE((*q)->append(p).ok());
  Outbox outbox(clock_, scheduler_, transport_, {.overflow = Overflow::kDropOldest, .max_queued_items = 2}, rng_,
                q->get());
  std::vector<std::string> dropped;
  outbox.set_on_settled([&](const OutboxItem& item, Settlement how) {
    if (how == Settlement::kDropped) dropped.push_back(item.payload);
  });
  outbox.submit("new");  // before start: queued behind what the spool holds, not sent
  scheduler_.advance(0ms);
  EXPECT_TRUE(transport_.batches.empty());
  outbox.start();
  EXPECT_EQ(dropped, (std::vector<std::string>{"old1", "old2"}));
  EXPECT_EQ(outbox.stats().dropped_overflow, 2u);
  scheduler_.advance(0ms);
  ASSERT_EQ(transport_.batches.size(), 1u);
  EXPECT_EQ(transport_.batches[0], (std::vector<std::string>{"old3", "new"}));
  EXPECT_TRUE((*q)->empty());
}

TEST_F(OutboxTest, TransportAnsweringForTheWrongNumberOfItemsKeepsThemAll) {
  class Miscounting final : public agent::delivery::Transport {
   public:
    explicit Miscounting(common::Scheduler& s) : s_(s) {}
    Limits limits() const override { return {10, 1000}; }
    void send(std::span<const OutboxItem>, std::function<void(BatchResult)> done) override {
      ++calls;
      s_.post([done = std::move(done)] { done(BatchResult{{Disposition::kDelivered}, ""}); });
    }
    std::string describe() const override { return "miscounting"; }
    int calls = 0;

   private:
    common::Scheduler& s_;
  } transport(scheduler_);
  Outbox outbox(clock_, scheduler_, transport, {}, rng_);
  outbox.start();
  outbox.submit("a");
  outbox.submit("b");
  scheduler_.advance(0ms);
  scheduler_.advance(0ms);
  EXPECT_EQ(outbox.stats().delivered, 0u);
  EXPECT_EQ(outbox.stats().queued_items, 2u);
}

}  // namespace
