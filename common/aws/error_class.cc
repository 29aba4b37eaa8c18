#include "common/aws/error_class.h"

#include <algorithm>
#include <iterator>

namespace common::aws {
namespace {

struct Row {
  std::string_view code;
  DeliveryClass cls;
};

using enum DeliveryClass;

// One row per code. Codes shared by several APIs appear once; the comment names where they come from.
// A row wins over the retry lists: UnrecognizedClientException and InvalidAccessKeyId are retried once
// by the client after a credential refresh, and are a setup problem when they still come back.
constexpr Row kTable[] = {
    // Treated as delivered.
    {"DataAlreadyAcceptedException", kDelivered},   // PutLogEvents (trail-sinks §1.5)
    {"InvalidSequenceTokenException", kDelivered},  // PutLogEvents (trail-sinks §1.5)
    {"ResourceAlreadyExistsException", kDelivered}, // CreateLogGroup/Stream bootstrap (trail-sinks §1.6)

    // Retry: the client's own code lists (common/aws/aws_error.h: throttling, transient, clock skew,
    // expired credentials) are consulted after this table, so only codes they lack are rows here.
    {"OperationAbortedException", kRetry},    // CreateLogGroup/Stream (trail-sinks §1.6)

    // Setup problems: credentials, permissions, missing resources (keep the data, alarm).
    {"InvalidClientTokenId", kSetup},           // PutMetricData §2.5
    {"MissingAuthenticationToken", kSetup},     // PutMetricData §2.5
    {"IncompleteSignature", kSetup},            // PutMetricData §2.5
    {"AccessDenied", kSetup},                   // PutMetricData §2.5 "AccessDenied*"; PutObject 403 §2.4
    {"AccessDeniedException", kSetup},          // PutMetricData §2.5 "AccessDenied*"
    {"NotAuthorized", kSetup},                  // PutMetricData §2.5
    {"UnrecognizedClientException", kSetup},    // PutLogEvents (trail-sinks §1.5)
    {"ResourceNotFoundException", kSetup},      // PutLogEvents (trail-sinks §1.5): bootstrap, resend
    {"NoSuchBucket", kSetup},                   // PutObject 404 (trail-sinks §2.4)
    {"InvalidAccessKeyId", kSetup},             // S3
    {"InvalidToken", kSetup},                   // S3
    {"AuthorizationHeaderMalformed", kSetup},   // S3 (wrong region)
    {"PermanentRedirect", kSetup},              // S3 (wrong region)
    {"IllegalLocationConstraintException", kSetup},  // S3 (wrong region)
    {"SignatureDoesNotMatch", kSetup},          // possible skew (§1.6): skew only by the Date flag
    {"InvalidSignatureException", kSetup},      // possible skew (§1.6)
    {"AuthFailure", kSetup},                    // possible skew (§1.6)
    {"ChannelNotFound", kSetup},                // PutAuditEvents §4.2
    {"InvalidChannelARN", kSetup},              // PutAuditEvents §4.2
    {"ChannelInsufficientPermission", kSetup},  // PutAuditEvents §4.2
    {"ChannelUnsupportedSchema", kSetup},       // PutAuditEvents §4.2
    {"AccountNotSubscribed", kSetup},           // PutAuditEvents per-entry §4.2
    {"NotFound", kSetup},                       // SNS Publish 404 (§6): topic missing
    {"AuthorizationError", kSetup},             // SNS Publish 403 (§6)
    {"InvalidSecurity", kSetup},                // SNS Publish 403 (§6)
    {"KMSDisabled", kSetup},                    // SNS Publish 400 (§6)
    {"KMSInvalidState", kSetup},                // SNS Publish 400 (§6)
    {"KMSNotFound", kSetup},                    // SNS Publish 400 (§6)
    {"KMSAccessDenied", kSetup},                // SNS Publish 400 (§6)
    {"KMSOptInRequired", kSetup},               // SNS Publish 403 (§6)
    {"KMS.DisabledException", kSetup},          // SSE-KMS (S3/Logs)
    {"KMS.NotFoundException", kSetup},          // SSE-KMS (S3/Logs)

    // Refused for good: the payload itself is wrong.
    {"InvalidParameterValue", kRefused},        // PutMetricData §2.5
    {"MissingParameter", kRefused},             // PutMetricData §2.5
    {"InvalidParameterCombination", kRefused},  // PutMetricData §2.5
    {"InvalidParameterException", kRefused},    // PutLogEvents (trail-sinks §1.5)
    {"InvalidParameter", kRefused},             // SNS Publish 400 (§6)
    {"ParameterValueInvalid", kRefused},        // SNS Publish 400 (§6)
    {"EndpointDisabled", kRefused},             // SNS Publish 400 (§6)
    {"ValidationException", kRefused},          // SNS Publish 400 (§6)
    {"FieldTooLong", kRefused},                 // PutAuditEvents per-entry §4.2
    {"FieldNotFound", kRefused},                // PutAuditEvents per-entry §4.2
    {"InvalidChecksum", kRefused},              // PutAuditEvents per-entry §4.2
    {"InvalidData", kRefused},                  // PutAuditEvents per-entry §4.2
    {"InvalidRecipient", kRefused},             // PutAuditEvents per-entry §4.2
    {"InvalidEventSource", kRefused},           // PutAuditEvents per-entry §4.2
    {"DuplicatedAuditEventId", kRefused},       // PutAuditEvents §4.2
    {"UnsupportedOperationException", kRefused},  // PutAuditEvents §4.2
    {"InvalidDigest", kRefused},                // PutObject 400 (trail-sinks §2.4)
    {"BadDigest", kRefused},                    // PutObject 400 (trail-sinks §2.4)
    {"XAmzContentSHA256Mismatch", kRefused},    // PutObject 400 (trail-sinks §2.4)
    {"EntityTooLarge", kRefused},               // PutObject 400 (trail-sinks §2.4)
};

}  // namespace

const char* to_string(DeliveryClass c) {
  switch (c) {
    case kDelivered: return "delivered";
    case kRetry: return "retry";
    case kRefused: return "refused";
    case kSetup: return "setup";
  }
  return "?";
}

bool classify_aws_code(std::string_view code, DeliveryClass& out) {
  if (code.empty()) return false;
  const auto* it = std::find_if(std::begin(kTable), std::end(kTable), [&](const Row& r) { return r.code == code; });
  if (it != std::end(kTable)) {
    out = it->cls;
    return true;
  }
  // The lists parse_aws_error and the client's retry loop use: one source for what is transient.
  if (is_throttling_code(code) || is_transient_code(code) || is_clock_skew_code(code) ||
      is_expired_credentials_code(code)) {
    out = kRetry;
    return true;
  }
  return false;
}

DeliveryClass classify_aws_error(int http_status, std::string_view code, TransportFailure failure) {
  switch (failure) {
    case TransportFailure::kNone: break;
    case TransportFailure::kNoCredentials: return kSetup;
    case TransportFailure::kNoResponse:
    case TransportFailure::kTimeout:
    case TransportFailure::kLocal: return kRetry;
  }
  if (http_status >= 200 && http_status < 300) return kDelivered;
  if (DeliveryClass c; classify_aws_code(code, c)) return c;
  if (http_status == 429 || http_status == 408 || http_status >= 500) return kRetry;
  if (http_status == 401 || http_status == 403 || http_status == 404 || (http_status >= 300 && http_status < 400))
    return kSetup;
  return kRefused;
}

DeliveryClass classify_aws_error(const AwsError& error, TransportFailure failure) {
  if (failure == TransportFailure::kNone && (error.clock_skew || error.expired_credentials))
    return kRetry;
  return classify_aws_error(error.http_status, error.code, failure);
}

}  // namespace common::aws
