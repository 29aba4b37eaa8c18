// parse_proc_meminfo over arbitrary bytes. Checks: without MemAvailable, available is exactly
// free + buffers + cached; a successful parse rendered back as "Key: bytes" lines parses to the
// same values (round trip).
#include <string>

#include "agent/parsers/proc_meminfo.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool same(const agent::MemInfo& a, const agent::MemInfo& b) {
  return a.total == b.total && a.free == b.free && a.available == b.available && a.buffers == b.buffers &&
         a.cached == b.cached && a.active == b.active && a.inactive == b.inactive && a.swap_total == b.swap_total &&
         a.swap_free == b.swap_free && a.swap_cached == b.swap_cached && a.slab == b.slab &&
         a.sreclaimable == b.sreclaimable && a.has_available == b.has_available;
}

void put(std::string& out, const char* key, uint64_t value) {
  out += key;
  out += ":   ";
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  agent::MemInfo info;
  if (!agent::parse_proc_meminfo(tests::fuzz::as_text(data, size), info).ok()) return 0;

  if (!info.has_available) FUZZ_CHECK(info.available == info.free + info.buffers + info.cached);

  std::string text;
  put(text, "MemTotal", info.total);
  put(text, "MemFree", info.free);
  if (info.has_available) put(text, "MemAvailable", info.available);
  put(text, "Buffers", info.buffers);
  put(text, "Cached", info.cached);
  put(text, "SwapCached", info.swap_cached);
  put(text, "Active", info.active);
  put(text, "Inactive", info.inactive);
  put(text, "SwapTotal", info.swap_total);
  put(text, "SwapFree", info.swap_free);
  put(text, "Slab", info.slab);
  put(text, "SReclaimable", info.sreclaimable);
  put(text, "HugePages_Total", 0);
  agent::MemInfo again;
  again.has_available = true;  // parse must overwrite what was there
  FUZZ_CHECK(agent::parse_proc_meminfo(text, again).ok());
  FUZZ_CHECK(same(info, again));
  return 0;
}
