// proc_bench: the cost of one full sample (cpu-total + per-cpu + memory + swap + network).
//
//   BM_ProcSampler/0, BM_NaiveSampler/0: a scratch tree seeded from tests/data/proc/two_cpu/t0,
//     whose stat and net/dev are rewritten (outside the timed region) before every iteration with
//     advancing counters, so every iteration computes real deltas (8 CPUs, 6 interfaces).
//   BM_ProcSampler/1, BM_NaiveSampler/1: this host's /proc.
//
// The naive baseline does what a straightforward implementation would: open each file with
// std::ifstream, std::getline + std::istringstream per line, std::map state, close.
// Run from the repo root (or set TRAILWATCH_SOURCE_DIR), Release build:
//   build-rel/tests/bench/proc_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent/sources/proc_sampler.h"

namespace {

namespace fs = std::filesystem;

fs::path source_dir() {
  const char* dir = std::getenv("TRAILWATCH_SOURCE_DIR");
  return dir != nullptr ? fs::path(dir) : fs::current_path();
}

constexpr int kCpus = 8;
constexpr const char* kInterfaces[] = {"lo", "eth0", "eth1", "docker0", "veth1a2b3c4", "ens5"};

std::string stat_for(long round) {
  std::string s;
  char line[256];
  std::snprintf(line, sizeof line, "cpu  %ld %ld %ld %ld %ld 0 %ld %ld %ld 0\n", 80000 + 240 * round, 900 + 8 * round,
                30000 + 96 * round, 4000000 + 1200 * round, 800 + 8 * round, 500 + 8 * round, 30 + round,
                1000 + 16 * round);
  s += line;
  for (int cpu = 0; cpu < kCpus; ++cpu) {
    std::snprintf(line, sizeof line, "cpu%d %ld %ld %ld %ld %ld 0 %ld %ld %ld 0\n", cpu, 10000 + 30 * round,
                  112 + round, 3750 + 12 * round, 500000 + 150 * round, 100 + round, 62 + round, 3 + round / 8,
                  125 + 2 * round);
    s += line;
  }
  s += "intr 1462897 9 0 0 0 0 0 0 0 1 0 0 0 4 0 0 0\nctxt 2931487\nbtime 1700000000\nprocesses 10872\n"
       "procs_running 2\nprocs_blocked 0\nsoftirq 1236544 0 231434 3 41232 0 0 51 321345 0 642479\n";
  return s;
}

std::string net_dev_for(long round) {
  std::string s =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier "
      "compressed\n";
  char line[512];
  long k = 1;
  for (const char* name : kInterfaces) {
    std::snprintf(line, sizeof line, "%6s: %8ld %7ld %4ld %4ld 0 0 0 0 %8ld %7ld %4ld %4ld 0 0 0 0\n", name,
                  912345678 * k + 15000 * round, 812345 * k + 12 * round, k, 2 * k, 123456789 * k + 9000 * round,
                  412345 * k + 9 * round, 0L, k);
    s += line;
    ++k;
  }
  return s;
}

void write_in_place(const fs::path& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  if (::pwrite(fd, content.data(), content.size(), 0) != static_cast<ssize_t>(content.size())) std::abort();
  if (::ftruncate(fd, static_cast<off_t>(content.size())) != 0) std::abort();
  ::close(fd);
}

// A scratch /proc tree whose counters advance on every step().
class MovingTree {
 public:
  MovingTree() {
    std::string pattern = (fs::temp_directory_path() / "proc-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    root_ = pattern;
    fs::create_directories(root_ / "net");
    fs::copy_file(source_dir() / "tests/data/proc/two_cpu/t0/meminfo", root_ / "meminfo");
    step();
  }
  ~MovingTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void step() {
    ++round_;
    write_in_place(root_ / "stat", stat_for(round_));
    write_in_place(root_ / "net" / "dev", net_dev_for(round_));
  }
  std::string root() const { return root_.string(); }

 private:
  fs::path root_;
  long round_ = 0;
};

// ---- the naive baseline ------------------------------------------------------------------------
class NaiveSampler {
 public:
  explicit NaiveSampler(std::string root) : root_(std::move(root)) {}

