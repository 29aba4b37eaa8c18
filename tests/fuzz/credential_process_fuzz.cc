// common::aws::parse_credential_process_output (credential_process stdout, JSON Version 1).
// Checks: a success has both keys (the document's SecretAccessKey) and came from a document with
// "Version": 1, and no error quotes the secret (see credentials_check.h).
#include "common/aws/credentials_process.h"
#include "tests/fuzz/credentials_check.h"
#include "tests/fuzz/json_members.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  const tests::fuzz::JsonDoc doc(text);
  const auto result = common::aws::parse_credential_process_output(text);
  tests::fuzz::check_credentials(result, doc.member("SecretAccessKey"), {doc.member("Expiration")});
  if (result.ok()) {
    FUZZ_CHECK(doc.doc.is_object());
    const auto version = doc.doc.find("Version");
    FUZZ_CHECK(version != doc.doc.end() && version->is_number_integer() && version->get<long long>() == 1);
  }
  return 0;
}
