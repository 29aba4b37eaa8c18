// Shared checks for the credential document parsers (IMDS, STS, credential_process).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/aws/sigv4.h"
#include "common/result/result.h"
#include "tests/fuzz/fuzz_check.h"

namespace tests::fuzz {

// Seeds put this marker inside secret values.
inline constexpr std::string_view kSecretMarker = "tw-fuzz-secret";

// `secret` is the document's SecretAccessKey read independently by the target; `quotable` are the
// values an error may legitimately quote (Expiration, Code, Message). An error must not quote the
// secret ("never quote the document": errors get logged) unless it also is one of those.
inline void check_credentials(const common::Result<common::aws::Credentials>& result, std::string_view secret,
                              std::initializer_list<std::string_view> quotable) {
  if (!result.ok()) {
    // Only secrets holding the seeds' marker count: others can match fixed message text by chance.
    if (secret.find(kSecretMarker) == std::string_view::npos) return;
    for (std::string_view q : quotable) {
      if (q.find(secret) != std::string_view::npos) return;
    }
    FUZZ_CHECK(result.error().to_string().find(secret) == std::string::npos);
    return;
  }
  FUZZ_CHECK(!result->access_key_id.empty());
  FUZZ_CHECK(!result->secret_access_key.empty());
  FUZZ_CHECK(result->secret_access_key == secret);
}

}  // namespace tests::fuzz
