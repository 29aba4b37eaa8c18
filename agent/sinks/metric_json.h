// The PutMetricData request as JSON, with the API's own member names (Namespace, MetricData[],
// MetricName, Dimensions[{Name,Value}], Timestamp, Value | Values+Counts | StatisticValues, Unit,
// StorageResolution). The local sink shows it; the CloudWatch encoder sends the same datums in the
// query protocol.
#pragma once

#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/pipeline/metric_sample.h"
#include "agent/sinks/cloudwatch_datum.h"

namespace agent {

nlohmann::json datum_json(const cloudwatch::Datum& datum);
nlohmann::json put_metric_data_json(std::string_view metric_namespace, std::span<const cloudwatch::Datum> datums);

// One datum per raw sample (no aggregation): the naive shape, kept as a benchmark baseline.
nlohmann::json metric_datum_json(const MetricSample& sample, int storage_resolution);
nlohmann::json put_metric_data_json(std::string_view metric_namespace, std::span<const MetricSample> samples,
                                    int storage_resolution);

}  // namespace agent
