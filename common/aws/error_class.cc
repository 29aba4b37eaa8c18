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
constexpr Row kTable[] = {
    // Treated as delivered.
    {"DataAlreadyAcceptedException", kDelivered},   // PutLogEvents (trail-sinks §1.5)
    {"InvalidSequenceTokenException", kDelivered},  // PutLogEvents (trail-sinks §1.5)
    {"ResourceAlreadyExistsException", kDelivered}, // CreateLogGroup/Stream bootstrap (trail-sinks §1.6)

    // Throttling (aws-wire §7 botocore list, plus the services' own).
    {"Throttling", kRetry},            // PutMetricData §2.5; PutAuditEvents per-entry §4.2
    {"ThrottlingException", kRetry},   // PutLogEvents (trail-sinks §1.5)
    {"ThrottledException", kRetry},
    {"RequestThrottledException", kRetry},
    {"TooManyRequestsException", kRetry},
    {"ProvisionedThroughputExceededException", kRetry},
    {"TransactionInProgressException", kRetry},
    {"RequestLimitExceeded", kRetry},
    {"BandwidthLimitExceeded", kRetry},
    {"LimitExceededException", kRetry},
    {"RequestThrottled", kRetry},
    {"SlowDown", kRetry},              // PutObject 503 (trail-sinks §2.4)
    {"EC2ThrottledException", kRetry},
    {"Throttled", kRetry},             // SNS Publish 429 (§6)
    {"KMSThrottling", kRetry},         // SNS Publish 400 (§6)
    // Transient (aws-wire §7).
    {"RequestTimeout", kRetry},
    {"RequestTimeoutException", kRetry},
    {"PriorRequestNotComplete", kRetry},
    {"IDPCommunicationError", kRetry},        // STS (aws-wire §5: treat as transient)
    {"InternalFailure", kRetry},              // PutMetricData §2.5; PutAuditEvents per-entry §4.2
    {"InternalServiceError", kRetry},         // PutMetricData §2.5
    {"ServiceUnavailable", kRetry},           // PutMetricData §2.5
    {"ServiceUnavailableException", kRetry},  // PutLogEvents (trail-sinks §1.5)
    {"InternalError", kRetry},                // PutObject 500 (trail-sinks §2.4); SNS Publish 500 (§6)
    {"OperationAbortedException", kRetry},    // CreateLogGroup/Stream (trail-sinks §1.6)
    // Clock skew, definite (aws-wire §1.6): the client stores the offset and re-signs.
    {"RequestTimeTooSkewed", kRetry},  // PutObject 403 (trail-sinks §2.4)
    {"RequestExpired", kRetry},
    {"RequestInTheFuture", kRetry},
    // Expired credentials (aws-wire §2.5 "ExpiredToken*"): refresh and retry.
    {"ExpiredToken", kRetry},
    {"ExpiredTokenException", kRetry},

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
  if (it == std::end(kTable)) return false;
  out = it->cls;
  return true;
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
