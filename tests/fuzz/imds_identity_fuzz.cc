// common::aws::parse_instance_identity (the IMDS instance identity document, JSON). Checks: a
// success has the instanceId and region it promises, and each field equals the document's string
// member read independently with nlohmann::json.
#include <nlohmann/json.hpp>

#include "common/aws/imds_client.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::string member(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  auto id = common::aws::parse_instance_identity(text);
  if (!id.ok()) return 0;
  FUZZ_CHECK(!id->instance_id.empty() && !id->region.empty());
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(doc.is_object());
  FUZZ_CHECK(id->instance_id == member(doc, "instanceId"));
  FUZZ_CHECK(id->region == member(doc, "region"));
  FUZZ_CHECK(id->availability_zone == member(doc, "availabilityZone"));
  FUZZ_CHECK(id->account_id == member(doc, "accountId"));
  return 0;
}
