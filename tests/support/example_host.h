// One fixed HostContext for tests and benchmarks: what IMDS and the host would report on an EC2
// instance, so rendered trail records (eventID, recipientAccountId, sourceIPAddress) are stable.
#pragma once

#include "agent/pipeline/trail_record.h"

namespace tests {

inline agent::HostContext example_host() {
  agent::HostContext h;
  h.instance_id = "i-0123456789abcdef0";
  h.hostname = "ip-10-0-1-17";
  h.account_id = "111122223333";
  h.region = "us-east-1";
  h.host_address = "10.0.1.17";
  h.boot_id = "6f1c0d2e-8a57-4b8e-9d0c-1f2e3d4c5b6a";
  return h;
}

}  // namespace tests
