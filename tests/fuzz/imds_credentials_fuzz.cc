// common::aws::parse_imds_credentials (the IMDS role credentials document, JSON). Checks: a success
// has both keys, and no error quotes a secret (see credentials_check.h).
#include "common/aws/imds_client.h"
#include "tests/fuzz/credentials_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tests::fuzz::check_credentials(common::aws::parse_imds_credentials(tests::fuzz::as_text(data, size)));
  return 0;
}
