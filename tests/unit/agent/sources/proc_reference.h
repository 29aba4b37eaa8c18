// An independent model of what ProcSampler should emit for two consecutive /proc snapshots.
// Written deliberately unlike the production code: iostreams for parsing, long double for the
// arithmetic, std::map for state, whole-snapshot comparison instead of incremental state.
#pragma once

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/sources/proc_sampler.h"

namespace tests {

struct ReferenceSnapshot {
  std::map<std::string, std::vector<long double>> cpus;  // "cpu-total", "cpu0", ... -> 10 columns
  std::map<std::string, long double> meminfo;             // key -> bytes (or count)
  std::map<std::string, std::vector<long double>> net;    // interface -> 16 counters
};

inline ReferenceSnapshot read_reference(const std::filesystem::path& dir) {
  ReferenceSnapshot snap;
  {
    std::ifstream in(dir / "stat");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string word;
      fields >> word;
      if (word.compare(0, 3, "cpu") != 0) continue;
      std::vector<long double> columns;
      long double x;
      while (fields >> x) columns.push_back(x);
      columns.resize(10, 0.0L);
      snap.cpus[word == "cpu" ? "cpu-total" : word] = columns;
    }
  }
  {
    std::ifstream in(dir / "meminfo");
    std::string line;
    while (std::getline(in, line)) {
      const auto colon = line.find(':');
      std::istringstream rest(line.substr(colon + 1));
      long double value = 0;
      std::string unit;
      rest >> value >> unit;
      snap.meminfo[line.substr(0, colon)] = unit == "kB" ? value * 1024.0L : value;
    }
  }
  {
    std::ifstream in(dir / "net" / "dev");
    std::string line;
    std::getline(in, line);
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto colon = line.rfind(':');
      std::string name = line.substr(0, colon);
      name.erase(0, name.find_first_not_of(' '));
      std::istringstream rest(line.substr(colon + 1));
      std::vector<long double> counters(16);
      for (auto& c : counters) rest >> c;
      snap.net[name] = counters;
    }
  }
  return snap;
}

struct ReferenceResult {
  std::map<std::string, long double> values;  // "metric|dim=value" -> value
  int resets = 0;
};

inline std::string reference_key(const std::string& metric, const std::string& dim = "") {
  return dim.empty() ? metric : metric + "|" + dim;
}

inline bool reference_included(const agent::ProcSamplerOptions& o, const std::string& name) {
  const bool in = std::any_of(o.net_include.begin(), o.net_include.end(),
                              [&](const std::string& p) { return fnmatch(p.c_str(), name.c_str(), 0) == 0; });
  const bool out = std::any_of(o.net_exclude.begin(), o.net_exclude.end(),
                               [&](const std::string& p) { return fnmatch(p.c_str(), name.c_str(), 0) == 0; });
  return in && !out;
}

inline ReferenceResult reference_samples(const agent::ProcSamplerOptions& o, const std::optional<ReferenceSnapshot>& before,
                                         const ReferenceSnapshot& after) {
  ReferenceResult r;
  if (before && o.cpu) {
    for (const auto& [name, now] : after.cpus) {
      const bool wanted = name == "cpu-total" ? o.cpu_total : o.per_cpu;
      if (!wanted) continue;
      auto it = before->cpus.find(name);
      if (it == before->cpus.end()) continue;
      std::vector<long double> d(10);
      bool backwards = false;
      for (int i = 0; i < 10; ++i) {
        d[i] = now[i] - it->second[i];
        backwards = backwards || d[i] < 0;
      }
      if (backwards) {
        ++r.resets;
        continue;
      }
      long double total = 0;
      for (int i = 0; i < 8; ++i) total += d[i];
      if (total == 0) continue;
      const std::string dim = "cpu=" + name;
      auto pct = [&](long double x) { return x / total * 100.0L; };
      r.values[reference_key("cpu_usage_user", dim)] = pct(d[0] - d[8]);
      r.values[reference_key("cpu_usage_nice", dim)] = pct(d[1] - d[9]);
      r.values[reference_key("cpu_usage_system", dim)] = pct(d[2]);
      r.values[reference_key("cpu_usage_idle", dim)] = pct(d[3]);
      r.values[reference_key("cpu_usage_iowait", dim)] = pct(d[4]);
      r.values[reference_key("cpu_usage_irq", dim)] = pct(d[5]);
      r.values[reference_key("cpu_usage_softirq", dim)] = pct(d[6]);
      r.values[reference_key("cpu_usage_steal", dim)] = pct(d[7]);
      r.values[reference_key("cpu_usage_guest", dim)] = pct(d[8]);
      r.values[reference_key("cpu_usage_guest_nice", dim)] = pct(d[9]);
      r.values[reference_key("cpu_usage_active", dim)] = 100.0L - pct(d[3]);
    }
  }
  const auto& m = after.meminfo;
  auto get = [&](const char* k) { auto it = m.find(k); return it == m.end() ? 0.0L : it->second; };
  if (o.memory) {
    const long double total = get("MemTotal");
    const long double available =
        m.count("MemAvailable") ? get("MemAvailable") : get("MemFree") + get("Buffers") + get("Cached");
    r.values["mem_total"] = total;
    r.values["mem_available"] = available;
    r.values["mem_used"] = total - available;
    r.values["mem_free"] = get("MemFree");
    r.values["mem_cached"] = get("Cached");
    r.values["mem_buffered"] = get("Buffers");
    r.values["mem_active"] = get("Active");
    r.values["mem_inactive"] = get("Inactive");
    r.values["mem_used_percent"] = (total - available) * 100.0L / total;
    r.values["mem_available_percent"] = available * 100.0L / total;
  }
  if (o.swap) {
    const long double total = get("SwapTotal");
    const long double free = get("SwapFree");
    r.values["swap_used"] = total - free;
    r.values["swap_free"] = free;
    r.values["swap_used_percent"] = total == 0 ? 0.0L : (total - free) * 100.0L / total;
  }
  if (before && o.network) {
    // name, column in /proc/net/dev
    const std::vector<std::pair<std::string, int>> series = {
        {"net_bytes_recv", 0}, {"net_packets_recv", 1}, {"net_err_in", 2},  {"net_drop_in", 3},
        {"net_bytes_sent", 8}, {"net_packets_sent", 9}, {"net_err_out", 10}, {"net_drop_out", 11}};
    for (const auto& [name, now] : after.net) {
      auto it = before->net.find(name);
      if (it == before->net.end() || !reference_included(o, name)) continue;
      for (const auto& [metric, column] : series) {
        const long double d = now[column] - it->second[column];
        if (d < 0) {
          ++r.resets;
          continue;
        }
        r.values[reference_key(metric, "interface=" + name)] = d;
      }
    }
  }
  return r;
}

// The CloudWatch unit each metric must carry, from its name alone.
inline std::string reference_unit(const std::string& metric) {
  if (metric.rfind("cpu_usage_", 0) == 0 || (metric.size() > 8 && metric.substr(metric.size() - 8) == "_percent")) {
    return "Percent";
  }
  if (metric.rfind("net_packets_", 0) == 0 || metric.rfind("net_err_", 0) == 0 || metric.rfind("net_drop_", 0) == 0) {
    return "Count";
  }
  return "Bytes";
}

}  // namespace tests
