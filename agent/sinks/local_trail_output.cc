#include "agent/sinks/local_trail_output.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/sinks/trail_lake_encoder.h"
#include "agent/sinks/trail_local.h"
#include "agent/sinks/trail_logs_encoder.h"
#include "agent/sinks/trail_s3_encoder.h"
#include "common/json/json_writer.h"

namespace agent {

LocalTrailLine local_trail_line(const TrailSink& sink, const HostContext& host, const TrailRecord& record) {
  LocalTrailLine line;
  switch (sink.type) {
    case SinkType::kLocal:
      line.destination = std::string(kLocalTrailDestination);
      line.api = std::string(kLocalTrailApi);
      line.payload = render_cloudtrail_event(record);
      break;
    case SinkType::kCloudTrailLake: {
      const LakeAuditEvent event = make_lake_audit_event(record);
      line.destination = "cloudtrail_lake";
      line.api = "PutAuditEvents";
      line.payload = nlohmann::json{
          {"channelArn", sink.channel_arn},
          {"auditEvents", nlohmann::json::array({nlohmann::json{{"id", event.id},
                                                                {"eventData", event.event_data},
                                                                {"eventDataChecksum", event.event_data_checksum}}})}}
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      break;
    }
    case SinkType::kCloudWatchLogs: {
      const LogEvent event = make_log_event(record);
      line.destination = "cloudwatch_logs";
      line.api = "PutLogEvents";
      line.payload = nlohmann::json{
          {"logGroupName", expand_log_name_template(sink.log_group, host, false)},
          {"logStreamName", expand_log_name_template(sink.log_stream, host, true)},
          {"logEvents", nlohmann::json::array({nlohmann::json{{"timestamp", event.timestamp_ms},
                                                              {"message", event.message}}})}}
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      break;
    }
    case SinkType::kS3:
      line.destination = "s3";
      line.api = "PutObject";
      // {"Records":[…],"bucket":…}: sorted keys, as the other payloads.
      common::JsonWriter(line.payload)
          .begin_object()
          .key("Records").begin_array()
          .raw(render_cloudtrail_event(record, SIZE_MAX, s3_account_id(sink, host)))
          .end_array()
          .key("bucket").value(sink.bucket)
          .end_object();
      break;
  }
  return line;
}

LocalTrailOutput::LocalTrailOutput(const common::Clock& clock, LocalSink& sink, TrailSink as, HostContext host)
    : clock_(clock), sink_(sink), as_(std::move(as)), host_(std::move(host)),
      error_limiter_(clock, std::chrono::seconds(60), 1) {}

void LocalTrailOutput::submit(std::uint64_t seq, const TrailRecord& record) {
  const LocalTrailLine line = local_trail_line(as_, host_, record);
  if (auto st = sink_.write_raw(clock_.wall_now(), line.destination, line.api, line.payload); !st.ok()) {
    ++write_errors_;
    uint64_t suppressed = 0;
    if (error_limiter_.allow("write", &suppressed)) {
      spdlog::error("{}: record {} not written ({} similar suppressed): {}", describe(), record.event_id, suppressed,
                    st.error().to_string());
    }
  } else {
    ++written_;
  }
  if (on_delivered_) on_delivered_(seq);
}

void LocalTrailOutput::flush(std::function<void()> done) {
  if (auto st = sink_.flush(); !st.ok()) spdlog::warn("{}: flush: {}", describe(), st.error().to_string());
  if (done) done();
}

std::string LocalTrailOutput::describe() const {
  return fmt::format("local({}{})", sink_.path() == "-" ? std::string("stdout") : sink_.path(),
                     as_.type == SinkType::kLocal ? std::string() : fmt::format(" as {}", to_string(as_.type)));
}

}  // namespace agent
