#include "agent/sinks/local_metric_output.h"

#include <spdlog/spdlog.h>

#include "agent/sinks/metric_json.h"

namespace agent {

void LocalMetricOutput::deliver(Batch batch, std::function<void()> done) {
  if (!batch.datums.empty()) {
    nlohmann::json payload = put_metric_data_json(metric_namespace(), batch.datums);
    // What the wire would carry: how many requests, and their bytes before and after gzip.
    payload["_wire"] = {{"requests", batch.stats.requests},
                        {"bytes", batch.stats.raw_bytes},
                        {"bytes_sent", batch.stats.wire_bytes},
                        {"gzip_requests", batch.stats.compressed_requests}};
    if (auto st = sink_.write(clock_.wall_now(), "cloudwatch", "PutMetricData", payload); !st.ok()) {
      ++write_errors_;
      spdlog::error("local output: {}", st.error().to_string());
    }
  }
  done();
}

}  // namespace agent
