// agent::parse_put_audit_events_response (CloudTrail Lake PutAuditEvents 200 body, JSON). Checks:
// the entries equal the document's successful[] and failed[] arrays read independently, and
// classify_lake_failure() retries exactly Throttling and InternalFailure.
#include <nlohmann/json.hpp>

#include "agent/sinks/trail_lake_encoder.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

std::size_t array_size(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_array() ? it->size() : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  const auto result = agent::parse_put_audit_events_response(text);
  if (!result.ok()) return 0;
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(doc.is_object());
  FUZZ_CHECK(result->successful.size() == array_size(doc, "successful"));
  FUZZ_CHECK(result->failed.size() == array_size(doc, "failed"));
  for (std::size_t i = 0; i < result->successful.size(); ++i) {
    FUZZ_CHECK(result->successful[i].id == doc["successful"][i]["id"].get<std::string>());
    FUZZ_CHECK(result->successful[i].event_id == doc["successful"][i]["eventID"].get<std::string>());
  }
  for (std::size_t i = 0; i < result->failed.size(); ++i) {
    const agent::LakeFailure& f = result->failed[i];
    FUZZ_CHECK(f.id == doc["failed"][i]["id"].get<std::string>());
    FUZZ_CHECK(f.error_code == doc["failed"][i]["errorCode"].get<std::string>());
    const bool retry = f.error_code == "Throttling" || f.error_code == "InternalFailure";
    FUZZ_CHECK((agent::classify_lake_failure(f.error_code) == agent::LakeFailureAction::kRetry) == retry);
  }
  return 0;
}
