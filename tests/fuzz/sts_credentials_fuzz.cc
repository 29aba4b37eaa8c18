// common::aws::parse_sts_credentials (the <Credentials> of an AssumeRole* XML response). Checks: a
// success has both keys (the secret being the <SecretAccessKey> read with xml_tag_text) and a
// session token, and no error quotes the secret (see credentials_check.h).
#include "common/aws/aws_error.h"
#include "common/aws/credentials_providers.h"
#include "tests/fuzz/credentials_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = tests::fuzz::as_text(data, size);
  const std::size_t at = text.find("<Credentials>");
  const std::string_view block = at == std::string_view::npos ? std::string_view() : text.substr(at);
  const std::string secret = common::aws::xml_tag_text(block, "SecretAccessKey").value_or("");
  const std::string expiration = common::aws::xml_tag_text(block, "Expiration").value_or("");
  const auto result = common::aws::parse_sts_credentials(text);
  tests::fuzz::check_credentials(result, secret, {expiration});
  if (result.ok()) FUZZ_CHECK(!result->session_token.empty());  // STS always issues temporary keys
  return 0;
}
