// spool_bench: the spool (agent::DurableQueue) against the disk under it, same directory, same run.
//
//   BM_Append/<payload bytes>   per iteration: one DurableQueue::append (write + fdatasync, as in
//                               production), then a raw write + fdatasync of as many bytes (the spool
//                               line's length) to a second file in the same directory.
//   BM_Replay/<records>/<bytes> DurableQueue::open of a file of N records (read, checksum, parse),
//                               against a raw read of the same file; the file itself is written once
//                               per run as one raw sequential write + fdatasync.
//
// Counters (MB = 10^6 bytes of lines on disk): spool_MBps / raw_MBps and their ratio for appends;
// replay_MBps, raw_read_MBps, raw_write_MBps and replay_vs_read / replay_vs_write for replay.
// Directory: $SPOOL_BENCH_DIR (put it on the disk that matters), else the system temp dir.
// Release build:  build-rel/tests/bench/spool_bench
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "agent/pipeline/durable_queue.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A fresh directory for one benchmark run, removed at the end.
class BenchDir {
 public:
  BenchDir() {
    const char* env = std::getenv("SPOOL_BENCH_DIR");
    const fs::path base = env != nullptr && *env != '\0' ? fs::path(env) : fs::temp_directory_path();
    std::string tmpl = (base / "spool-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl);
    path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double mbps(double bytes, double secs) { return secs > 0 ? bytes / secs / 1e6 : 0; }

void write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) throw std::runtime_error("write failed");
    done += static_cast<std::size_t>(n);
  }
}

void BM_Append(benchmark::State& state) {
  const auto payload = static_cast<std::size_t>(state.range(0));
  BenchDir dir;
  auto q = agent::DurableQueue::open(dir.file("spool.jsonl"));
  if (!q.ok()) {
    state.SkipWithError(q.error().to_string().c_str());
    return;
  }
  const std::string data(payload, 'p');
  const std::string raw_line = agent::DurableQueue::record_line(1, data);  // the same length on disk
  const int raw = ::open(dir.file("raw.bin").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (raw < 0) {
    state.SkipWithError("open raw.bin");
    return;
  }
  Clock::duration spool_time{};
  Clock::duration raw_time{};
  double bytes = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto id = (*q)->append(data);
    const auto t1 = Clock::now();
    write_all(raw, raw_line);
    ::fdatasync(raw);
    const auto t2 = Clock::now();
    if (!id.ok()) {
      state.SkipWithError(id.error().to_string().c_str());
      break;
    }
    spool_time += t1 - t0;
    raw_time += t2 - t1;
    bytes += static_cast<double>(raw_line.size());
  }
  ::close(raw);
  const double spool = mbps(bytes, seconds(spool_time));
  const double rawv = mbps(bytes, seconds(raw_time));
  state.counters["spool_MBps"] = spool;
  state.counters["raw_MBps"] = rawv;
  state.counters["ratio"] = rawv > 0 ? spool / rawv : 0;
  state.counters["line_bytes"] = static_cast<double>(raw_line.size());
}
BENCHMARK(BM_Append)->Arg(256)->Arg(4096)->Arg(65536)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

void BM_Replay(benchmark::State& state) {
  const auto records = static_cast<std::uint64_t>(state.range(0));
  const auto payload = static_cast<std::size_t>(state.range(1));
  BenchDir dir;
  const std::string path = dir.file("spool.jsonl");
  const std::string data(payload, 'p');
  std::string text;
  for (std::uint64_t id = 1; id <= records; ++id) text += agent::DurableQueue::record_line(id, data);

  const auto w0 = Clock::now();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    state.SkipWithError("open spool.jsonl");
    return;
  }
  write_all(fd, text);
  ::fdatasync(fd);
  ::close(fd);
  const double write_secs = seconds(Clock::now() - w0);

  Clock::duration replay_time{};
  Clock::duration read_time{};
  std::string buf(1 << 16, '\0');
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto q = agent::DurableQueue::open(path);
    const auto t1 = Clock::now();
    const int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::size_t got = 0;
    for (ssize_t n; (n = ::read(rfd, buf.data(), buf.size())) > 0;) got += static_cast<std::size_t>(n);
    ::close(rfd);
    const auto t2 = Clock::now();
    if (!q.ok() || (*q)->size() != records || (*q)->corrupt_lines() != 0 || got != text.size()) {
      state.SkipWithError("replay did not return every record");
      break;
    }
    benchmark::DoNotOptimize(got);
    replay_time += t1 - t0;
    read_time += t2 - t1;
  }
  const double total = static_cast<double>(text.size()) * static_cast<double>(state.iterations());
  const double replay = mbps(total, seconds(replay_time));
  const double read = mbps(total, seconds(read_time));
  const double write = mbps(static_cast<double>(text.size()), write_secs);
  state.counters["replay_MBps"] = replay;
  state.counters["raw_read_MBps"] = read;
  state.counters["raw_write_MBps"] = write;
  state.counters["replay_vs_read"] = read > 0 ? replay / read : 0;
  state.counters["replay_vs_write"] = write > 0 ? replay / write : 0;
}
BENCHMARK(BM_Replay)->Args({1000, 256})->Args({1000, 4096})->Args({10000, 4096})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
