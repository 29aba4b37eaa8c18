// common::append_json_string over arbitrary bytes. Check: it writes exactly what
// nlohmann::json::dump(-1, ' ', false, error_handler_t::replace) writes for the same string (the
// trail renderer relies on the two agreeing byte for byte), and the result parses back.
#include <string>

#include <nlohmann/json.hpp>

#include "common/json/json_writer.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = std::string(tests::fuzz::as_text(data, size));
  std::string ours;
  common::append_json_string(ours, text);
  const std::string theirs = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  FUZZ_CHECK(ours == theirs);
  FUZZ_CHECK(nlohmann::json::accept(ours));
  return 0;
}
