// The one classification of an AWS call's result: delivered, retry, refused for good, or a setup
// problem. Every output decides what to do from this class and nothing else (docs/delivery.md).
// Sources of the rows: shared/spec/aws-wire.md §2.5 (PutMetricData), §4.2 (PutAuditEvents), §6
// (SNS Publish), §7 (retry codes), §1.6 (clock skew), and aws-wire-trail-sinks.md §1.5
// (PutLogEvents), §2.4 (PutObject).
#pragma once

#include <string_view>

#include "common/aws/aws_error.h"

namespace common::aws {

enum class DeliveryClass {
  kDelivered,  // accepted (2xx, or a code the spec says to treat as delivered)
  kRetry,      // transient: unreachable, timeout, throttled, 5xx, clock skew, expired credentials
  kRefused,    // this payload can never be accepted: count it, never send it again
  kSetup,      // configuration, permission or resource problem: keep the data, alarm, retry slowly
};

// How the call failed before an HTTP response arrived (kNone: a response arrived).
enum class TransportFailure {
  kNone,
  kNoResponse,     // connect/DNS/TLS failure, reset
  kTimeout,        // no (complete) response within the deadline
  kNoCredentials,  // the request could not be signed
  kLocal,          // cancelled, response too large, local I/O: the payload is not at fault
};

const char* to_string(DeliveryClass c);

// The codes alone: the table's rows, then aws_error.h's throttling / transient / skew / expired-credential
// lists (kRetry); true (and out set) when the code is known, false for an unknown code.
// Used for per-entry codes (PutAuditEvents failed[].errorCode), which carry no HTTP status.
bool classify_aws_code(std::string_view code, DeliveryClass& out);

// The whole rule: transport failure first, then 2xx, then the code table, then the HTTP status
// (429/408/5xx retry, 401/403/404/3xx setup, other 4xx refused).
DeliveryClass classify_aws_error(int http_status, std::string_view code, TransportFailure failure);

// Same, for a parsed error: its clock_skew / expired_credentials flags (set by parse_aws_error
// from the Date header) make it kRetry even when the code alone would say kSetup.
DeliveryClass classify_aws_error(const AwsError& error, TransportFailure failure = TransportFailure::kNone);

}  // namespace common::aws
