// The one delivery classification (common/aws/error_class.h), row by row: every error code that
// shared/spec lists for PutMetricData, PutAuditEvents, PutLogEvents, PutObject and SNS Publish,
// with the HTTP status the spec gives, plus status-only answers and transport failures.
#include "common/aws/error_class.h"

#include <gtest/gtest.h>

#include <string>

#include "common/aws/aws_client.h"

namespace common::aws {
namespace {

using enum DeliveryClass;

struct Case {
  const char* where;  // spec section the row comes from
  int status;
  const char* code;
  DeliveryClass want;
};

constexpr Case kSpecRows[] = {
    // PutMetricData: aws-wire.md §2.5
    {"aws-wire §2.5 PutMetricData", 400, "InvalidParameterValue", kRefused},
    {"aws-wire §2.5 PutMetricData", 400, "MissingParameter", kRefused},
    {"aws-wire §2.5 PutMetricData", 400, "InvalidParameterCombination", kRefused},
    {"aws-wire §2.5 PutMetricData", 400, "Throttling", kRetry},
    {"aws-wire §2.5 PutMetricData", 500, "InternalServiceError", kRetry},
    {"aws-wire §2.5 PutMetricData", 500, "InternalFailure", kRetry},
    {"aws-wire §2.5 PutMetricData", 503, "ServiceUnavailable", kRetry},
    {"aws-wire §2.5 PutMetricData", 403, "InvalidClientTokenId", kSetup},
    {"aws-wire §2.5 PutMetricData", 403, "MissingAuthenticationToken", kSetup},
    {"aws-wire §2.5 PutMetricData", 403, "IncompleteSignature", kSetup},
    {"aws-wire §2.5 PutMetricData", 403, "AccessDenied", kSetup},
    {"aws-wire §2.5 PutMetricData", 400, "AccessDeniedException", kSetup},
    {"aws-wire §2.5 PutMetricData", 403, "NotAuthorized", kSetup},
    {"aws-wire §2.5 PutMetricData", 400, "ExpiredToken", kRetry},
    {"aws-wire §2.5 PutMetricData", 400, "ExpiredTokenException", kRetry},
    // Clock skew codes: aws-wire.md §1.6 (definite ones retry; possible ones are setup unless the
    // Date header showed a gap, see ParsedSkewFlagRetries).
    {"aws-wire §1.6 skew", 403, "RequestTimeTooSkewed", kRetry},
    {"aws-wire §1.6 skew", 400, "RequestExpired", kRetry},
    {"aws-wire §1.6 skew", 400, "RequestInTheFuture", kRetry},
    {"aws-wire §1.6 skew", 403, "SignatureDoesNotMatch", kSetup},
    {"aws-wire §1.6 skew", 400, "InvalidSignatureException", kSetup},
    {"aws-wire §1.6 skew", 401, "AuthFailure", kSetup},
    // PutAuditEvents request errors: aws-wire.md §4.2 (status unconfirmed, expect 400)
    {"aws-wire §4.2 PutAuditEvents", 400, "ChannelInsufficientPermission", kSetup},
    {"aws-wire §4.2 PutAuditEvents", 400, "ChannelNotFound", kSetup},
    {"aws-wire §4.2 PutAuditEvents", 400, "InvalidChannelARN", kSetup},
    {"aws-wire §4.2 PutAuditEvents", 400, "ChannelUnsupportedSchema", kSetup},
    {"aws-wire §4.2 PutAuditEvents", 400, "DuplicatedAuditEventId", kRefused},
    {"aws-wire §4.2 PutAuditEvents", 400, "UnsupportedOperationException", kRefused},
    // PutAuditEvents per-entry failed[].errorCode: aws-wire.md §4.2 (no status: 200 overall)
    {"aws-wire §4.2 per-entry", 0, "FieldTooLong", kRefused},
    {"aws-wire §4.2 per-entry", 0, "FieldNotFound", kRefused},
    {"aws-wire §4.2 per-entry", 0, "InvalidChecksum", kRefused},
    {"aws-wire §4.2 per-entry", 0, "InvalidData", kRefused},
    {"aws-wire §4.2 per-entry", 0, "InvalidRecipient", kRefused},
    {"aws-wire §4.2 per-entry", 0, "InvalidEventSource", kRefused},
    {"aws-wire §4.2 per-entry", 0, "AccountNotSubscribed", kSetup},
    {"aws-wire §4.2 per-entry", 0, "Throttling", kRetry},
    {"aws-wire §4.2 per-entry", 0, "InternalFailure", kRetry},
    // PutLogEvents: aws-wire-trail-sinks.md §1.5
    {"trail-sinks §1.5 PutLogEvents", 400, "ResourceNotFoundException", kSetup},
    {"trail-sinks §1.5 PutLogEvents", 400, "InvalidParameterException", kRefused},
    {"trail-sinks §1.5 PutLogEvents", 400, "DataAlreadyAcceptedException", kDelivered},
    {"trail-sinks §1.5 PutLogEvents", 400, "InvalidSequenceTokenException", kDelivered},
    {"trail-sinks §1.5 PutLogEvents", 400, "ThrottlingException", kRetry},
    {"trail-sinks §1.5 PutLogEvents", 500, "ServiceUnavailableException", kRetry},
    {"trail-sinks §1.5 PutLogEvents", 400, "UnrecognizedClientException", kSetup},
    // PutObject: aws-wire-trail-sinks.md §2.4
    {"trail-sinks §2.4 PutObject", 403, "AccessDenied", kSetup},
    {"trail-sinks §2.4 PutObject", 404, "NoSuchBucket", kSetup},
    {"trail-sinks §2.4 PutObject", 503, "SlowDown", kRetry},
    {"trail-sinks §2.4 PutObject", 500, "InternalError", kRetry},
    {"trail-sinks §2.4 PutObject", 403, "RequestTimeTooSkewed", kRetry},
    {"trail-sinks §2.4 PutObject", 400, "InvalidDigest", kRefused},
    {"trail-sinks §2.4 PutObject", 400, "BadDigest", kRefused},
    {"trail-sinks §2.4 PutObject", 400, "XAmzContentSHA256Mismatch", kRefused},
    {"trail-sinks §2.4 PutObject", 400, "EntityTooLarge", kRefused},
    // SNS Publish: aws-wire.md §6
    {"aws-wire §6 Publish", 400, "InvalidParameter", kRefused},
    {"aws-wire §6 Publish", 400, "ParameterValueInvalid", kRefused},
    {"aws-wire §6 Publish", 404, "NotFound", kSetup},
    {"aws-wire §6 Publish", 403, "AuthorizationError", kSetup},
    {"aws-wire §6 Publish", 403, "InvalidSecurity", kSetup},
    {"aws-wire §6 Publish", 400, "EndpointDisabled", kRefused},
    {"aws-wire §6 Publish", 400, "KMSDisabled", kSetup},
    {"aws-wire §6 Publish", 400, "KMSInvalidState", kSetup},
    {"aws-wire §6 Publish", 400, "KMSNotFound", kSetup},
    {"aws-wire §6 Publish", 400, "KMSAccessDenied", kSetup},
    {"aws-wire §6 Publish", 403, "KMSOptInRequired", kSetup},
    {"aws-wire §6 Publish", 400, "ValidationException", kRefused},
    {"aws-wire §6 Publish", 429, "Throttled", kRetry},
    {"aws-wire §6 Publish", 400, "KMSThrottling", kRetry},
    {"aws-wire §6 Publish", 500, "InternalError", kRetry},
    // Transient and throttling codes of aws-wire.md §7 that no row above names.
    {"aws-wire §7", 400, "RequestTimeout", kRetry},
    {"aws-wire §7", 400, "RequestTimeoutException", kRetry},
    {"aws-wire §7", 400, "PriorRequestNotComplete", kRetry},
    {"aws-wire §7", 400, "TooManyRequestsException", kRetry},
    {"aws-wire §7", 400, "RequestLimitExceeded", kRetry},
    {"aws-wire §7", 400, "LimitExceededException", kRetry},
};

TEST(ErrorClass, EverySpecCodeHasItsRow) {
  for (const Case& c : kSpecRows) {
    DeliveryClass by_code{};
    EXPECT_TRUE(classify_aws_code(c.code, by_code)) << c.where << ": " << c.code << " has no row";
    EXPECT_EQ(by_code, c.want) << c.where << ": " << c.code << " -> " << to_string(by_code);
    EXPECT_EQ(classify_aws_error(c.status, c.code, TransportFailure::kNone), c.want)
        << c.where << ": " << c.status << " " << c.code;
  }
}

TEST(ErrorClass, StatusOnlyAnswers) {
  EXPECT_EQ(classify_aws_error(200, "", TransportFailure::kNone), kDelivered);
  EXPECT_EQ(classify_aws_error(204, "", TransportFailure::kNone), kDelivered);
  EXPECT_EQ(classify_aws_error(429, "", TransportFailure::kNone), kRetry);
  EXPECT_EQ(classify_aws_error(408, "", TransportFailure::kNone), kRetry);
  for (int s : {500, 502, 503, 504, 599}) EXPECT_EQ(classify_aws_error(s, "", TransportFailure::kNone), kRetry) << s;
  for (int s : {301, 307, 401, 403, 404}) EXPECT_EQ(classify_aws_error(s, "", TransportFailure::kNone), kSetup) << s;
  for (int s : {400, 413, 422}) EXPECT_EQ(classify_aws_error(s, "", TransportFailure::kNone), kRefused) << s;
  // An unknown code falls back to the status.
  EXPECT_EQ(classify_aws_error(503, "SomethingNew", TransportFailure::kNone), kRetry);
  EXPECT_EQ(classify_aws_error(400, "SomethingNew", TransportFailure::kNone), kRefused);
  DeliveryClass c{};
  EXPECT_FALSE(classify_aws_code("SomethingNew", c));
  EXPECT_FALSE(classify_aws_code("", c));
}

TEST(ErrorClass, TransportFailures) {
  EXPECT_EQ(classify_aws_error(0, "", TransportFailure::kTimeout), kRetry);
  EXPECT_EQ(classify_aws_error(0, "", TransportFailure::kNoResponse), kRetry);
  EXPECT_EQ(classify_aws_error(0, "", TransportFailure::kLocal), kRetry);
  EXPECT_EQ(classify_aws_error(0, "", TransportFailure::kNoCredentials), kSetup);
  // The failure kind wins over anything left in the status/code fields.
  EXPECT_EQ(classify_aws_error(400, "InvalidParameterValue", TransportFailure::kTimeout), kRetry);
}

TEST(ErrorClass, ParsedSkewAndCredentialFlagsRetry) {
  AwsError e;
  e.http_status = 403;
  e.code = "SignatureDoesNotMatch";
  EXPECT_EQ(classify_aws_error(e), kSetup);
  e.clock_skew = true;  // parse_aws_error saw a Date gap > 4 min
  EXPECT_EQ(classify_aws_error(e), kRetry);
  AwsError u;
  u.http_status = 400;
  u.code = "UnrecognizedClientException";
  u.expired_credentials = true;
  EXPECT_EQ(classify_aws_error(u), kRetry);
}

TEST(ErrorClass, CallErrorsMapTheirTransportCode) {
  AwsCallError timeout;
  timeout.transport = true;
  timeout.transport_code = common::ErrorCode::kTimeout;
  EXPECT_EQ(transport_failure_of(timeout), TransportFailure::kTimeout);
  EXPECT_EQ(classify(timeout), kRetry);
  AwsCallError reset;
  reset.transport = true;
  reset.transport_code = common::ErrorCode::kNetwork;
  EXPECT_EQ(transport_failure_of(reset), TransportFailure::kNoResponse);
  EXPECT_EQ(classify(reset), kRetry);
  AwsCallError no_creds;
  no_creds.transport = true;
  no_creds.transport_code = common::ErrorCode::kPermissionDenied;
  EXPECT_EQ(classify(no_creds), kSetup);
  AwsCallError throttled;  // HTTP 429 without a code: retried (issue 11: metrics used to drop it)
  throttled.error.http_status = 429;
  EXPECT_EQ(transport_failure_of(throttled), TransportFailure::kNone);
  EXPECT_EQ(classify(throttled), kRetry);
  AwsCallError bad;
  bad.error.http_status = 400;
  bad.error.code = "InvalidParameterValue";
  EXPECT_EQ(classify(bad), kRefused);
}

}  // namespace
}  // namespace common::aws
