#include "agent/sinks/trail_local.h"

namespace agent {

nlohmann::json local_trail_payload(const TrailRecord& record) {
  // Through text: ordered_json and json are distinct types, and dump_json repairs invalid UTF-8.
  return nlohmann::json::parse(dump_json(cloudtrail_event_json(record)), nullptr, false);
}

}  // namespace agent
