#include "agent/parsers/proc_net_dev.h"

#include <string>

#include "agent/parsers/proc_text.h"

namespace agent {
namespace {

common::Error parse_error(std::size_t line_number, std::string_view what) {
  std::string message = "/proc/net/dev line ";
  message += std::to_string(line_number);
  message += ": ";
  message += what;
  return common::Error(common::ErrorCode::kParse, std::move(message));
}

}  // namespace

common::Status parse_proc_net_dev(std::string_view text, ProcNetDev& out) {
  out.interfaces.clear();

  std::string_view rest = text;
  std::string_view line;
  std::size_t line_number = 0;
  while (proc_text::next_line(rest, line)) {
    ++line_number;
    if (line_number <= 2) {
      if (line.find('|') == std::string_view::npos) return parse_error(line_number, "expected a header line");
      continue;
    }
    if (proc_text::trim(line).empty()) continue;
    const std::size_t colon = line.rfind(':');
    if (colon == std::string_view::npos) return parse_error(line_number, "expected 'name: counters'");
    const std::string_view name = proc_text::trim_left(line.substr(0, colon));
    if (name.empty() || name.size() > kMaxInterfaceNameLength) return parse_error(line_number, "bad interface name");
    for (char c : name) {
      if (proc_text::is_blank(c)) return parse_error(line_number, "blank in interface name");
    }

    uint64_t values[kNetDevColumns] = {};
    std::string_view fields = line.substr(colon + 1);
    std::size_t count = 0;
    for (std::string_view token = proc_text::next_token(fields); !token.empty();
         token = proc_text::next_token(fields)) {
      uint64_t value = 0;
      if (!proc_text::parse_u64(proc_text::trim(token), value)) return parse_error(line_number, "bad counter");
      if (count < kNetDevColumns) values[count] = value;
      ++count;
    }
    if (count < kNetDevColumns) return parse_error(line_number, "fewer than 16 counters");

    NetDevEntry& entry = out.interfaces.emplace_back();
    entry.name = name;
    // Receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes
    // packets errs drop fifo colls carrier compressed.
    entry.counters.rx_bytes = values[0];
    entry.counters.rx_packets = values[1];
    entry.counters.rx_errs = values[2];
    entry.counters.rx_drop = values[3];
    entry.counters.tx_bytes = values[8];
    entry.counters.tx_packets = values[9];
    entry.counters.tx_errs = values[10];
    entry.counters.tx_drop = values[11];
  }
  if (line_number < 2) return parse_error(line_number + 1, "expected a header line");
  return {};
}

}  // namespace agent
