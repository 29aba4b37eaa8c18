#include "agent/sources/proc_sampler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/agent/sources/proc_reference.h"
#include "tests/unit/agent/sources/proc_tree.h"

namespace {

using agent::MetricSample;
using agent::ProcSampler;
using agent::ProcSamplerOptions;

const common::WallTime kT0 = common::WallTime(std::chrono::seconds(1'700'000'000));

std::string key_of(const MetricSample& s) {
  std::string key(s.name);
  for (uint8_t i = 0; i < s.dim_count; ++i) {
    key += '|';
    key += s.dims[i].name;
    key += '=';
    key += s.dims[i].value;
  }
  return key;
}

std::map<std::string, double> by_key(const std::vector<MetricSample>& samples) {
  std::map<std::string, double> out;
  for (const MetricSample& s : samples) {
    EXPECT_TRUE(out.emplace(key_of(s), s.value).second) << "duplicate " << key_of(s);
  }
  return out;
}

std::set<std::string> keys(const std::map<std::string, double>& m) {
  std::set<std::string> k;
  for (const auto& [key, v] : m) k.insert(key);
  return k;
}
std::set<std::string> keys(const std::map<std::string, long double>& m) {
  std::set<std::string> k;
  for (const auto& [key, v] : m) k.insert(key);
  return k;
}

// Compares every emitted sample with the reference model: same series, same values, units.
void expect_matches_reference(const std::vector<MetricSample>& samples, const tests::ReferenceResult& expected,
                              common::WallTime now, const std::string& where) {
  const auto got = by_key(samples);
  EXPECT_EQ(keys(got), keys(expected.values)) << where;
  for (const auto& [key, want] : expected.values) {
    auto it = got.find(key);
    if (it == got.end()) continue;
    const long double tolerance = 1e-9L * std::max(1.0L, std::fabs(want));
    const long double diff = std::fabs(static_cast<long double>(it->second) - want);
    EXPECT_LE(diff, tolerance) << where << ": " << key << " got " << it->second << " want "
                               << static_cast<double>(want);
  }
  for (const MetricSample& s : samples) {
    EXPECT_EQ(s.time, now) << key_of(s);
    EXPECT_EQ(agent::unit_name(s.unit), tests::reference_unit(std::string(s.name))) << key_of(s);
  }
}

struct CaseParam {
  const char* name;
  std::vector<const char*> snapshots;
  bool per_cpu;
};

void PrintTo(const CaseParam& param, std::ostream* os) { *os << param.name << (param.per_cpu ? " per-cpu" : ""); }

class ProcSamplerReference : public ::testing::TestWithParam<CaseParam> {};

TEST_P(ProcSamplerReference, EveryValueAgreesWithAnIndependentComputation) {
  const CaseParam& param = GetParam();
  tests::ProcTree tree;
  ProcSamplerOptions options;
  options.proc_root = tree.root().string();
  options.per_cpu = param.per_cpu;
  ProcSampler sampler(options);

  std::vector<MetricSample> out;
  std::optional<tests::ReferenceSnapshot> before;
  int resets = 0;
  std::size_t emitted = 0;
  common::WallTime now = kT0;
  for (const char* snapshot : param.snapshots) {
    tree.load(param.name, snapshot);
    const common::Status st = sampler.sample(now, out);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    const tests::ReferenceSnapshot after = tests::read_reference(tests::proc_fixture(param.name, snapshot));
    const tests::ReferenceResult expected = tests::reference_samples(options, before, after);
    expect_matches_reference(out, expected, now, std::string(param.name) + "/" + snapshot);
    resets += expected.resets;
    emitted += out.size();
    before = after;
    now += std::chrono::seconds(60);
  }
  EXPECT_EQ(sampler.stats().counter_resets, static_cast<uint64_t>(resets));
  EXPECT_EQ(sampler.stats().samples, emitted);
  EXPECT_EQ(sampler.stats().read_errors, 0u);
  EXPECT_EQ(sampler.stats().parse_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, ProcSamplerReference,
    ::testing::Values(CaseParam{"two_cpu", {"t0", "t1"}, true}, CaseParam{"two_cpu", {"t0", "t1"}, false},
                      CaseParam{"four_cpu_offline", {"t0", "t1", "t2"}, true},
                      CaseParam{"iface_churn", {"t0", "t1", "t2"}, true},
                      CaseParam{"counter_wrap", {"t0", "t1"}, true},
                      CaseParam{"old_kernel_4col", {"t0", "t1"}, true},
                      CaseParam{"old_kernel_7col", {"t0", "t1"}, true},
                      CaseParam{"no_memavailable", {"t0", "t1"}, true},
                      CaseParam{"zero_interval", {"t0", "t1"}, true}),
    [](const ::testing::TestParamInfo<CaseParam>& param_info) {
      return std::string(param_info.param.name) + (param_info.param.per_cpu ? "_per_cpu" : "_total_only");
    });

// Fixed facts, independent of the model above: the names, units and dimensions the CloudWatch
// agent uses (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/metrics-collected-by-CloudWatch-agent.html).
class ProcSamplerTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.proc_root = tree_.root().string(); }

  // Samples each snapshot in turn; returns the last call's samples.
  std::vector<MetricSample> run(const std::string& name, std::vector<std::string> snapshots) {
    sampler_.emplace(options_);
    std::vector<MetricSample> out;
    common::WallTime now = kT0;
    for (const std::string& snapshot : snapshots) {
      tree_.load(name, snapshot);
      last_status_ = sampler_->sample(now, out);
      now += std::chrono::seconds(60);
    }
    return out;
  }

  tests::ProcTree tree_;
  ProcSamplerOptions options_;
  std::optional<ProcSampler> sampler_;
  common::Status last_status_;
};

std::set<std::string> names(const std::vector<MetricSample>& samples) {
  std::set<std::string> n;
  for (const auto& s : samples) n.insert(std::string(s.name));
  return n;
}

std::set<std::string> dims(const std::vector<MetricSample>& samples, std::string_view dim) {
  std::set<std::string> n;
  for (const auto& s : samples) {
    for (uint8_t i = 0; i < s.dim_count; ++i) {
      if (s.dims[i].name == dim) n.insert(std::string(s.dims[i].value));
    }
  }
  return n;
}

TEST_F(ProcSamplerTest, FirstCallEmitsMemoryAndSwapOnly) {
  const auto out = run("two_cpu", {"t0"});
  ASSERT_TRUE(last_status_.ok());
  EXPECT_EQ(names(out), (std::set<std::string>{"mem_total", "mem_available", "mem_used", "mem_free", "mem_cached",
                                               "mem_buffered", "mem_active", "mem_inactive", "mem_used_percent",
                                               "mem_available_percent", "swap_used", "swap_free",
                                               "swap_used_percent"}));
  for (const auto& s : out) EXPECT_EQ(s.dim_count, 0) << s.name;
}

TEST_F(ProcSamplerTest, SecondCallUsesCloudWatchAgentNamesUnitsAndDimensions) {
  options_.per_cpu = true;
  const auto out = run("two_cpu", {"t0", "t1"});
  ASSERT_TRUE(last_status_.ok());
  const std::set<std::string> all = names(out);
  for (const char* n : {"cpu_usage_user", "cpu_usage_system", "cpu_usage_idle", "cpu_usage_nice", "cpu_usage_iowait",
                        "cpu_usage_irq", "cpu_usage_softirq", "cpu_usage_steal", "cpu_usage_guest",
                        "cpu_usage_guest_nice", "cpu_usage_active", "net_bytes_sent", "net_bytes_recv",
                        "net_packets_sent", "net_packets_recv", "net_err_in", "net_err_out", "net_drop_in",
                        "net_drop_out", "mem_used_percent", "swap_used_percent"}) {
    EXPECT_TRUE(all.count(n)) << n;
  }
  EXPECT_EQ(dims(out, "cpu"), (std::set<std::string>{"cpu-total", "cpu0", "cpu1"}));
  EXPECT_EQ(dims(out, "interface"), (std::set<std::string>{"eth0", "docker0"}));  // lo excluded by default
  for (const auto& s : out) {
    if (s.name == "cpu_usage_idle") {
      EXPECT_EQ(agent::unit_name(s.unit), "Percent");
    } else if (s.name == "net_bytes_sent" || s.name == "mem_used") {
      EXPECT_EQ(agent::unit_name(s.unit), "Bytes");
    } else if (s.name == "net_packets_recv") {
      EXPECT_EQ(agent::unit_name(s.unit), "Count");
    }
  }
}

TEST_F(ProcSamplerTest, CpuTotalOnlyByDefault) {
  const auto out = run("two_cpu", {"t0", "t1"});
  EXPECT_EQ(dims(out, "cpu"), (std::set<std::string>{"cpu-total"}));
}

TEST_F(ProcSamplerTest, CpuThatGoesOfflineIsForgottenAndReprimedWhenItReturns) {
  options_.per_cpu = true;
  auto out = run("four_cpu_offline", {"t0", "t1"});
  EXPECT_EQ(dims(out, "cpu"), (std::set<std::string>{"cpu-total", "cpu0", "cpu1", "cpu3"}));
  tree_.load("four_cpu_offline", "t2");
  ASSERT_TRUE(sampler_->sample(kT0 + std::chrono::minutes(2), out).ok());
  EXPECT_EQ(dims(out, "cpu"), (std::set<std::string>{"cpu-total", "cpu0", "cpu1", "cpu3"}));  // cpu2: primed only
  EXPECT_EQ(sampler_->stats().counter_resets, 0u);
}

TEST_F(ProcSamplerTest, InterfacesAppearWithoutDeltaAndVanish) {
  options_.net_exclude = {};
  auto out = run("iface_churn", {"t0", "t1"});
  // eth1 vanished, eth2 is new: neither has a delta; eth0 arrives in the compact "eth0:5000" form.
  EXPECT_EQ(dims(out, "interface"), (std::set<std::string>{"lo", "eth0", "veth1a2b3c4d5e6", "eth9:1"}));
  tree_.load("iface_churn", "t2");
  ASSERT_TRUE(sampler_->sample(kT0 + std::chrono::minutes(2), out).ok());
  EXPECT_EQ(dims(out, "interface"), (std::set<std::string>{"lo", "eth0", "veth1a2b3c4d5e6", "eth9:1", "eth2"}));
}

TEST_F(ProcSamplerTest, IncludeAndExcludeGlobs) {
  options_.net_include = {"eth*", "veth*"};
  options_.net_exclude = {"eth9*", "veth?a*"};
  const auto out = run("iface_churn", {"t0", "t1"});
  EXPECT_EQ(dims(out, "interface"), (std::set<std::string>{"eth0"}));
}

TEST_F(ProcSamplerTest, EmptyIncludeListSelectsNothing) {
  options_.net_include = {};
  const auto out = run("two_cpu", {"t0", "t1"});
  EXPECT_TRUE(dims(out, "interface").empty());
}

TEST_F(ProcSamplerTest, CounterWrapSkipsOnlyTheAffectedSeriesAndIsCounted) {
  options_.per_cpu = true;
  const auto out = run("counter_wrap", {"t0", "t1"});
  ASSERT_TRUE(last_status_.ok());
  const auto got = by_key(out);
  EXPECT_FALSE(got.count("net_bytes_recv|interface=eth0"));  // wrapped
  EXPECT_FALSE(got.count("net_err_out|interface=eth0"));     // reset
  ASSERT_TRUE(got.count("net_bytes_sent|interface=eth0"));
  EXPECT_EQ(got.at("net_bytes_sent|interface=eth0"), 10000.0);
  EXPECT_EQ(got.at("net_drop_in|interface=eth0"), 1.0);
  EXPECT_EQ(dims(out, "cpu"), (std::set<std::string>{"cpu-total", "cpu0"}));  // cpu1 went backwards
  EXPECT_EQ(sampler_->stats().counter_resets, 3u);
}

TEST_F(ProcSamplerTest, ZeroJiffiesIntervalSkipsCpu) {
  const auto out = run("zero_interval", {"t0", "t1"});
  ASSERT_TRUE(last_status_.ok());
  EXPECT_TRUE(dims(out, "cpu").empty());
  const auto got = by_key(out);
  ASSERT_TRUE(got.count("net_bytes_recv|interface=eth0"));
  EXPECT_EQ(got.at("net_bytes_recv|interface=eth0"), 0.0);
}

TEST_F(ProcSamplerTest, KnownValuesForTwoCpuHost) {
  // Hand-computed from tests/data/proc/two_cpu: the aggregate moved by
  // user 1000 nice 50 system 550 idle 5600 iowait 15 irq 0 softirq 30 steal 7 guest 170 guest_nice 3,
  // total (without guest) 7252.
  const auto got = by_key(run("two_cpu", {"t0", "t1"}));
  EXPECT_NEAR(got.at("cpu_usage_idle|cpu=cpu-total"), 100.0 * 5600 / 7252, 1e-9);
  EXPECT_NEAR(got.at("cpu_usage_user|cpu=cpu-total"), 100.0 * (1000 - 170) / 7252, 1e-9);
  EXPECT_NEAR(got.at("cpu_usage_active|cpu=cpu-total"), 100.0 * (7252 - 5600) / 7252, 1e-9);
  EXPECT_EQ(got.at("mem_total"), 16316412.0 * 1024);
  EXPECT_EQ(got.at("mem_used"), (16316412.0 - 11242000.0) * 1024);
  EXPECT_EQ(got.at("net_bytes_recv|interface=eth0"), 600000.0);
  EXPECT_EQ(got.at("net_packets_sent|interface=eth0"), 200.0);
}

TEST_F(ProcSamplerTest, MemAvailableFallbackAndNoSwap) {
  const auto got = by_key(run("no_memavailable", {"t0"}));
  EXPECT_EQ(got.at("mem_available"), (1834220.0 + 402112 + 9012344) * 1024);
  EXPECT_EQ(got.at("swap_used_percent"), 0.0);
  EXPECT_EQ(got.at("swap_used"), 0.0);
}

TEST_F(ProcSamplerTest, DisabledGroupsAreNotRead) {
  options_.cpu = false;
  options_.memory = false;
  options_.network = false;
  tree_.load("garbage", "t1");  // stat and net/dev are garbage but must not be touched
  tree_.write("meminfo", tests::slurp(tests::proc_fixture("two_cpu", "t0") / "meminfo"));
  ProcSampler sampler(options_);
  std::vector<MetricSample> out;
  ASSERT_TRUE(sampler.sample(kT0, out).ok());
  EXPECT_EQ(names(out), (std::set<std::string>{"swap_used", "swap_free", "swap_used_percent"}));
  EXPECT_EQ(sampler.stats().parse_errors, 0u);
}

TEST_F(ProcSamplerTest, GarbageIsAParseErrorForEachFileAndKeepsGoing) {
  options_.per_cpu = true;
  const auto out = run("garbage", {"t0", "t1"});
  ASSERT_FALSE(last_status_.ok());
  EXPECT_EQ(last_status_.error().code(), common::ErrorCode::kParse);
  EXPECT_NE(last_status_.error().to_string().find("proc sampler: stat"), std::string::npos)
      << last_status_.error().to_string();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(sampler_->stats().parse_errors, 3u);
  EXPECT_EQ(sampler_->stats().read_errors, 0u);

  // Good data again: state from t0 is still there, so deltas resume.
  std::vector<MetricSample> again;
  tree_.load("two_cpu", "t1");
  ASSERT_TRUE(sampler_->sample(kT0 + std::chrono::minutes(2), again).ok());
  EXPECT_EQ(dims(again, "cpu"), (std::set<std::string>{"cpu-total", "cpu0", "cpu1"}));
}

TEST_F(ProcSamplerTest, OneBadFileDoesNotHideTheOthers) {
  tree_.load("two_cpu", "t0");
  tree_.write("meminfo", "nonsense\n");
  ProcSampler sampler(options_);
  std::vector<MetricSample> out;
  ASSERT_TRUE(sampler.sample(kT0, out).ok() == false);
  tree_.load("two_cpu", "t1");
  tree_.write("meminfo", "nonsense\n");
  const common::Status st = sampler.sample(kT0 + std::chrono::minutes(1), out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().to_string().find("meminfo"), std::string::npos);
  EXPECT_EQ(dims(out, "cpu"), (std::set<std::string>{"cpu-total"}));
  EXPECT_EQ(dims(out, "interface"), (std::set<std::string>{"eth0", "docker0"}));
  EXPECT_FALSE(names(out).count("mem_total"));
}

TEST_F(ProcSamplerTest, MissingFilesAreReadErrorsUntilTheyAppear) {
  ProcSampler sampler(options_);
  std::vector<MetricSample> out;
  const common::Status st = sampler.sample(kT0, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), common::ErrorCode::kNotFound);
  EXPECT_EQ(sampler.stats().read_errors, 3u);
  EXPECT_TRUE(out.empty());

  tree_.load("two_cpu", "t0");
  ASSERT_TRUE(sampler.sample(kT0 + std::chrono::minutes(1), out).ok());
  tree_.load("two_cpu", "t1");
  ASSERT_TRUE(sampler.sample(kT0 + std::chrono::minutes(2), out).ok());
  EXPECT_EQ(dims(out, "cpu"), (std::set<std::string>{"cpu-total"}));
  EXPECT_EQ(sampler.stats().read_errors, 3u);
}

TEST(ProcSamplerRealProc, SamplesThisHost) {
  ProcSamplerOptions options;
  options.per_cpu = true;
  options.net_exclude = {};
  ProcSampler sampler(options);
  std::vector<MetricSample> out;
  ASSERT_TRUE(sampler.sample(kT0, out).ok());
  ASSERT_TRUE(sampler.sample(kT0 + std::chrono::seconds(1), out).ok());
  const auto got = by_key(out);
  ASSERT_TRUE(got.count("mem_total"));
  EXPECT_GT(got.at("mem_total"), 0.0);
  EXPECT_NEAR(got.at("mem_used_percent") + got.at("mem_available_percent"), 100.0, 1e-6);
  for (const auto& s : out) {
    if (s.unit == agent::Unit::kPercent && s.name.substr(0, 4) == "cpu_") {
      EXPECT_GE(s.value, -1e-9) << key_of(s);
      EXPECT_LE(s.value, 100.0 + 1e-9) << key_of(s);
    }
  }
}

TEST(UnitName, CloudWatchSpelling) {
  EXPECT_EQ(agent::unit_name(agent::Unit::kNone), "None");
  EXPECT_EQ(agent::unit_name(agent::Unit::kPercent), "Percent");
  EXPECT_EQ(agent::unit_name(agent::Unit::kBytes), "Bytes");
  EXPECT_EQ(agent::unit_name(agent::Unit::kCount), "Count");
  EXPECT_EQ(agent::unit_name(agent::Unit::kSeconds), "Seconds");
  EXPECT_EQ(agent::unit_name(agent::Unit::kBytesPerSecond), "Bytes/Second");
  EXPECT_EQ(agent::unit_name(agent::Unit::kCountPerSecond), "Count/Second");
}

}  // namespace
