// common::aws::parse_imds_credentials (the IMDS role credentials document, JSON). Checks: a success
// has both keys and the document's SecretAccessKey, and no error quotes the secret (see
// credentials_check.h).
#include "common/aws/imds_client.h"
#include "tests/fuzz/credentials_check.h"
#include "tests/fuzz/json_members.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  const tests::fuzz::JsonDoc doc(text);
  tests::fuzz::check_credentials(common::aws::parse_imds_credentials(text), doc.member("SecretAccessKey"),
                                 {doc.member("Expiration"), doc.member("Code"), doc.member("Message")});
  return 0;
}
