#include "agent/sinks/metric_aggregator.h"

#include <algorithm>
#include <cmath>

#include "agent/sinks/cloudwatch_encoder.h"

namespace agent {
namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool has_name(const std::vector<cloudwatch::DatumDimension>& dims, std::string_view name) {
  return std::any_of(dims.begin(), dims.end(), [&](const cloudwatch::DatumDimension& d) { return d.name == name; });
}

// Same names and values, in any order.
bool same_set(const std::vector<cloudwatch::DatumDimension>& a, const std::vector<cloudwatch::DatumDimension>& b) {
  if (a.size() != b.size()) return false;
  return std::all_of(a.begin(), a.end(), [&](const cloudwatch::DatumDimension& d) {
    return std::find(b.begin(), b.end(), d) != b.end();
  });
}

}  // namespace

AggregatorOptions AggregatorOptions::from_config(const MetricsConfig& metrics, const DeliveryConfig& delivery) {
  AggregatorOptions o;
  o.high_resolution = metrics.high_resolution;
  o.interval = metrics.interval;
  o.dimensions = metrics.dimensions;
  o.append_dimensions = metrics.append_dimensions;
  o.aggregation_dimensions = metrics.aggregation_dimensions;
  o.max_pending = delivery.max_queue_records > 0 ? static_cast<std::size_t>(delivery.max_queue_records) : 1;
  return o;
}

int AggregatorOptions::storage_resolution() const noexcept {
  return high_resolution && interval < std::chrono::seconds(60) ? 1 : 60;
}

MetricAggregator::MetricAggregator(AggregatorOptions options, const InstanceMetadata& metadata)
    : options_(std::move(options)), resolution_(options_.storage_resolution()) {
  for (const auto& [name, value] : options_.dimensions) {
    if (!has_name(extra_dims_, name)) extra_dims_.push_back({name, value});
  }
  for (const std::string& name : options_.append_dimensions) {
    auto it = metadata.find(name);
    if (it == metadata.end() || it->second.empty()) {
      warnings_.push_back("metrics.append_dimensions: " + name +
                          " is not available from instance metadata; metrics are sent without it");
      continue;
    }
    if (!has_name(extra_dims_, name)) extra_dims_.push_back({name, it->second});
  }
}

std::vector<std::vector<cloudwatch::DatumDimension>> MetricAggregator::dimension_sets(
    std::span<const Dimension> sample_dims) const {
  std::vector<cloudwatch::DatumDimension> full;
  full.reserve(sample_dims.size() + extra_dims_.size());
  for (const Dimension& d : sample_dims) {
    if (!has_name(full, d.name)) full.push_back({std::string(d.name), std::string(d.value)});
  }
  for (const cloudwatch::DatumDimension& d : extra_dims_) {
    if (!has_name(full, d.name)) full.push_back(d);
  }
  std::vector<std::vector<cloudwatch::DatumDimension>> sets;
  sets.push_back(full);
  // The CloudWatch agent's roll-up (plugins/outputs/cloudwatch ProcessRollup): a listed set is
  // used only when it is smaller than the metric's own set and every name in it is one of the
  // metric's dimensions; it carries those dimensions, in the listed order, with the metric's values.
  for (const std::vector<std::string>& target : options_.aggregation_dimensions) {
    if (target.size() >= full.size()) continue;
    std::vector<cloudwatch::DatumDimension> rolled;
    rolled.reserve(target.size());
    bool complete = true;
    for (const std::string& name : target) {
      auto it = std::find_if(full.begin(), full.end(), [&](const cloudwatch::DatumDimension& d) { return d.name == name; });
      if (it == full.end()) {
        complete = false;
        break;
      }
      rolled.push_back(*it);
    }
    if (!complete) continue;
    const bool duplicate = std::any_of(sets.begin(), sets.end(), [&](const auto& s) { return same_set(s, rolled); });
    if (!duplicate) sets.push_back(std::move(rolled));
  }
  return sets;
}

uint32_t MetricAggregator::series_id(std::string_view name, std::string_view unit,
                                     std::vector<cloudwatch::DatumDimension> dims) {
  std::string key;
  key.reserve(64);
  key.append(name).push_back('\0');
  key.append(unit).push_back('\0');
  for (const cloudwatch::DatumDimension& d : dims) {
    key.append(d.name).push_back('\x01');
    key.append(d.value).push_back('\0');
  }
  auto [it, inserted] = series_index_.try_emplace(std::move(key), static_cast<uint32_t>(series_.size()));
  if (inserted) {
    series_.push_back(Series{std::string(name), std::string(unit), std::move(dims)});
    ++stats_.series;
  }
  return it->second;
}

