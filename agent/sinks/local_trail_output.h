// LocalTrailOutput: a TrailOutput that writes each trail record as one JSON line to the LocalSink,
// shaped as the configured sink type would send it, and acknowledges it right after the write.
//
//   type local            destination "trail",           api "CloudTrailRecord", payload = the CloudTrail record
//   type cloudtrail_lake  destination "cloudtrail_lake", api "PutAuditEvents",   payload = {channelArn, auditEvents:[1]}
//   type cloudwatch_logs  destination "cloudwatch_logs", api "PutLogEvents",     payload = {logGroupName, logStreamName, logEvents:[1]}
//   type s3               destination "s3",              api "PutObject",        payload = {bucket, Records:[1]}
//
// Used for `trail.sinks: [{type: local}]` and, for every sink type, by `trailwatch once` (force local).
// A failed write is logged (rate-limited), counted in write_errors() and still acknowledged: the
// local sink has nowhere else to put the record, and holding the checkpoint would stop the stream.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/config/agent_config.h"
#include "agent/pipeline/trail_output.h"
#include "agent/pipeline/trail_record.h"
#include "agent/sinks/local_sink.h"
#include "common/clock/clock.h"
#include "common/log/log.h"

namespace agent {

// What LocalTrailOutput writes for one record as `sink` would send it.
struct LocalTrailLine {
  std::string destination;
  std::string api;
  std::string payload;  // compact JSON text
};
LocalTrailLine local_trail_line(const TrailSink& sink, const HostContext& host, const TrailRecord& record);

class LocalTrailOutput final : public TrailOutput {
 public:
  LocalTrailOutput(const common::Clock& clock, LocalSink& sink, TrailSink as, HostContext host);

  void set_on_delivered(DeliveredFn fn) override { on_delivered_ = std::move(fn); }
  void submit(std::uint64_t seq, const TrailRecord& record) override;
  void flush(std::function<void()> done) override;
  std::size_t pending() const override { return 0; }
  std::string describe() const override;

  std::uint64_t written() const noexcept { return written_; }
  std::uint64_t write_errors() const noexcept { return write_errors_; }

 private:
  const common::Clock& clock_;
  LocalSink& sink_;
  TrailSink as_;
  HostContext host_;
  DeliveredFn on_delivered_;
  common::log::RateLimiter error_limiter_;
  std::uint64_t written_ = 0;
  std::uint64_t write_errors_ = 0;
};

}  // namespace agent