  void sample(common::WallTime now, std::vector<agent::MetricSample>& out) {
    out.clear();
    std::map<std::string, std::vector<unsigned long long>> cpus;
    {
      std::ifstream in(root_ + "/stat");
      std::string line;
      while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string word;
        fields >> word;
        if (word.rfind("cpu", 0) != 0) continue;
        std::vector<unsigned long long> v;
        unsigned long long x;
        while (fields >> x) v.push_back(x);
        v.resize(10, 0);
        cpus[word == "cpu" ? "cpu-total" : word] = v;
      }
    }
    for (const auto& [name, v] : cpus) {
      auto it = prev_cpus_.find(name);
      if (it == prev_cpus_.end()) continue;
      std::vector<double> d(10);
      bool back = false;
      for (int i = 0; i < 10; ++i) {
        back = back || v[i] < it->second[i];
        d[i] = static_cast<double>(v[i] - it->second[i]);
      }
      double total = 0;
      for (int i = 0; i < 8; ++i) total += d[i];
      if (back || total == 0) continue;
      const std::string_view dim = intern(name);
      const std::pair<const char*, double> values[] = {
          {"cpu_usage_user", d[0] - d[8]}, {"cpu_usage_system", d[2]}, {"cpu_usage_idle", d[3]},
          {"cpu_usage_nice", d[1] - d[9]}, {"cpu_usage_iowait", d[4]}, {"cpu_usage_irq", d[5]},
          {"cpu_usage_softirq", d[6]},     {"cpu_usage_steal", d[7]},  {"cpu_usage_guest", d[8]},
          {"cpu_usage_guest_nice", d[9]},  {"cpu_usage_active", total - d[3]}};
      for (const auto& [metric, x] : values) push(out, metric, agent::Unit::kPercent, 100.0 * x / total, now, "cpu", dim);
    }
    prev_cpus_ = std::move(cpus);

    std::map<std::string, double> mem;
    {
      std::ifstream in(root_ + "/meminfo");
      std::string line;
      while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream rest(line.substr(colon + 1));
        double value = 0;
        std::string unit;
        rest >> value >> unit;
        mem[line.substr(0, colon)] = unit == "kB" ? value * 1024 : value;
      }
    }
    const double total = mem["MemTotal"];
    const double avail = mem.count("MemAvailable") ? mem["MemAvailable"] : mem["MemFree"] + mem["Buffers"] + mem["Cached"];
    const std::pair<const char*, double> bytes[] = {
        {"mem_total", total},           {"mem_available", avail},        {"mem_used", total - avail},
        {"mem_free", mem["MemFree"]},   {"mem_cached", mem["Cached"]},   {"mem_buffered", mem["Buffers"]},
        {"mem_active", mem["Active"]},  {"mem_inactive", mem["Inactive"]},
        {"swap_used", mem["SwapTotal"] - mem["SwapFree"]}, {"swap_free", mem["SwapFree"]}};
    for (const auto& [metric, x] : bytes) push(out, metric, agent::Unit::kBytes, x, now);
    push(out, "mem_used_percent", agent::Unit::kPercent, 100 * (total - avail) / total, now);
    push(out, "mem_available_percent", agent::Unit::kPercent, 100 * avail / total, now);
    push(out, "swap_used_percent", agent::Unit::kPercent,
         mem["SwapTotal"] > 0 ? 100 * (mem["SwapTotal"] - mem["SwapFree"]) / mem["SwapTotal"] : 0.0, now);

