// The local sink's trail line: the payload is the CloudTrail record itself, byte for byte what the
// S3 and CloudWatch Logs sinks send; other sink types are shown as their API's request.
#include "agent/sinks/trail_local.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/sinks/local_trail_output.h"
#include "tests/unit/agent/trail/trail_test_util.h"

namespace {

TEST(TrailLocal, PayloadIsTheCloudTrailRecord) {
  const agent::TrailRecord r = tests::map_corpus("laurel/record-connect.log", 2482682);
  agent::TrailSink sink;
  sink.type = agent::SinkType::kLocal;
  const agent::LocalTrailLine line = agent::local_trail_line(sink, tests::test_host(), r);
  EXPECT_EQ(line.destination, agent::kLocalTrailDestination);
  EXPECT_EQ(line.api, agent::kLocalTrailApi);
  EXPECT_EQ(line.payload, agent::render_cloudtrail_event(r));
  const nlohmann::json payload = nlohmann::json::parse(line.payload);
  EXPECT_EQ(payload["eventName"], "connect");
  EXPECT_EQ(payload["errorCode"], "EINPROGRESS");
}

TEST(TrailLocal, S3PayloadHoldsTheSameRecordInRecords) {
  const agent::TrailRecord r = tests::map_corpus("laurel/record-connect.log", 2482682);
  agent::TrailSink sink;
  sink.type = agent::SinkType::kS3;
  sink.bucket = "trail-bucket";
  const agent::LocalTrailLine line = agent::local_trail_line(sink, tests::test_host(), r);
  EXPECT_EQ(line.api, "PutObject");
  EXPECT_EQ(line.payload, "{\"Records\":[" + agent::render_cloudtrail_event(r) + "],\"bucket\":\"trail-bucket\"}");
}

}  // namespace