void MetricAggregator::add_value(uint32_t series, int64_t bucket_start, double value) {
  auto [it, inserted] = buckets_.try_emplace(BucketKey{bucket_start, series});
  Bucket& b = it->second;
  if (b.n == 0) {
    b.min = value;
    b.max = value;
  } else {
    b.min = std::min(b.min, value);
    b.max = std::max(b.max, value);
  }
  b.sum += value;
  ++b.n;
  b.counts[value] += 1.0;
  if (buckets_.size() > options_.max_pending) {  // DropOldest
    auto oldest = buckets_.begin();
    ++stats_.dropped_buckets;
    stats_.dropped_values += oldest->second.n;
    buckets_.erase(oldest);
  }
}

void MetricAggregator::add(std::span<const MetricSample> samples) {
  const int64_t width = resolution_;
  for (const MetricSample& s : samples) {
    if (!std::isfinite(s.value)) {
      ++stats_.invalid_samples;
      continue;
    }
    ++stats_.samples;
    const int64_t secs =
        floor_div(std::chrono::duration_cast<std::chrono::milliseconds>(s.time.time_since_epoch()).count(), 1000);
    const int64_t bucket_start = floor_div(secs, width) * width;
    const std::size_t dim_count = std::min<std::size_t>(s.dim_count, s.dims.size());
    auto sets = dimension_sets(std::span<const Dimension>(s.dims.data(), dim_count));
    const std::string_view unit = unit_name(s.unit);
    for (auto& dims : sets) add_value(series_id(s.name, unit, std::move(dims)), bucket_start, s.value);
  }
}

void MetricAggregator::emit(const Series& series, int64_t bucket_start, const Bucket& bucket,
                            std::vector<cloudwatch::Datum>& out) {
  cloudwatch::Datum base;
  base.metric_name = series.name;
  base.dimensions = series.dims;
  base.timestamp = common::WallTime(std::chrono::seconds(bucket_start));
  base.unit = series.unit;
  base.storage_resolution = resolution_;

  if (bucket.n == 1) {  // a lone sample: plain Value is the smallest form of all
    base.data = bucket.min;
    ++stats_.datums_value;
    out.push_back(std::move(base));
    return;
  }

  // Values/Counts in chunks of at most 150 distinct values, all with the bucket's timestamp.
  std::vector<cloudwatch::Datum> values_form;
  if (options_.encoding != DatumEncoding::kStatistics) {
    cloudwatch::ValuesCounts chunk;
    for (const auto& [value, count] : bucket.counts) {
      chunk.values.push_back(value);
      chunk.counts.push_back(count);
      if (chunk.values.size() == cloudwatch::kMaxValuesPerDatum) {
        cloudwatch::Datum d = base;
        d.data = std::move(chunk);
        values_form.push_back(std::move(d));
        chunk = {};
      }
    }
    if (!chunk.values.empty()) {
      cloudwatch::Datum d = base;
      d.data = std::move(chunk);
      values_form.push_back(std::move(d));
    }
  }
  cloudwatch::Datum stats_form = base;
  stats_form.data = cloudwatch::StatisticSet{static_cast<double>(bucket.n), bucket.sum, bucket.min, bucket.max};

  bool use_values = options_.encoding == DatumEncoding::kValuesCounts;
  if (options_.encoding == DatumEncoding::kSmallest) {
    // Compare at a 4-digit member index (typical inside a full request); ties go to Values/Counts,
    // which keeps the distribution.
    std::size_t values_size = 0;
    for (const cloudwatch::Datum& d : values_form) values_size += cloudwatch::encoded_datum_size(d, 1000);
    use_values = values_size <= cloudwatch::encoded_datum_size(stats_form, 1000);
  }
  if (use_values) {
    stats_.datums_values += values_form.size();
    for (cloudwatch::Datum& d : values_form) out.push_back(std::move(d));
  } else {
    ++stats_.datums_statistics;
    out.push_back(std::move(stats_form));
  }
}

std::vector<cloudwatch::Datum> MetricAggregator::flush(common::WallTime now, bool final) {
  std::vector<cloudwatch::Datum> out;
  const int64_t now_secs =
      floor_div(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count(), 1000);
  auto it = buckets_.begin();
  while (it != buckets_.end()) {
    const int64_t start = it->first.first;
    if (!final && start + resolution_ > now_secs) break;  // this and every later bucket is still open
    emit(series_[it->first.second], start, it->second, out);
    it = buckets_.erase(it);
  }
  return out;
}

}  // namespace agent
