// common::aws::parse_credential_process_output (credential_process stdout, JSON Version 1).
// Checks: a success has both keys and came from a document with "Version": 1, and no error quotes
// a secret (see credentials_check.h).
#include <nlohmann/json.hpp>

#include "common/aws/credentials_process.h"
#include "tests/fuzz/credentials_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  const auto result = common::aws::parse_credential_process_output(text);
  tests::fuzz::check_credentials(result);
  if (result.ok()) {
    const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(doc.is_object());
    const auto version = doc.find("Version");
    FUZZ_CHECK(version != doc.end() && version->is_number_integer() && version->get<long long>() == 1);
  }
  return 0;
}
