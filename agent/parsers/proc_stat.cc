#include "agent/parsers/proc_stat.h"

#include <array>
#include <string>

#include "agent/parsers/proc_text.h"

namespace agent {
namespace {

constexpr std::array<uint64_t CpuTimes::*, kMaxCpuColumns> kColumns = {
    &CpuTimes::user,    &CpuTimes::nice,  &CpuTimes::system, &CpuTimes::idle,
    &CpuTimes::iowait,  &CpuTimes::irq,   &CpuTimes::softirq, &CpuTimes::steal,
    &CpuTimes::guest,   &CpuTimes::guest_nice};

common::Error parse_error(std::size_t line_number, std::string_view what) {
  std::string message = "/proc/stat line ";
  message += std::to_string(line_number);
  message += ": ";
  message += what;
  return common::Error(common::ErrorCode::kParse, std::move(message));
}

// Parses the numbers after the "cpu"/"cpuN" word.
common::Status parse_columns(std::string_view rest, std::size_t line_number, CpuTimes& times,
                             uint8_t& columns) {
  times = CpuTimes{};
  std::size_t count = 0;
  for (std::string_view token = proc_text::next_token(rest); !token.empty();
       token = proc_text::next_token(rest)) {
    uint64_t value = 0;
    if (!proc_text::parse_u64(token, value)) return parse_error(line_number, "bad number in cpu line");
    if (count < kMaxCpuColumns) times.*kColumns[count] = value;
    ++count;
  }
  if (count < kMinCpuColumns) return parse_error(line_number, "cpu line has fewer than 4 columns");
  columns = static_cast<uint8_t>(count < kMaxCpuColumns ? count : kMaxCpuColumns);
  return {};
}

}  // namespace

common::Status parse_proc_stat(std::string_view text, ProcStat& out) {
  out.total = CpuTimes{};
  out.total_columns = 0;
  out.cpus.clear();
  bool have_total = false;

  std::string_view rest = text;
  std::string_view line;
  std::size_t line_number = 0;
  while (proc_text::next_line(rest, line)) {
    ++line_number;
    std::string_view fields = line;
    const std::string_view word = proc_text::next_token(fields);
    if (word.substr(0, 3) != "cpu") continue;
    if (word.size() == 3) {
      if (have_total) return parse_error(line_number, "second aggregate cpu line");
      TW_TRY(parse_columns(fields, line_number, out.total, out.total_columns));
      have_total = true;
      continue;
    }
    uint64_t index = 0;
    if (!proc_text::parse_u64(word.substr(3), index) || index > UINT32_MAX) {
      return parse_error(line_number, "bad cpu name");
    }
    CpuStatLine& cpu = out.cpus.emplace_back();
    cpu.index = static_cast<uint32_t>(index);
    TW_TRY(parse_columns(fields, line_number, cpu.times, cpu.columns));
  }
  if (!have_total) {
    return common::Error(common::ErrorCode::kParse, "/proc/stat: no aggregate cpu line");
  }
  return {};
}

}  // namespace agent
