// parse_proc_net_dev over arbitrary bytes. Checks: every name is 1..15 bytes without blanks and
// is a view into the input; a successful parse rendered back in the kernel's layout parses to
// the same names and counters (round trip).
#include <functional>
#include <string>

#include "agent/parsers/proc_net_dev.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = tests::fuzz::as_text(data, size);
  agent::ProcNetDev dev;
  if (!agent::parse_proc_net_dev(input, dev).ok()) return 0;

  const std::less<const char*> before;
  for (const auto& entry : dev.interfaces) {
    FUZZ_CHECK(!entry.name.empty() && entry.name.size() <= agent::kMaxInterfaceNameLength);
    FUZZ_CHECK(entry.name.find_first_of(" \t\n") == std::string_view::npos);
    FUZZ_CHECK(!before(entry.name.data(), input.data()) &&
               !before(input.data() + input.size(), entry.name.data() + entry.name.size()));
  }

  std::string text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
      "carrier compressed\n";
  for (const auto& entry : dev.interfaces) {
    const auto& c = entry.counters;
    text += std::string(entry.name) + ": " + std::to_string(c.rx_bytes) + " " + std::to_string(c.rx_packets) + " " +
            std::to_string(c.rx_errs) + " " + std::to_string(c.rx_drop) + " 1 2 3 4 " + std::to_string(c.tx_bytes) +
            " " + std::to_string(c.tx_packets) + " " + std::to_string(c.tx_errs) + " " +
            std::to_string(c.tx_drop) + " 5 6 7 8\n";
  }
  agent::ProcNetDev again;
  FUZZ_CHECK(agent::parse_proc_net_dev(text, again).ok());
  FUZZ_CHECK(again.interfaces.size() == dev.interfaces.size());
  for (std::size_t i = 0; i < dev.interfaces.size(); ++i) {
    FUZZ_CHECK(again.interfaces[i].name == dev.interfaces[i].name);
    FUZZ_CHECK(again.interfaces[i].counters == dev.interfaces[i].counters);
  }
  return 0;
}
