#include "agent/sources/proc_sampler.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <utility>

namespace agent {
namespace {

// Metric names, units and dimension keys as the CloudWatch agent emits them on Linux:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/metrics-collected-by-CloudWatch-agent.html
// The agent prefixes telegraf's field names with the input name (cpu_usage_idle = cpu input,
// usage_idle field); definitions follow telegraf's inputs (influxdata/telegraf
// plugins/inputs/cpu/cpu.go, plugins/inputs/mem, plugins/inputs/swap, plugins/inputs/net).
constexpr std::string_view kCpuDimension = "cpu";
constexpr std::string_view kCpuTotalValue = "cpu-total";
constexpr std::string_view kInterfaceDimension = "interface";

MetricSample make_sample(std::string_view name, Unit unit, double value, common::WallTime now) {
  MetricSample s;
  s.name = name;
  s.unit = unit;
  s.value = value;
  s.time = now;
  return s;
}

MetricSample with_dimension(MetricSample s, std::string_view key, std::string_view value) {
  s.dims[0] = Dimension{key, value};
  s.dim_count = 1;
  return s;
}

// Field-wise cur - prev; false when any counter went backwards (reset, wrap, hotplug reuse).
bool cpu_delta(const CpuTimes& prev, const CpuTimes& cur, CpuTimes& d) {
  if (cur.user < prev.user || cur.nice < prev.nice || cur.system < prev.system || cur.idle < prev.idle ||
      cur.iowait < prev.iowait || cur.irq < prev.irq || cur.softirq < prev.softirq ||
      cur.steal < prev.steal || cur.guest < prev.guest || cur.guest_nice < prev.guest_nice) {
    return false;
  }
  d.user = cur.user - prev.user;
  d.nice = cur.nice - prev.nice;
  d.system = cur.system - prev.system;
  d.idle = cur.idle - prev.idle;
  d.iowait = cur.iowait - prev.iowait;
  d.irq = cur.irq - prev.irq;
  d.softirq = cur.softirq - prev.softirq;
  d.steal = cur.steal - prev.steal;
  d.guest = cur.guest - prev.guest;
  d.guest_nice = cur.guest_nice - prev.guest_nice;
  return true;
}

double as_double(uint64_t v) { return static_cast<double>(v); }

}  // namespace

ProcSampler::ProcSampler(ProcSamplerOptions options)
    : options_(std::move(options)),
      stat_file_(options_.proc_root, "stat"),
      meminfo_file_(options_.proc_root, "meminfo"),
      net_dev_file_(options_.proc_root, "net/dev") {}

common::Status ProcSampler::sample(common::WallTime now, std::vector<MetricSample>& out) {
  out.clear();
  common::Status first_error;
  auto note = [&first_error](const common::Error& error, std::string_view file) {
    if (first_error.ok()) {
      std::string context = "proc sampler: ";
      context += file;
      first_error = error.wrap(std::move(context));
    }
  };

  if (options_.cpu && (options_.cpu_total || options_.per_cpu)) {
    common::Result<std::string_view> text = stat_file_.read_all();
    if (!text.ok()) {
      ++stats_.read_errors;
      note(text.error(), "stat");
    } else if (common::Status parsed = parse_proc_stat(*text, stat_); !parsed.ok()) {
      ++stats_.parse_errors;
      note(parsed.error(), "stat");
    } else {
      process_cpu(now, out);
    }
  }

  if (options_.memory || options_.swap) {
    common::Result<std::string_view> text = meminfo_file_.read_all();
    if (!text.ok()) {
      ++stats_.read_errors;
      note(text.error(), "meminfo");
    } else if (common::Status parsed = parse_proc_meminfo(*text, meminfo_); !parsed.ok()) {
      ++stats_.parse_errors;
      note(parsed.error(), "meminfo");
    } else {
      process_memory(now, out);
    }
  }

  if (options_.network) {
    common::Result<std::string_view> text = net_dev_file_.read_all();
    if (!text.ok()) {
      ++stats_.read_errors;
      note(text.error(), "net/dev");
    } else if (common::Status parsed = parse_proc_net_dev(*text, net_dev_); !parsed.ok()) {
      ++stats_.parse_errors;
      note(parsed.error(), "net/dev");
    } else {
      process_network(now, out);
    }
  }

  stats_.samples += out.size();
  return first_error;
}

void ProcSampler::emit_cpu(common::WallTime now, std::string_view name, const CpuTimes& prev,
                           const CpuTimes& cur, std::vector<MetricSample>& out) {
  CpuTimes d;
  if (!cpu_delta(prev, cur, d)) {
    ++stats_.counter_resets;  // skip this round; cur becomes the new baseline
    return;
  }
  // telegraf's total leaves out guest and guest_nice: the kernel already counts them in user
  // and nice. usage_user/usage_nice subtract them again so the parts add up to 100.
  const uint64_t total = d.user + d.nice + d.system + d.idle + d.iowait + d.irq + d.softirq + d.steal;
  if (total == 0) return;  // no jiffies elapsed (or an idle-tick-less CPU): nothing to divide
  const double scale = 100.0 / as_double(total);
  auto emit = [&](std::string_view metric, double numerator) {
    out.push_back(with_dimension(make_sample(metric, Unit::kPercent, numerator * scale, now), kCpuDimension, name));
  };
  emit("cpu_usage_user", as_double(d.user) - as_double(d.guest));
  emit("cpu_usage_system", as_double(d.system));
  emit("cpu_usage_idle", as_double(d.idle));
  emit("cpu_usage_nice", as_double(d.nice) - as_double(d.guest_nice));
  emit("cpu_usage_iowait", as_double(d.iowait));
  emit("cpu_usage_irq", as_double(d.irq));
  emit("cpu_usage_softirq", as_double(d.softirq));
  emit("cpu_usage_steal", as_double(d.steal));
  emit("cpu_usage_guest", as_double(d.guest));
  emit("cpu_usage_guest_nice", as_double(d.guest_nice));
  // telegraf: active = total - idle, so iowait counts as active. We keep that definition (not
  // 100 - idle - iowait) because matching the CloudWatch agent's numbers is the point.
  emit("cpu_usage_active", as_double(total - d.idle));
}

void ProcSampler::process_cpu(common::WallTime now, std::vector<MetricSample>& out) {
  if (options_.cpu_total) {
    if (have_total_prev_) emit_cpu(now, kCpuTotalValue, total_prev_, stat_.total, out);
    total_prev_ = stat_.total;
    have_total_prev_ = true;
  }
  if (!options_.per_cpu) return;

  for (std::size_t i = 0; i < stat_.cpus.size(); ++i) {
    const CpuStatLine& line = stat_.cpus[i];
    CpuState* state = nullptr;
    if (i < cpus_.size() && cpus_[i].index == line.index) {
      state = &cpus_[i];  // the usual case: same CPUs in the same order
    } else {
      auto it = std::find_if(cpus_.begin(), cpus_.end(), [&](const CpuState& s) { return s.index == line.index; });
      if (it != cpus_.end()) state = &*it;
    }
    if (state == nullptr || state->seen) {
      // First sight (or a duplicate line): prime only.
      if (state == nullptr) {
        char name[16] = "cpu";
        const auto [end, ec] = std::to_chars(name + 3, name + sizeof(name), line.index);
        (void)ec;  // 3 + 10 digits always fit
        CpuState fresh;
        fresh.index = line.index;
        fresh.name = intern(std::string_view(name, static_cast<std::size_t>(end - name)));
        fresh.prev = line.times;
        fresh.seen = true;
        cpus_.push_back(fresh);
      }
      continue;
    }
    emit_cpu(now, state->name, state->prev, line.times, out);
    state->prev = line.times;
    state->seen = true;
  }
  // CPUs that went offline are forgotten; if they return they are primed again.
  std::erase_if(cpus_, [](const CpuState& s) { return !s.seen; });
  for (CpuState& s : cpus_) s.seen = false;
}

void ProcSampler::process_memory(common::WallTime now, std::vector<MetricSample>& out) {
  const MemInfo& m = meminfo_;
  auto emit = [&](std::string_view metric, Unit unit, double value) {
    out.push_back(make_sample(metric, unit, value, now));
  };
  if (options_.memory) {
    // used = total - available, so used% + available% = 100 (the definition this project's
    // brief fixed; gopsutil's Linux "used" is total - free - buffers - cached, which differs).
    const uint64_t used = m.total > m.available ? m.total - m.available : 0;
    emit("mem_total", Unit::kBytes, as_double(m.total));
    emit("mem_available", Unit::kBytes, as_double(m.available));
    emit("mem_used", Unit::kBytes, as_double(used));
    emit("mem_free", Unit::kBytes, as_double(m.free));
    emit("mem_cached", Unit::kBytes, as_double(m.cached));
    emit("mem_buffered", Unit::kBytes, as_double(m.buffers));
    emit("mem_active", Unit::kBytes, as_double(m.active));
    emit("mem_inactive", Unit::kBytes, as_double(m.inactive));
    if (m.total > 0) {
      emit("mem_used_percent", Unit::kPercent, 100.0 * as_double(used) / as_double(m.total));
      emit("mem_available_percent", Unit::kPercent, 100.0 * as_double(m.available) / as_double(m.total));
    }
  }
  if (options_.swap) {
    // telegraf swap input (gopsutil): used = total - free; used_percent is 0 without swap.
    const uint64_t used = m.swap_total > m.swap_free ? m.swap_total - m.swap_free : 0;
    emit("swap_used", Unit::kBytes, as_double(used));
    emit("swap_free", Unit::kBytes, as_double(m.swap_free));
    emit("swap_used_percent", Unit::kPercent,
         m.swap_total > 0 ? 100.0 * as_double(used) / as_double(m.swap_total) : 0.0);
  }
}

bool ProcSampler::interface_included(std::string_view name) const {
  char buffer[kMaxInterfaceNameLength + 1] = {};
  std::memcpy(buffer, name.data(), std::min(name.size(), kMaxInterfaceNameLength));
  bool included = false;
  for (const std::string& pattern : options_.net_include) {
    if (::fnmatch(pattern.c_str(), buffer, 0) == 0) {
      included = true;
      break;
    }
  }
  if (!included) return false;
  for (const std::string& pattern : options_.net_exclude) {
    if (::fnmatch(pattern.c_str(), buffer, 0) == 0) return false;
  }
  return true;
}

void ProcSampler::process_network(common::WallTime now, std::vector<MetricSample>& out) {
  for (std::size_t i = 0; i < net_dev_.interfaces.size(); ++i) {
    const NetDevEntry& entry = net_dev_.interfaces[i];
    InterfaceState* state = nullptr;
    if (i < interfaces_.size() && interfaces_[i].name == entry.name) {
      state = &interfaces_[i];
    } else {
      auto it = std::find_if(interfaces_.begin(), interfaces_.end(),
                             [&](const InterfaceState& s) { return s.name == entry.name; });
      if (it != interfaces_.end()) state = &*it;
    }
    if (state == nullptr) {
      InterfaceState fresh;
      fresh.name = intern(entry.name);
      fresh.prev = entry.counters;
      fresh.included = interface_included(entry.name);
      fresh.seen = true;
      interfaces_.push_back(fresh);
      continue;  // first sight: no delta yet
    }
    if (state->seen) continue;  // duplicate line: keep the first
    state->seen = true;
    const NetDevCounters prev = state->prev;
    const NetDevCounters& cur = entry.counters;
    state->prev = cur;
    if (!state->included) continue;

    auto emit = [&](std::string_view metric, Unit unit, uint64_t before, uint64_t after) {
      if (after < before) {
        ++stats_.counter_resets;  // wrapped or reset: skip this series once, re-primed above
        return;
      }
      out.push_back(with_dimension(make_sample(metric, unit, as_double(after - before), now),
                                   kInterfaceDimension, state->name));
    };
    emit("net_bytes_sent", Unit::kBytes, prev.tx_bytes, cur.tx_bytes);
    emit("net_bytes_recv", Unit::kBytes, prev.rx_bytes, cur.rx_bytes);
    emit("net_packets_sent", Unit::kCount, prev.tx_packets, cur.tx_packets);
    emit("net_packets_recv", Unit::kCount, prev.rx_packets, cur.rx_packets);
    emit("net_err_in", Unit::kCount, prev.rx_errs, cur.rx_errs);
    emit("net_err_out", Unit::kCount, prev.tx_errs, cur.tx_errs);
    emit("net_drop_in", Unit::kCount, prev.rx_drop, cur.rx_drop);
    emit("net_drop_out", Unit::kCount, prev.tx_drop, cur.tx_drop);
  }
  // Interfaces that vanished are forgotten; if they come back they are primed again.
  std::erase_if(interfaces_, [](const InterfaceState& s) { return !s.seen; });
  for (InterfaceState& s : interfaces_) s.seen = false;
}

std::string_view ProcSampler::intern(std::string_view text) {
  for (const std::string& s : interned_) {
    if (s == text) return s;
  }
  return interned_.emplace_back(text);
}

}  // namespace agent
