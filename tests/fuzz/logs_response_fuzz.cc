// agent::parse_put_log_events_response (CloudWatch Logs PutLogEvents 200 body, JSON). Checks: the
// indexes equal the document's rejectedLogEventsInfo members read independently, and
// rejected_count(n) counts exactly the indexes below n for which rejected() is true, for a few n
// around the indexes (the sink uses both to split a batch).
#include <nlohmann/json.hpp>

#include "agent/sinks/trail_logs_encoder.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void check_index(const nlohmann::json& info, const char* key, const std::optional<int64_t>& got) {
  const auto it = info.is_object() ? info.find(key) : info.end();
  if (!info.is_object() || it == info.end() || it->is_null()) {
    FUZZ_CHECK(!got.has_value());
  } else {
    FUZZ_CHECK(got.has_value() && *got == it->get<int64_t>());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  const auto result = agent::parse_put_log_events_response(text);
  if (!result.ok()) return 0;
  if (text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    FUZZ_CHECK(doc.is_object());
    const auto it = doc.find("rejectedLogEventsInfo");
    const nlohmann::json info = it != doc.end() ? *it : nlohmann::json();
    check_index(info, "tooNewLogEventStartIndex", result->too_new_start);
    check_index(info, "tooOldLogEventEndIndex", result->too_old_end);
    check_index(info, "expiredLogEventEndIndex", result->expired_end);
  } else {
    FUZZ_CHECK(!result->any());
  }

  std::vector<std::size_t> sizes = {0, 1, 2, 17, 10000};
  for (const auto& index : {result->too_new_start, result->too_old_end, result->expired_end}) {
    if (index && *index >= 0 && *index < 20000) {
      sizes.push_back(static_cast<std::size_t>(*index));
      sizes.push_back(static_cast<std::size_t>(*index) + 1);
    }
  }
  for (const std::size_t n : sizes) {
    std::size_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) expected += result->rejected(i) ? 1 : 0;
    FUZZ_CHECK(result->rejected_count(n) == expected);
  }
  if (!result->any()) FUZZ_CHECK(result->rejected_count(10000) == 0);
  return 0;
}
