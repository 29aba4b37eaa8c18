// ProcSampler: CPU, memory, swap and network metrics from /proc, named and computed like the
// CloudWatch agent on Linux (which runs telegraf's cpu/mem/swap/net inputs), so dashboards and
// alarms built for the CloudWatch agent keep working.
//
//   agent::ProcSampler sampler(agent::ProcSamplerOptions{});   // or {.proc_root = "tests/..."}
//   std::vector<agent::MetricSample> samples;
//   common::Status st = sampler.sample(clock.wall_now(), samples);  // on a timer
//
// CPU and network values are computed against the previous call, so the first call only emits
// memory/swap gauges. The sampler keeps its buffers: once the set of CPUs and interfaces is
// stable, sample() does not allocate (given an `out` vector that keeps its capacity).
// Not thread-safe; call from one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "agent/parsers/proc_meminfo.h"
#include "agent/parsers/proc_net_dev.h"
#include "agent/parsers/proc_stat.h"
#include "agent/pipeline/metric_sample.h"
#include "common/clock/clock.h"
#include "common/fs/reopenable_file.h"
#include "common/result/result.h"

namespace agent {

struct ProcSamplerOptions {
  std::string proc_root = "/proc";
  bool cpu = true;        // master switch for cpu_usage_*
  bool cpu_total = true;  // cpu=cpu-total
  bool per_cpu = false;   // cpu=cpu0..N
  bool memory = true;     // mem_*
  bool swap = true;       // swap_*
  bool network = true;    // net_*
  std::vector<std::string> net_include{"*"};  // fnmatch(3) globs on the interface name
  std::vector<std::string> net_exclude{"lo"};
};

class ProcSampler {
 public:
  struct Stats {
    uint64_t samples = 0;         // MetricSamples emitted, all calls together
    uint64_t read_errors = 0;     // a /proc file could not be opened or read
    uint64_t parse_errors = 0;    // a /proc file did not parse
    uint64_t counter_resets = 0;  // a cpu line or net counter went backwards (series skipped)
  };

  explicit ProcSampler(ProcSamplerOptions options);

  // Reads the enabled files, computes values against the previous read and appends samples
  // to `out` (cleared first), all stamped `now`. A failing file does not stop the others: their
  // samples are still appended, and the first failure is returned (wrapped with the file name).
  [[nodiscard]] common::Status sample(common::WallTime now, std::vector<MetricSample>& out);

  const Stats& stats() const noexcept { return stats_; }
  const ProcSamplerOptions& options() const noexcept { return options_; }

 private:
  struct CpuState {
    uint32_t index = 0;
    std::string_view name;  // interned "cpuN"
    CpuTimes prev;
    bool seen = false;
  };
  struct InterfaceState {
    std::string_view name;  // interned
    NetDevCounters prev;
    bool included = false;
    bool seen = false;
  };

  void process_cpu(common::WallTime now, std::vector<MetricSample>& out);
  // Emits cpu_usage_* for one line if it has a usable previous value; updates prev.
  void emit_cpu(common::WallTime now, std::string_view name, const CpuTimes& prev, const CpuTimes& cur,
                std::vector<MetricSample>& out);
  void process_memory(common::WallTime now, std::vector<MetricSample>& out);
  void process_network(common::WallTime now, std::vector<MetricSample>& out);
  bool interface_included(std::string_view name) const;
  std::string_view intern(std::string_view text);

  ProcSamplerOptions options_;
  Stats stats_;

  common::ReopenableFile stat_file_;
  common::ReopenableFile meminfo_file_;
  common::ReopenableFile net_dev_file_;

  ProcStat stat_;
  MemInfo meminfo_;
  ProcNetDev net_dev_;

  bool have_total_prev_ = false;
  CpuTimes total_prev_;
  std::vector<CpuState> cpus_;               // CPUs seen last round, in file order
  std::vector<InterfaceState> interfaces_;   // interfaces seen last round, in file order
  std::deque<std::string> interned_;         // stable storage for dimension values; never shrinks
};

}  // namespace agent
