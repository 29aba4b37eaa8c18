#include "agent/sinks/metric_json.h"

#include "common/clock/time_format.h"

namespace agent {
namespace {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

nlohmann::json datum_json(const cloudwatch::Datum& datum) {
  nlohmann::json j = nlohmann::json::object();
  j["MetricName"] = datum.metric_name;
  if (!datum.dimensions.empty()) {
    nlohmann::json dims = nlohmann::json::array();
    for (const auto& d : datum.dimensions) dims.push_back({{"Name", d.name}, {"Value", d.value}});
    j["Dimensions"] = std::move(dims);
  }
  j["Timestamp"] = common::format_iso8601(datum.timestamp, false);
  std::visit(Overloaded{
                 [&](double v) { j["Value"] = v; },
                 [&](const cloudwatch::ValuesCounts& vc) {
                   j["Values"] = vc.values;
                   j["Counts"] = vc.counts;
                 },
                 [&](const cloudwatch::StatisticSet& s) {
                   j["StatisticValues"] = {{"SampleCount", s.sample_count},
                                           {"Sum", s.sum},
                                           {"Minimum", s.minimum},
                                           {"Maximum", s.maximum}};
                 },
             },
             datum.data);
  j["Unit"] = datum.unit;
  j["StorageResolution"] = datum.storage_resolution;
  return j;
}

nlohmann::json put_metric_data_json(std::string_view metric_namespace, std::span<const cloudwatch::Datum> datums) {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& d : datums) data.push_back(datum_json(d));
  return {{"Namespace", metric_namespace}, {"MetricData", std::move(data)}};
}

nlohmann::json metric_datum_json(const MetricSample& sample, int storage_resolution) {
  nlohmann::json datum = nlohmann::json::object();
  datum["MetricName"] = sample.name;
  if (sample.dim_count > 0) {
    nlohmann::json dims = nlohmann::json::array();
    for (std::size_t i = 0; i < sample.dim_count; ++i) {
      dims.push_back({{"Name", sample.dims[i].name}, {"Value", sample.dims[i].value}});
    }
    datum["Dimensions"] = std::move(dims);
  }
  datum["Timestamp"] = common::format_iso8601(sample.time, false);
  datum["Value"] = sample.value;
  datum["Unit"] = unit_name(sample.unit);
  datum["StorageResolution"] = storage_resolution;
  return datum;
}

nlohmann::json put_metric_data_json(std::string_view metric_namespace, std::span<const MetricSample> samples,
                                    int storage_resolution) {
  nlohmann::json data = nlohmann::json::array();
  for (const MetricSample& s : samples) data.push_back(metric_datum_json(s, storage_resolution));
  return {{"Namespace", metric_namespace}, {"MetricData", std::move(data)}};
}

}  // namespace agent
