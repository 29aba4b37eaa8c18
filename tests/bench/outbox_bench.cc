// The Outbox's own cost per record next to the encoder's, for an audit event (eventData about 800 B):
//   Encode/LakeEvent      make_lake_audit_event (eventData JSON + SHA-256 checksum) of one record
//   Outbox/PerRecord      submit + batch (100 per call) + per-item settlement through the Outbox, with a
//                         transport that answers "delivered" for every item on the next loop turn and a
//                         scheduler that runs posted work at once: the mechanism alone, no I/O, no spool
// The ratio Outbox/Encode is what delivery adds on top of producing the payload.
#include <benchmark/benchmark.h>

#include <deque>
#include <functional>
#include <string>

#include "agent/delivery/outbox.h"
#include "agent/pipeline/trail_record.h"
#include "agent/sinks/trail_lake_encoder.h"

namespace {

using agent::delivery::BatchResult;
using agent::delivery::Disposition;
using agent::delivery::OutboxItem;

class FixedClock final : public common::Clock {
 public:
  common::WallTime wall_now() const override { return common::WallTime(std::chrono::seconds(1'767'225'600)); }
  common::SteadyTime steady_now() const override { return common::SteadyTime{}; }
};

// Runs posted work in order when drained; timers with a delay are never due here (none are armed
// while every batch is delivered and linger is 0).
class DrainScheduler final : public common::Scheduler {
 public:
  common::TimerId schedule_after(std::chrono::nanoseconds delay, std::function<void()> fn) override {
    if (delay.count() == 0) queue_.push_back(std::move(fn));
    return ++next_;
  }
  void cancel(common::TimerId) override {}
  void drain() {
    while (!queue_.empty()) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
    }
  }

 private:
  std::deque<std::function<void()>> queue_;
  common::TimerId next_ = 0;
};

class DeliveredTransport final : public agent::delivery::Transport {
 public:
  explicit DeliveredTransport(common::Scheduler& s) : s_(s) {}
  Limits limits() const override { return {100, 1 << 20}; }
  void send(std::span<const OutboxItem> batch, std::function<void(BatchResult)> done) override {
    BatchResult r;
    r.dispositions.assign(batch.size(), Disposition::kDelivered);
    s_.post([r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); });
  }
  std::string describe() const override { return "bench"; }

 private:
  common::Scheduler& s_;
};

class UnitRng final : public common::aws::Rng {
 public:
  double next_unit() override { return 0.5; }
};

agent::TrailRecord sample_record() {
  agent::TrailRecord r;
  r.event_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  r.request_id = "1767225600.123:4242";
  r.time_ms = 1'767'225'600'123;
  r.serial = 4242;
  r.event_name = "execve";
  r.record_type = "SYSCALL";
  r.record_types = {"SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE"};
  r.arch = "x86_64";
  r.syscall = 59;
  r.exe = "/usr/bin/curl";
  r.comm = "curl";
  r.cwd = "/home/deploy/app";
  r.command_line = "curl -sS --fail https://example.invalid/health -o /dev/null --max-time 5";
  r.argc = 8;
  r.pid = 31337;
  r.ppid = 1200;
  r.keys = {"exec"};
  r.hostname = "ip-10-0-1-23";
  r.instance_id = "i-0123456789abcdef0";
  r.account_id = "123456789012";
  r.region = "us-east-1";
  return r;
}

void BM_Encode_LakeEvent(benchmark::State& state) {
  const agent::TrailRecord record = sample_record();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto e = agent::make_lake_audit_event(record, "123456789012");
    bytes = e.event_data.size();
    benchmark::DoNotOptimize(e);
  }
  state.counters["payload_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations());
}

void BM_Outbox_PerRecord(benchmark::State& state) {
  const std::string payload = agent::make_lake_audit_event(sample_record(), "123456789012").event_data;
  FixedClock clock;
  DrainScheduler scheduler;
  DeliveredTransport transport(scheduler);
  UnitRng rng;
  agent::delivery::Outbox outbox(clock, scheduler, transport, {}, rng);
  std::uint64_t settled = 0;
  outbox.set_on_settled([&settled](const OutboxItem&, agent::delivery::Settlement) { ++settled; });
  outbox.start();
  scheduler.drain();
  constexpr int kPerRound = 100;  // one transport call per round
  for (auto _ : state) {
    for (int i = 0; i < kPerRound; ++i) outbox.submit(payload);
    scheduler.drain();
  }
  if (settled != static_cast<std::uint64_t>(state.iterations()) * kPerRound) state.SkipWithError("items not settled");
  state.SetItemsProcessed(state.iterations() * kPerRound);
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}

}  // namespace

BENCHMARK(BM_Encode_LakeEvent);
BENCHMARK(BM_Outbox_PerRecord);

BENCHMARK_MAIN();
