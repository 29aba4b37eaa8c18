// Parsing and classifying AWS error responses for the protocols trailwatch speaks:
// query (CloudWatch, SNS, STS), S3 REST-XML, and JSON (awsJson1_x / rest-json: Logs, CloudTrail Data).
// Tables: shared/spec/aws-wire.md §1.6, §2.5, §3.1, §6, §7 and aws-wire-trail-sinks.md §1.5, §2.4.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock/clock.h"
#include "common/http/http_types.h"

namespace common::aws {

struct AwsError {
  int http_status = 0;
  std::string code;        // e.g. "Throttling"; empty when the response carried none
  std::string message;
  std::string request_id;
  bool retryable = false;  // throttling or transient: retry with backoff
  bool throttling = false;
  bool clock_skew = false;           // fix the clock offset (Date header), re-sign, retry once
  bool expired_credentials = false;  // refresh credentials, re-sign, retry once

  // "http 400 Throttling: Rate exceeded (request id ...)".
  std::string to_string() const;
};

// Never fails: an unparseable body yields an error classified from the HTTP status alone.
// With local_now, the "possible skew" codes (SignatureDoesNotMatch, InvalidSignatureException,
// AuthFailure) count as clock skew when the response's Date header is > 4 minutes away from it.
AwsError parse_aws_error(const common::http::Response& response,
                         std::optional<common::WallTime> local_now = std::nullopt);

// Classification tables, exposed for callers that get a code from elsewhere (per-entry failures).
bool is_throttling_code(std::string_view code);
bool is_transient_code(std::string_view code);
bool is_clock_skew_code(std::string_view code);           // definite skew codes
bool is_possible_clock_skew_code(std::string_view code);  // skew only if the Date gap is large
bool is_expired_credentials_code(std::string_view code);
bool is_retryable_status(int http_status);                // 500, 502, 503, 504 (429 is throttling)

// Minimal tolerant XML helper: the text of the first <tag>...</tag> (or <ns:tag>) in xml, with
// the five predefined entities and numeric references decoded; nullopt if absent.
// Why not an XML library: AWS error and result documents are tiny, flat and machine-generated,
// we read at most a handful of leaf elements, and pulling in a DOM parser (libxml2 is not among
// the project's dependencies) would add attack surface to a path fed by the network.
std::optional<std::string> xml_tag_text(std::string_view xml, std::string_view tag);

}  // namespace common::aws