    std::map<std::string, std::vector<unsigned long long>> nets;
    {
      std::ifstream in(root_ + "/net/dev");
      std::string line;
      std::getline(in, line);
      std::getline(in, line);
      while (std::getline(in, line)) {
        const auto colon = line.rfind(':');
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        std::istringstream rest(line.substr(colon + 1));
        std::vector<unsigned long long> v(16);
        for (auto& x : v) rest >> x;
        nets[name] = v;
      }
    }
    for (const auto& [name, v] : nets) {
      if (name == "lo") continue;
      auto it = prev_nets_.find(name);
      if (it == prev_nets_.end()) continue;
      const std::string_view dim = intern(name);
      const std::pair<const char*, int> series[] = {{"net_bytes_sent", 8}, {"net_bytes_recv", 0},
                                                    {"net_packets_sent", 9}, {"net_packets_recv", 1},
                                                    {"net_err_in", 2}, {"net_err_out", 10},
                                                    {"net_drop_in", 3}, {"net_drop_out", 11}};
      for (const auto& [metric, col] : series) {
        if (v[col] < it->second[col]) continue;
        push(out, metric, col == 0 || col == 8 ? agent::Unit::kBytes : agent::Unit::kCount,
             static_cast<double>(v[col] - it->second[col]), now, "interface", dim);
      }
    }
    prev_nets_ = std::move(nets);
  }

 private:
  std::string_view intern(const std::string& s) { return *names_.insert(s).first; }
  static void push(std::vector<agent::MetricSample>& out, std::string_view name, agent::Unit unit, double value,
                   common::WallTime now, std::string_view dim = {}, std::string_view dim_value = {}) {
    agent::MetricSample s;
    s.name = name;
    s.unit = unit;
    s.value = value;
    s.time = now;
    if (!dim.empty()) {
      s.dims[0] = {dim, dim_value};
      s.dim_count = 1;
    }
    out.push_back(s);
  }

  std::string root_;
  std::map<std::string, std::vector<unsigned long long>> prev_cpus_;
  std::map<std::string, std::vector<unsigned long long>> prev_nets_;
  std::set<std::string> names_;
};

template <typename Sampler, typename Make>
void run(benchmark::State& state, Make make) {
  const bool real = state.range(0) == 1;
  std::unique_ptr<MovingTree> tree;
  if (!real) tree = std::make_unique<MovingTree>();
  Sampler sampler = make(real ? std::string("/proc") : tree->root());
  std::vector<agent::MetricSample> out;
  common::WallTime now(std::chrono::seconds(1'700'000'000));
  auto one = [&] {
    if constexpr (std::is_same_v<Sampler, agent::ProcSampler>) {
      benchmark::DoNotOptimize(sampler.sample(now, out).ok());
    } else {
      sampler.sample(now, out);
    }
  };
  one();  // prime the deltas
  std::size_t emitted = 0;
  for (auto _ : state) {
    if (tree) {
      state.PauseTiming();
      tree->step();
      state.ResumeTiming();
    }
    now += std::chrono::seconds(60);
    one();
    benchmark::DoNotOptimize(out.data());
    emitted += out.size();
  }
  state.counters["samples_per_call"] =
      benchmark::Counter(static_cast<double>(emitted) / static_cast<double>(state.iterations()));
}

void BM_ProcSampler(benchmark::State& state) {
  run<agent::ProcSampler>(state, [](std::string root) {
    agent::ProcSamplerOptions options;
    options.proc_root = std::move(root);
    options.per_cpu = true;
    return agent::ProcSampler(options);
  });
}

void BM_NaiveSampler(benchmark::State& state) {
  run<NaiveSampler>(state, [](std::string root) { return NaiveSampler(std::move(root)); });
}

BENCHMARK(BM_ProcSampler)->Arg(0)->Arg(1)->ArgName("real_proc");
BENCHMARK(BM_NaiveSampler)->Arg(0)->Arg(1)->ArgName("real_proc");

}  // namespace

BENCHMARK_MAIN();
