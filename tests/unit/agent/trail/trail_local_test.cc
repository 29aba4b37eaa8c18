// The local sink's trail payload is the CloudTrail record itself.
#include "agent/sinks/trail_local.h"

#include <gtest/gtest.h>

#include "tests/unit/agent/trail/trail_test_util.h"

namespace {

TEST(TrailLocal, PayloadIsTheCloudTrailRecord) {
  const agent::TrailRecord r = tests::map_corpus("laurel/record-connect.log", 2482682);
  const nlohmann::json payload = agent::local_trail_payload(r);
  EXPECT_EQ(payload, nlohmann::json::parse(agent::render_cloudtrail_event(r)));
  EXPECT_EQ(payload["eventName"], "connect");
  EXPECT_EQ(payload["errorCode"], "EINPROGRESS");
  EXPECT_EQ(agent::kLocalTrailDestination, "trail");
}

}  // namespace
