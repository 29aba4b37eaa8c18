// Shared checks for the credential document parsers (IMDS, STS, credential_process).
#pragma once

#include <string>
#include <string_view>

#include "common/aws/sigv4.h"
#include "common/result/result.h"
#include "tests/fuzz/fuzz_check.h"

namespace tests::fuzz {

// Seeds put this marker inside secret values: an error must never quote it (errors are logged,
// and "never quote the document" is the parsers' promise).
inline constexpr std::string_view kSecretMarker = "tw-fuzz-secret";

inline void check_credentials(const common::Result<common::aws::Credentials>& result) {
  if (!result.ok()) {
    FUZZ_CHECK(result.error().to_string().find(kSecretMarker) == std::string::npos);
    return;
  }
  FUZZ_CHECK(!result->access_key_id.empty());
  FUZZ_CHECK(!result->secret_access_key.empty());
}

}  // namespace tests::fuzz
