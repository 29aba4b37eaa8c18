// Small helpers shared by the credential providers: AWS timestamps, redaction-safe descriptions.
#pragma once

#include <string>
#include <string_view>

#include "common/aws/sigv4.h"
#include "common/clock/clock.h"
#include "common/result/result.h"

namespace common::aws {

// "2020-11-05T02:02:26Z", with optional fractional seconds and a 'Z' or "+00:00" offset; also accepts
// an integer epoch in seconds (credential_process documents from some tools). kParse otherwise.
[[nodiscard]] common::Result<common::WallTime> parse_aws_timestamp(std::string_view text);

// "AKIA****" style: the first 4 characters of an access key id and a count, for logs. Never the secret.
std::string describe_key(const Credentials& creds);

// Form-encodes one query parameter value (application/x-www-form-urlencoded as STS wants: SigV4 UriEncode).
std::string form_value(std::string_view value);

}  // namespace common::aws
