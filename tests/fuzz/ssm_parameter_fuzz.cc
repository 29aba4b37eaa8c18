// common::aws::parse_get_parameter_response (SSM GetParameter 200 body, JSON) and the name helpers
// `--config ssm:NAME` applies to the same bytes. Checks: a parsed value equals Parameter.Value read
// independently; the cache file name of any input is a safe single path component ending in
// "-<8 hex>.yaml"; a name without problems has no control characters.
#include <nlohmann/json.hpp>

#include "common/aws/ssm_parameter.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  const auto parsed = common::aws::parse_get_parameter_response(text);
  if (parsed.ok()) {
    const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(doc.is_object() && doc.contains("Parameter"));
    FUZZ_CHECK(doc["Parameter"]["Value"].get<std::string>() == parsed->value);
  }

  const std::string file = common::aws::ssm_cache_file_name(text);
  FUZZ_CHECK(file.size() >= 14 && file.size() <= 80 + 14);
  FUZZ_CHECK(file.ends_with(".yaml") && file[file.size() - 14] == '-');
  FUZZ_CHECK(file.front() != '.' && file.find('/') == std::string::npos);
  for (char c : file) {
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == '_');
  }
  if (common::aws::ssm_parameter_name_problem(text).empty()) {
    for (char c : text) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20);
    (void)common::aws::encode_get_parameter_request(text);
  }
  (void)common::aws::ssm_region_from_arn(text);
  return 0;
}
