#include "agent/sinks/cloudwatch_metric_transport.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace agent {
namespace {

constexpr std::string_view kBodyPrefix = "Action=PutMetricData&";

}  // namespace

std::string metric_spool_record(const cloudwatch::PackedRequest& r) {
  nlohmann::json j = {{"datums", r.datum_count}, {"body", r.body}};
  return j.dump();
}

std::optional<cloudwatch::PackedRequest> parse_metric_spool_record(const std::string& data) {
  try {
    const auto j = nlohmann::json::parse(data);
    if (!j.is_object() || !j.contains("datums") || !j.at("datums").is_number_unsigned() || !j.contains("body") ||
        !j.at("body").is_string()) {
      return std::nullopt;
    }
    const auto datums = j.at("datums").get<std::size_t>();
    auto body = j.at("body").get<std::string>();
    if (datums == 0 || datums > cloudwatch::kMaxDatumsPerRequest || body.rfind(kBodyPrefix, 0) != 0) {
      return std::nullopt;
    }
    return cloudwatch::make_packed_request(std::move(body), datums);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::size_t metric_spool_record_datums(const std::string& data) {
  // Written by metric_spool_record: {"body":...,"datums":N} (nlohmann sorts keys), so the count is
  // at the end; a full parse is the fallback for anything else.
  const auto at = data.rfind("\"datums\":");
  if (at != std::string::npos) {
    std::size_t n = 0;
    std::size_t i = at + 9;
    bool any = false;
    while (i < data.size() && data[i] >= '0' && data[i] <= '9') {
      n = n * 10 + static_cast<std::size_t>(data[i] - '0');
      ++i;
      any = true;
    }
    if (any && i < data.size() && data[i] == '}') return n;
  }
  const auto r = parse_metric_spool_record(data);
  return r ? r->datum_count : 0;
}

void CloudWatchMetricTransport::send(std::span<const delivery::OutboxItem> batch,
                                     std::function<void(delivery::BatchResult)> done) {
  // One request per call (limits().max_items == 1).
  auto req = parse_metric_spool_record(batch.front().payload);
  if (!req) {
    // Never sent: answered on the next loop turn like a call, so the Outbox sees one code path.
    scheduler_.post([done = std::move(done)] {
      done(delivery::BatchResult{{delivery::Disposition::kRefused}, "not a PutMetricData request"});
    });
    return;
  }
  common::aws::AwsCall call = common::aws::query_protocol_call(common::aws::Service::kCloudWatch, endpoint_,
                                                                "PutMetricData", std::string(req->wire_body()));
  if (req->compressed()) call.headers.push_back({"Content-Encoding", "gzip"});
  const std::size_t bytes = call.body.size();
  aws_.call(std::move(call), [this, alive = std::weak_ptr<int>(alive_), bytes,
                              done = std::move(done)](common::aws::AwsCallOutcome outcome) {
    if (alive.expired()) return;
    if (std::holds_alternative<common::aws::AwsCallResult>(outcome)) {
      ++stats_.requests_sent;
      stats_.bytes_sent += bytes;
      done(delivery::BatchResult{{delivery::Disposition::kDelivered}, ""});
      return;
    }
    const auto& err = std::get<common::aws::AwsCallError>(outcome);
    ++stats_.requests_failed;
    done(delivery::BatchResult{{common::aws::classify(err)}, "PutMetricData: " + err.summary});
  });
}

std::string CloudWatchMetricTransport::describe() const { return fmt::format("metrics: cloudwatch({})", endpoint_.url); }

}  // namespace agent
