// common::aws::parse_sts_credentials (the <Credentials> of an AssumeRole* XML response). Checks: a
// success has both keys, and no error quotes a secret (see credentials_check.h).
#include "common/aws/credentials_providers.h"
#include "tests/fuzz/credentials_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto result = common::aws::parse_sts_credentials(tests::fuzz::as_text(data, size));
  tests::fuzz::check_credentials(result);
  if (result.ok()) FUZZ_CHECK(!result->session_token.empty());  // STS always issues temporary keys
  return 0;
}
