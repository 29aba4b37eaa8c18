// TrailOutput: where the audit pipeline hands its trail records (CloudTrail Lake, CloudWatch Logs, S3,
// local). Delivery is acknowledged per record so the pipeline can advance a file's checkpoint only past
// events that every output has delivered (or has given up on, dead-lettered with a log line).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/pipeline/trail_record.h"

namespace agent {

class TrailOutput {
 public:
  // Called exactly once per submitted sequence number, on the loop, in any order.
  using DeliveredFn = std::function<void(std::uint64_t seq)>;

  virtual ~TrailOutput() = default;
  virtual void set_on_delivered(DeliveredFn fn) = 0;
  virtual void start() {}  // arm timers (batching, S3 file rolling)
  // Takes one record; the output batches as its API allows and sends when due.
  virtual void submit(std::uint64_t seq, const TrailRecord& record) = 0;
  // Sends everything pending now (shutdown or `once`); done runs when those sends have finished or failed.
  virtual void flush(std::function<void()> done) = 0;
  virtual std::size_t pending() const = 0;  // submitted, not yet acknowledged
  virtual std::size_t pending_bytes() const { return 0; }  // what the output holds for them, in bytes
  virtual std::string describe() const = 0;  // "cloudwatch_logs(/trailwatch/audit)"
  // Its delivery counters for the periodic status line ("" when it keeps none).
  virtual std::string status() const { return {}; }
};

}  // namespace agent
