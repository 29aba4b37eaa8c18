// common::aws::parse_ini (the ~/.aws/credentials and ~/.aws/config dialect) over arbitrary text,
// then profiles_of() for both file kinds. Checks: keys are lower-case and values trimmed as
// documented, section titles are trimmed with single inner spaces, a parse error names a line
// number and never quotes the input (it may hold a key), and config-file profiles come only from
// "[default]" and "[profile NAME]" sections.
#include <string>

#include "common/aws/shared_config.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

bool trimmed(std::string_view s) { return s.empty() || (!is_space(s.front()) && !is_space(s.back())); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  auto ini = common::aws::parse_ini(text);
  if (!ini.ok()) {
    const std::string message = ini.error().to_string();
    FUZZ_CHECK(message.find("line ") != std::string::npos);
    // The secret marker, when the input holds one, must not leak into the error.
    FUZZ_CHECK(message.find("tw-fuzz-secret") == std::string::npos);
    return 0;
  }
  for (const auto& [title, section] : *ini) {
    FUZZ_CHECK(trimmed(title));
    FUZZ_CHECK(title.find("  ") == std::string::npos);
    for (const auto& [key, value] : section) {
      FUZZ_CHECK(!key.empty());
      for (char c : key) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
      FUZZ_CHECK(trimmed(value));
    }
  }
  const auto creds = common::aws::profiles_of(*ini, common::aws::SharedFileKind::kCredentials);
  FUZZ_CHECK(creds.size() == ini->size());
  const auto config = common::aws::profiles_of(*ini, common::aws::SharedFileKind::kConfig);
  for (const auto& [name, section] : config) {
    const bool from_default = name == "default" && ini->count("default") != 0;
    const bool from_profile = ini->count("profile " + name) != 0;
    FUZZ_CHECK(from_default || from_profile);
  }
  return 0;
}
