// parse_proc_stat over arbitrary bytes. Checks: column counts within [kMinCpuColumns,
// kMaxCpuColumns], columns the kernel did not print stay 0, and a successful parse rendered back
// as /proc/stat text parses to the same values (round trip).
#include <string>

#include "agent/parsers/proc_stat.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using agent::CpuTimes;

constexpr uint64_t CpuTimes::*kColumns[] = {&CpuTimes::user,   &CpuTimes::nice,    &CpuTimes::system,
                                            &CpuTimes::idle,   &CpuTimes::iowait,  &CpuTimes::irq,
                                            &CpuTimes::softirq, &CpuTimes::steal, &CpuTimes::guest,
                                            &CpuTimes::guest_nice};

void check_line(const CpuTimes& times, uint8_t columns) {
  FUZZ_CHECK(columns >= agent::kMinCpuColumns && columns <= agent::kMaxCpuColumns);
  for (std::size_t i = columns; i < agent::kMaxCpuColumns; ++i) FUZZ_CHECK(times.*kColumns[i] == 0);
}

void render_line(std::string& out, const std::string& word, const CpuTimes& times, uint8_t columns) {
  out += word;
  for (std::size_t i = 0; i < columns; ++i) {
    out += ' ';
    out += std::to_string(times.*kColumns[i]);
  }
  out += '\n';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  agent::ProcStat stat;
  if (!agent::parse_proc_stat(tests::fuzz::as_text(data, size), stat).ok()) return 0;

  check_line(stat.total, stat.total_columns);
  for (const auto& cpu : stat.cpus) check_line(cpu.times, cpu.columns);

  std::string text;
  render_line(text, "cpu", stat.total, stat.total_columns);
  for (const auto& cpu : stat.cpus) render_line(text, "cpu" + std::to_string(cpu.index), cpu.times, cpu.columns);
  text += "intr 0\n";
  agent::ProcStat again;
  again.cpus.push_back({});  // parse must overwrite what was there
  FUZZ_CHECK(agent::parse_proc_stat(text, again).ok());
  FUZZ_CHECK(again.total == stat.total && again.total_columns == stat.total_columns);
  FUZZ_CHECK(again.cpus.size() == stat.cpus.size());
  for (std::size_t i = 0; i < stat.cpus.size(); ++i) {
    FUZZ_CHECK(again.cpus[i].index == stat.cpus[i].index);
    FUZZ_CHECK(again.cpus[i].times == stat.cpus[i].times);
    FUZZ_CHECK(again.cpus[i].columns == stat.cpus[i].columns);
  }
  return 0;
}
