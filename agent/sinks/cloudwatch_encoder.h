// PutMetricData in the query protocol: encoding, validation and packing into requests.
// Pure functions; the CloudWatch sink signs and sends the bodies pack_requests() returns.
// Spec: shared/spec/aws-wire.md §2 (fields, limits, gzip rule).
//
//   std::vector<cloudwatch::Datum> datums = aggregator.flush(now);
//   cloudwatch::PackStats stats;
//   for (const cloudwatch::PackedRequest& r : cloudwatch::pack_requests("CWAgent", datums, now, &stats))
//     send(r.wire_body(), r.compressed() ? "gzip" : "");   // Content-Encoding
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sinks/cloudwatch_datum.h"
#include "common/clock/clock.h"
#include "common/result/result.h"

namespace agent::cloudwatch {

// ---- encoding --------------------------------------------------------------------------------

// Appends the query-protocol form body to `out` (not cleared):
// "Action=PutMetricData&Version=2010-08-01&Namespace=<ns>&MetricData.member.1.MetricName=..."
// Members are numbered from 1 in span order; values are URI-encoded (RFC 3986 unreserved bytes
// kept, everything else %XX uppercase, space = %20); doubles use the shortest text that reads
// back to the same double; timestamps are ISO-8601 UTC ("2026-11-24T05:12:00Z", millis only
// when non-zero). Counts are written only when some count is not 1 (the API's default).
// Does not validate or split: callers pass datums that pack_requests() would accept.
void encode_put_metric_data(std::string_view metric_namespace, std::span<const Datum> datums, std::string& out);

// The body prefix (Action, Version, Namespace) that every request starts with.
void append_request_header(std::string_view metric_namespace, std::string& out);

// Appends "&MetricData.member.<index>.<...>" for one datum (index is 1-based).
void append_datum(const Datum& datum, std::size_t index, std::string& out);

// Bytes append_datum() would add for this datum at this member index.
std::size_t encoded_datum_size(const Datum& datum, std::size_t index);

// URI-encodes `in` onto `out` (same rules as common::aws::uri_encode with encode_slash = true).
void append_uri_encoded(std::string_view in, std::string& out);

// Shortest round-trip text of a finite double ("12.5", "1e+21", "0.1").
void append_double(double value, std::string& out);

// ---- validation ------------------------------------------------------------------------------

// Why a datum was dropped; one counter per reason in PackStats.
enum class DatumProblem : uint8_t {
  kMetricName,        // empty, > 255, non-ASCII, control character, or only spaces
  kDimension,         // name/value length, ASCII/control/space rules, name starting with ':', duplicate name
  kTooManyDimensions, // more than 30
  kValue,             // NaN, +-Inf, |v| > 2^360, 0 < |v| < 2^-360 (any value, count, or statistic)
  kTimestamp,         // older than 14 days or more than 2 hours ahead of `now`
  kUnit,              // not one of the 27 StandardUnit spellings
  kShape,             // Values/Counts length mismatch, empty Values, bad StatisticValues, resolution not 1/60
};
constexpr std::size_t kDatumProblemCount = 7;
std::string_view to_string(DatumProblem problem) noexcept;

// Ok, or kInvalidArgument naming the problem ("dimension 2 name starts with ':'").
[[nodiscard]] common::Status validate_datum(const Datum& datum, common::WallTime now);
// The same check as a reason code: returns true (and sets `problem`) when the datum is bad.
bool datum_problem(const Datum& datum, common::WallTime now, DatumProblem& problem);

// The namespace is checked once, in the configuration (agent::metrics_namespace_problem).

// True for the exact StandardUnit spellings ("Bytes/Second", "Count", "None", ...).
bool is_standard_unit(std::string_view unit) noexcept;

// ---- packing ---------------------------------------------------------------------------------

struct PackLimits {
  std::size_t max_datums = kMaxDatumsPerRequest;
  std::size_t max_body_bytes = kMaxRequestBytes;  // uncompressed
  std::size_t max_values = kMaxValuesPerDatum;
  std::size_t gzip_min_bytes = kGzipMinBytes;      // compress bodies of at least this size
  int gzip_level = 6;
};

struct PackedRequest {
  std::string body;     // the form body, uncompressed
  std::string gzipped;  // gzip of body when body.size() >= gzip_min_bytes, else empty
  std::size_t datum_count = 0;

  bool compressed() const noexcept { return !gzipped.empty(); }
  // What goes on the wire (sign these bytes; Content-Encoding: gzip when compressed()).
  std::string_view wire_body() const noexcept { return compressed() ? std::string_view(gzipped) : std::string_view(body); }
};

// A request from a form body built by the encoder above, gzipped by the same rule pack_requests()
// uses (body.size() >= limits.gzip_min_bytes). Rebuilds spooled requests exactly as they were first sent.
PackedRequest make_packed_request(std::string body, std::size_t datum_count, const PackLimits& limits = {});

struct PackStats {
  std::size_t datums_in = 0;
  std::size_t datums_sent = 0;     // after splitting
  std::size_t datums_split = 0;    // input datums with > max_values values, split into several
  std::size_t datums_dropped = 0;  // invalid, by reason below
  std::array<std::size_t, kDatumProblemCount> dropped_by_problem{};
  std::size_t requests = 0;
  std::size_t raw_bytes = 0;   // sum of uncompressed bodies
  std::size_t wire_bytes = 0;  // sum of what is sent (gzip where used)
  std::size_t compressed_requests = 0;

  std::size_t dropped(DatumProblem p) const { return dropped_by_problem[static_cast<std::size_t>(p)]; }
  void add(const PackStats& other);
};

// Validates each datum (bad ones are dropped and counted, the rest still go), splits Values/Counts
// datums with more than max_values values into several datums (same series and timestamp), and
// fills requests in order up to max_datums and max_body_bytes, gzipping bodies >= gzip_min_bytes.
// A datum that cannot fit in an otherwise empty request is dropped as kShape (cannot happen
// within the API's own limits: 30 dimensions x 1 KB + 150 values is far below 1 MB).
// `dropped`, when given, receives the indexes (ascending) of the input datums that were dropped.
std::vector<PackedRequest> pack_requests(std::string_view metric_namespace, std::span<const Datum> datums,
                                         common::WallTime now, PackStats* stats = nullptr,
                                         const PackLimits& limits = {}, std::vector<std::size_t>* dropped = nullptr);

}  // namespace agent::cloudwatch
