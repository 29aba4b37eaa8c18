#include "agent/sinks/cloudwatch_encoder.h"

#include "common/clock/time_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/http/gzip.h"

namespace agent::cloudwatch {
namespace {

constexpr std::string_view kHex = "0123456789ABCDEF";

// RFC 3986 unreserved: A-Z a-z 0-9 - _ . ~
constexpr bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

void append_size(std::size_t n, std::string& out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;  // 24 chars always hold a size_t
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// "YYYY-MM-DDTHH%3AMM%3ASS[.mmm]Z": the ISO-8601 form (milliseconds only when there are any),
// URI-encoded (':' is the only reserved character in it).
void append_timestamp(common::WallTime t, std::string& out) {
  const bool millis = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000 != 0;
  thread_local std::string iso;
  iso.clear();
  common::append_iso8601(iso, t, millis);
  append_uri_encoded(iso, out);
}

// "&MetricData.member.<index>."
void append_member_prefix(std::size_t index, std::string& out) {
  out.append("&MetricData.member.");
  append_size(index, out);
  out.push_back('.');
}

bool finite_in_range(double v) noexcept {
  if (!std::isfinite(v)) return false;
  if (v == 0.0) return true;
  const double a = std::fabs(v);
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html:
  // "Values must be in the range of -2^360 to 2^360"; older revisions of the page also rejected
  // magnitudes below 2^-360, so those are refused too (0 itself is fine).
  return a <= std::ldexp(1.0, kMaxValueExponent) && a >= std::ldexp(1.0, -kMaxValueExponent);
}

// ASCII, no control characters, at least one non-space character.
bool printable_ascii(std::string_view s) noexcept {
  bool non_space = false;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) return false;
    if (c != ' ') non_space = true;
  }
  return non_space;
}

constexpr std::array<std::string_view, 27> kStandardUnits = {
    "Seconds",          "Microseconds",     "Milliseconds",      "Bytes",            "Kilobytes",
    "Megabytes",        "Gigabytes",        "Terabytes",         "Bits",             "Kilobits",
    "Megabits",         "Gigabits",         "Terabits",          "Percent",          "Count",
    "Bytes/Second",     "Kilobytes/Second", "Megabytes/Second",  "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second",      "Kilobits/Second",  "Megabits/Second",   "Gigabits/Second",  "Terabits/Second",
    "Count/Second",     "None",
};

std::string dimension_message(std::size_t i, std::string_view what) {
  return "dimension " + std::to_string(i + 1) + " " + std::string(what);
}

// Ok, or the problem and a message.
bool check(const Datum& d, common::WallTime now, DatumProblem& problem, std::string* message) {
  auto fail = [&](DatumProblem p, std::string msg) {
    problem = p;
    if (message != nullptr) *message = std::move(msg);
    return true;
  };
  if (d.metric_name.empty() || d.metric_name.size() > kMaxNameLength || !printable_ascii(d.metric_name)) {
    return fail(DatumProblem::kMetricName, "metric name must be 1-255 printable ASCII characters");
  }
  if (d.dimensions.size() > kMaxDimensionsPerDatum) {
    return fail(DatumProblem::kTooManyDimensions,
                std::to_string(d.dimensions.size()) + " dimensions (at most 30 per datum)");
  }
  for (std::size_t i = 0; i < d.dimensions.size(); ++i) {
    const DatumDimension& dim = d.dimensions[i];
    if (dim.name.empty() || dim.name.size() > kMaxNameLength || !printable_ascii(dim.name)) {
      return fail(DatumProblem::kDimension, dimension_message(i, "name must be 1-255 printable ASCII characters"));
    }
    if (dim.name.front() == ':') return fail(DatumProblem::kDimension, dimension_message(i, "name starts with ':'"));
    if (dim.value.empty() || dim.value.size() > kMaxDimensionValueLength || !printable_ascii(dim.value)) {
      return fail(DatumProblem::kDimension, dimension_message(i, "value must be 1-1024 printable ASCII characters"));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (d.dimensions[j].name == dim.name) {
        return fail(DatumProblem::kDimension, dimension_message(i, "repeats the name '" + dim.name + "'"));
      }
    }
  }
  if (!is_standard_unit(d.unit)) return fail(DatumProblem::kUnit, "unit '" + d.unit + "' is not a StandardUnit");
  if (d.storage_resolution != 1 && d.storage_resolution != 60) {
    return fail(DatumProblem::kShape, "storage resolution must be 1 or 60");
  }
  if (d.timestamp < now - kMaxTimestampAge) return fail(DatumProblem::kTimestamp, "timestamp older than 14 days");
  if (d.timestamp > now + kMaxTimestampLead) {
    return fail(DatumProblem::kTimestamp, "timestamp more than 2 hours in the future");
  }
  if (const double* v = std::get_if<double>(&d.data)) {
    if (!finite_in_range(*v)) return fail(DatumProblem::kValue, "value is NaN, infinite or outside +-2^360");
  } else if (const ValuesCounts* vc = std::get_if<ValuesCounts>(&d.data)) {
    if (vc->values.empty()) return fail(DatumProblem::kShape, "Values is empty");
    if (!vc->counts.empty() && vc->counts.size() != vc->values.size()) {
      return fail(DatumProblem::kShape, "Counts and Values differ in length");
    }
    for (const double x : vc->values) {
      if (!finite_in_range(x)) return fail(DatumProblem::kValue, "a value is NaN, infinite or outside +-2^360");
    }
    for (const double c : vc->counts) {
      if (!finite_in_range(c)) return fail(DatumProblem::kValue, "a count is NaN, infinite or outside +-2^360");
      if (c < 0) return fail(DatumProblem::kShape, "a count is negative");
    }
  } else {
    const StatisticSet& s = std::get<StatisticSet>(d.data);
    for (const double x : {s.sample_count, s.sum, s.minimum, s.maximum}) {
      if (!finite_in_range(x)) return fail(DatumProblem::kValue, "a statistic is NaN, infinite or outside +-2^360");
    }
    if (s.sample_count <= 0 || s.minimum > s.maximum) {
      return fail(DatumProblem::kShape, "StatisticValues needs SampleCount > 0 and Minimum <= Maximum");
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(DatumProblem problem) noexcept {
  switch (problem) {
    case DatumProblem::kMetricName: return "metric_name";
    case DatumProblem::kDimension: return "dimension";
    case DatumProblem::kTooManyDimensions: return "too_many_dimensions";
    case DatumProblem::kValue: return "value";
    case DatumProblem::kTimestamp: return "timestamp";
    case DatumProblem::kUnit: return "unit";
    case DatumProblem::kShape: return "shape";
  }
  return "unknown";
}

void append_uri_encoded(std::string_view in, std::string& out) {
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
}

void append_double(double value, std::string& out) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // the shortest form of a double is at most 24 characters
  // Only '+' (in "1e+21") needs encoding; '-', '.', digits and 'e' are unreserved.
  append_uri_encoded(std::string_view(buf, static_cast<std::size_t>(end - buf)), out);
}

void append_request_header(std::string_view metric_namespace, std::string& out) {
  out.append("Action=PutMetricData&Version=2010-08-01&Namespace=");
  append_uri_encoded(metric_namespace, out);
}

void append_datum(const Datum& d, std::size_t index, std::string& out) {
  append_member_prefix(index, out);
  out.append("MetricName=");
  append_uri_encoded(d.metric_name, out);
  for (std::size_t i = 0; i < d.dimensions.size(); ++i) {
    append_member_prefix(index, out);
    out.append("Dimensions.member.");
    append_size(i + 1, out);
    out.append(".Name=");
    append_uri_encoded(d.dimensions[i].name, out);
    append_member_prefix(index, out);
    out.append("Dimensions.member.");
    append_size(i + 1, out);
    out.append(".Value=");
    append_uri_encoded(d.dimensions[i].value, out);
  }
  append_member_prefix(index, out);
  out.append("Timestamp=");
  append_timestamp(d.timestamp, out);
  if (const double* v = std::get_if<double>(&d.data)) {
    append_member_prefix(index, out);
    out.append("Value=");
    append_double(*v, out);
  } else if (const ValuesCounts* vc = std::get_if<ValuesCounts>(&d.data)) {
    for (std::size_t k = 0; k < vc->values.size(); ++k) {
      append_member_prefix(index, out);
      out.append("Values.member.");
      append_size(k + 1, out);
      out.push_back('=');
      append_double(vc->values[k], out);
    }
    const bool all_ones = std::all_of(vc->counts.begin(), vc->counts.end(), [](double c) { return c == 1.0; });
    if (!all_ones) {
      for (std::size_t k = 0; k < vc->counts.size(); ++k) {
        append_member_prefix(index, out);
        out.append("Counts.member.");
        append_size(k + 1, out);
        out.push_back('=');
        append_double(vc->counts[k], out);
      }
    }
  } else {
    const StatisticSet& s = std::get<StatisticSet>(d.data);
    append_member_prefix(index, out);
    out.append("StatisticValues.SampleCount=");
    append_double(s.sample_count, out);
    append_member_prefix(index, out);
    out.append("StatisticValues.Sum=");
    append_double(s.sum, out);
    append_member_prefix(index, out);
    out.append("StatisticValues.Minimum=");
    append_double(s.minimum, out);
    append_member_prefix(index, out);
    out.append("StatisticValues.Maximum=");
    append_double(s.maximum, out);
  }
  append_member_prefix(index, out);
  out.append("Unit=");
  append_uri_encoded(d.unit, out);
  if (d.storage_resolution != 60) {  // 60 is the API default
    append_member_prefix(index, out);
    out.append("StorageResolution=");
    append_size(static_cast<std::size_t>(d.storage_resolution), out);
  }
}

std::size_t encoded_datum_size(const Datum& datum, std::size_t index) {
  std::string scratch;
  append_datum(datum, index, scratch);
  return scratch.size();
}

void encode_put_metric_data(std::string_view metric_namespace, std::span<const Datum> datums, std::string& out) {
  append_request_header(metric_namespace, out);
  for (std::size_t i = 0; i < datums.size(); ++i) append_datum(datums[i], i + 1, out);
}

bool is_standard_unit(std::string_view unit) noexcept {
  return std::find(kStandardUnits.begin(), kStandardUnits.end(), unit) != kStandardUnits.end();
}

bool datum_problem(const Datum& datum, common::WallTime now, DatumProblem& problem) {
  return check(datum, now, problem, nullptr);
}

common::Status validate_datum(const Datum& datum, common::WallTime now) {
  DatumProblem problem{};
  std::string message;
  if (check(datum, now, problem, &message)) {
    return common::Error(common::ErrorCode::kInvalidArgument, "datum '" + datum.metric_name + "': " + message);
  }
  return {};
}

void PackStats::add(const PackStats& o) {
  datums_in += o.datums_in;
  datums_sent += o.datums_sent;
  datums_split += o.datums_split;
  datums_dropped += o.datums_dropped;
  for (std::size_t i = 0; i < kDatumProblemCount; ++i) dropped_by_problem[i] += o.dropped_by_problem[i];
  requests += o.requests;
  raw_bytes += o.raw_bytes;
  wire_bytes += o.wire_bytes;
  compressed_requests += o.compressed_requests;
}

namespace {

class Packer {
 public:
  Packer(std::string_view ns, const PackLimits& limits, PackStats& stats)
      : ns_(ns), limits_(limits), stats_(stats) {
    start();
  }

  void add(const Datum& d) {
    if (count_ == limits_.max_datums) finish();
    const std::size_t before = body_.size();
    append_datum(d, count_ + 1, body_);
    if (body_.size() > limits_.max_body_bytes) {
      body_.resize(before);
      if (count_ == 0) {  // does not fit even alone
        drop(DatumProblem::kShape);
        return;
      }
      finish();
      append_datum(d, 1, body_);
      if (body_.size() > limits_.max_body_bytes) {
        body_.resize(header_size_);
        drop(DatumProblem::kShape);
        return;
      }
    }
    ++count_;
    ++stats_.datums_sent;
  }

  void drop(DatumProblem p) {
    ++stats_.datums_dropped;
    ++stats_.dropped_by_problem[static_cast<std::size_t>(p)];
  }

  std::vector<PackedRequest> take() {
    finish();
    return std::move(out_);
  }

 private:
  void start() {
    body_.clear();
    body_.reserve(64 * 1024);
    append_request_header(ns_, body_);
    header_size_ = body_.size();
    count_ = 0;
  }

  void finish() {
    if (count_ == 0) return;
    PackedRequest r = make_packed_request(std::move(body_), count_, limits_);
    if (r.compressed()) ++stats_.compressed_requests;
    ++stats_.requests;
    stats_.raw_bytes += r.body.size();
    stats_.wire_bytes += r.wire_body().size();
    out_.push_back(std::move(r));
    body_ = std::string();
    start();
  }

  std::string_view ns_;
  const PackLimits& limits_;
  PackStats& stats_;
  std::string body_;
  std::size_t header_size_ = 0;
  std::size_t count_ = 0;
  std::vector<PackedRequest> out_;
};

}  // namespace

PackedRequest make_packed_request(std::string body, std::size_t datum_count, const PackLimits& limits) {
  PackedRequest r;
  r.datum_count = datum_count;
  r.body = std::move(body);
  if (r.body.size() >= limits.gzip_min_bytes) r.gzipped = common::http::gzip_compress(r.body, limits.gzip_level);
  return r;
}

std::vector<PackedRequest> pack_requests(std::string_view metric_namespace, std::span<const Datum> datums,
                                         common::WallTime now, PackStats* stats, const PackLimits& limits,
                                         std::vector<std::size_t>* dropped) {
  PackStats local;
  PackStats& st = stats != nullptr ? *stats : local;
  st.datums_in += datums.size();
  Packer packer(metric_namespace, limits, st);
  const std::size_t max_values = std::max<std::size_t>(1, limits.max_values);
  for (std::size_t i = 0; i < datums.size(); ++i) {
    const Datum& d = datums[i];
    DatumProblem problem{};
    if (datum_problem(d, now, problem)) {
      packer.drop(problem);
      if (dropped != nullptr) dropped->push_back(i);
      continue;
    }
    const ValuesCounts* vc = std::get_if<ValuesCounts>(&d.data);
    if (vc == nullptr || vc->values.size() <= max_values) {
      packer.add(d);
      continue;
    }
    // Too many values for one datum: the same series and timestamp, in several datums.
    ++st.datums_split;
    for (std::size_t first = 0; first < vc->values.size(); first += max_values) {
      const std::size_t last = std::min(first + max_values, vc->values.size());
      Datum part;
      part.metric_name = d.metric_name;
      part.dimensions = d.dimensions;
      part.timestamp = d.timestamp;
      part.unit = d.unit;
      part.storage_resolution = d.storage_resolution;
      ValuesCounts chunk;
      chunk.values.assign(vc->values.begin() + static_cast<std::ptrdiff_t>(first),
                          vc->values.begin() + static_cast<std::ptrdiff_t>(last));
      if (!vc->counts.empty()) {
        chunk.counts.assign(vc->counts.begin() + static_cast<std::ptrdiff_t>(first),
                            vc->counts.begin() + static_cast<std::ptrdiff_t>(last));
      }
      part.data = std::move(chunk);
      packer.add(part);
    }
  }
  return packer.take();
}

}  // namespace agent::cloudwatch
