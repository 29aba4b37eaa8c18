// The AWS trail outputs: CloudTrail Lake (PutAuditEvents), CloudWatch Logs (PutLogEvents) and S3
// (PutObject of CloudTrail-format files). Each batches with its encoder (trail_lake_encoder.h,
// trail_logs_encoder.h, trail_s3_encoder.h), sends through the AwsClient (which signs and retries each
// call) and acknowledges every submitted record exactly once: when the service stored it, or when it
// was dead-lettered (the service refused it for good; an error line, a counter and, when the output has
// a DeadLetterFile, a copy of the event in <delivery.spool_dir>/dead-letter.jsonl, so the checkpoint
// moves on and the content is kept).
//
// Delivery policy, shared by the three (AwsTrailOutputBase):
// - One request in flight per output. A partial batch waits up to kTrailBatchLinger for more records
//   while the output is idle; a full batch, or anything buffered when a request completes, goes at once.
// - A call that still fails after the AwsClient's own retries with a transient or environment error
//   (network, throttling, 5xx, skew, credentials, 401/403/404, missing channel/bucket/log group without
//   `create`) keeps its records and is sent again after a jittered exponential backoff
//   (delivery.retry_base .. delivery.retry_max_backoff): never dropped, never acknowledged.
// - A request the service refuses for its content (other 4xx: InvalidParameterException,
//   ValidationException, ...) would fail the same way again: its records are dead-lettered.
// - An output that cannot work as configured (no account id for S3 keys or Lake eventData, see
//   check_trail_aws_sink) is refused: it sends nothing and keeps every record, unacknowledged, with an
//   error line. make_trail_aws_output() refuses to build it at all, so the start fails with the message.
// - The backlog is not capped here: pending() counts every unacknowledged record, and the pipeline
//   stops reading (the audit log on disk is the buffer) while pending() >= delivery.max_queue_records
//   (backlog_full()).
// Threading: event-loop thread only, like the AwsClient. Destroy outputs before the AwsClient.
// Wire formats: shared/spec/aws-wire.md §4, aws-wire-trail-sinks.md §1-3.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/pipeline/trail_output.h"
#include "agent/pipeline/trail_record.h"
#include "agent/sinks/dead_letter_file.h"
#include "agent/sinks/trail_lake_encoder.h"
#include "agent/sinks/trail_logs_encoder.h"
#include "agent/sinks/trail_s3_encoder.h"
#include "common/aws/aws_client.h"
#include "common/aws/endpoints.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/log/log.h"

namespace agent {

// How long a partial batch waits for more records while nothing is in flight.
inline constexpr std::chrono::milliseconds kTrailBatchLinger{1000};

struct TrailAwsDeps {
  const common::Clock& clock;
  common::Scheduler& scheduler;
  common::aws::AwsClient& aws;
  common::aws::Endpoint endpoint;  // resolved for the output's service (cloudtrail-data, logs, s3)
  HostContext host;
  // Where dead-lettered events are copied (one file shared by the AWS outputs; each output holds a
  // reference, so it lives as long as the last of them). Null: they are only counted and logged.
  std::shared_ptr<DeadLetterFile> dead_letters = nullptr;
  // Jitter of the delivery backoff; null: the output seeds its own from the host (tests pin it).
  common::aws::Rng* rng = nullptr;
};

struct TrailAwsStats {
  std::uint64_t submitted = 0;
  std::uint64_t delivered = 0;      // acknowledged as stored by the service
  std::uint64_t dead_lettered = 0;  // acknowledged as refused for good (logged, copied to the DeadLetterFile)
  std::uint64_t requests_sent = 0;  // calls that got a 2xx
  std::uint64_t requests_failed = 0;  // calls that ended in an error (after the AwsClient's retries)
  std::uint64_t records_resent = 0;   // records put back for another attempt
  std::uint64_t backoffs = 0;         // times the output waited before sending again
  std::uint64_t recoveries = 0;       // times it delivered again after failed attempts
  std::uint64_t bytes_sent = 0;       // request bodies of successful calls
};

// Shared ack/backoff/flush machinery. Subclasses own the batching and the wire calls.
class AwsTrailOutputBase : public TrailOutput {
 public:
  ~AwsTrailOutputBase() override;
  AwsTrailOutputBase(const AwsTrailOutputBase&) = delete;
  AwsTrailOutputBase& operator=(const AwsTrailOutputBase&) = delete;

  void set_on_delivered(DeliveredFn fn) override { on_delivered_ = std::move(fn); }
  void flush(std::function<void()> done) override;
  std::size_t pending() const override { return unacked_.size(); }
  std::size_t pending_bytes() const override { return pending_bytes_; }
  std::string status() const override;

  // pending() has reached delivery.max_queue_records: the caller should stop submitting.
  bool backlog_full() const;
  const TrailAwsStats& stats() const { return stats_; }
  bool in_flight() const { return in_flight_; }
  bool backing_off() const { return backoff_timer_ != 0; }
  // Why the output refuses to send (see refuse()); "" when it works.
  const std::string& refused() const { return refused_; }

 protected:
  struct Tracked {
    std::uint64_t ordinal = 0;  // internal submission order
    std::uint64_t seq = 0;      // the pipeline's sequence number
    std::size_t bytes = 0;      // what the output holds for it (encoded event), for pending_bytes()
  };
  enum class Attempt {
    kDone,        // the batch is settled (acknowledged or dead-lettered); send the next at once
    kRetryLater,  // some records were put back (per-record transient failures): back off, flushes wait on
    kFailed,      // the call failed and its records were put back: back off; a waiting flush() returns
  };

  AwsTrailOutputBase(TrailAwsDeps deps, const DeliveryConfig& delivery, std::string log_name);

  // Subclass hooks.
  virtual bool has_work() const = 0;       // something to send
  virtual bool batch_full() const = 0;     // worth sending without waiting for the linger
  virtual void send_batch() = 0;           // starts one call; ends with attempt_finished() (later)
  virtual void before_flush() {}           // S3: close the open file

  Tracked track(std::uint64_t seq, std::size_t bytes);
  void acknowledge(const Tracked& t);
  // Acknowledges t as refused for good and copies `payload` (what was, or would have been, sent for
  // it: JSON text) with `reason` (error code + message) to the DeadLetterFile, if any.
  void dead_letter(const Tracked& t, std::string_view payload, std::string_view reason);
  // "; copied to <file>" for the error line of a dead letter, "" without a DeadLetterFile.
  std::string dead_letter_note() const;
  void attempt_finished(Attempt result);
  void pump();  // sends when allowed: idle, not backing off, and a full batch / linger expired / flushing
  bool keep_for_retry(const common::aws::AwsCallError& err) const;  // see the policy above
  void log_error(const std::string& key, const std::string& message);
  void log_warn(const std::string& key, const std::string& message);
  // The output cannot work as configured: from now on it sends nothing and keeps every record
  // (unacknowledged, so the checkpoint holds and a corrected restart loses nothing); flush() returns
  // at once. Logs `why` now and (rate-limited) on later submits. For subclass constructors.
  void refuse(std::string why);

  TrailAwsDeps deps_;
  DeliveryConfig delivery_;
  std::string log_name_;  // "cloudtrail_lake", "cloudwatch_logs", "s3"
  TrailAwsStats stats_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // callbacks hold a weak_ptr

 private:
  struct FlushWaiter {
    std::uint64_t mark = 0;  // done when every ordinal below it is acknowledged
    std::function<void()> done;
  };
  void check_waiters();
  void release_waiters();

  DeliveredFn on_delivered_;
  std::set<std::uint64_t> unacked_;
  std::size_t pending_bytes_ = 0;
  std::uint64_t next_ordinal_ = 0;
  bool in_flight_ = false;
  bool send_now_ = false;
  common::TimerId linger_timer_ = 0;
  common::TimerId backoff_timer_ = 0;
  std::vector<FlushWaiter> waiters_;
  std::unique_ptr<common::aws::Rng> own_rng_;  // when deps_.rng is null
  common::aws::Backoff backoff_;
  common::log::RateLimiter limiter_;
  bool warned_full_ = false;
  std::string refused_;
};

// What an AWS trail sink needs from the host that its config alone does not guarantee: s3 needs an
// account id for its keys (AWSLogs/<account>/CloudTrail/...): the sink's account_id, else the IMDS
// identity's; cloudtrail_lake needs the eventData recipientAccountId: the channel ARN's account, else
// the IMDS one. OK, or a kConfig error that says what to set. cloudwatch_logs: always OK.
[[nodiscard]] common::Status check_trail_aws_sink(const TrailSink& sink, const HostContext& host);

// The output for a cloudtrail_lake / cloudwatch_logs / s3 sink, or check_trail_aws_sink()'s error
// (kConfig for a local sink too). Build outputs at startup with this, so a sink that cannot work stops
// the start with its message instead of running refused.
[[nodiscard]] common::Result<std::unique_ptr<TrailOutput>> make_trail_aws_output(TrailAwsDeps deps,
                                                                                  const TrailSink& sink,
                                                                                  const DeliveryConfig& delivery);

// CloudTrail Lake: POST /PutAuditEvents?channelArn=... in batches of up to 100 events / 1 MB.
// eventData recipientAccountId is the channel's account (lake_recipient_account()).
// failed[] entries that classify_lake_failure() calls retryable (Throttling, InternalFailure) are sent
// again after the output's backoff for as long as they keep failing so, never counted out; the others
// are dead-lettered. An id the answer leaves out is sent again up to delivery.max_retries times.
class CloudTrailLakeOutput final : public AwsTrailOutputBase {
 public:
  CloudTrailLakeOutput(TrailAwsDeps deps, const TrailSink& sink, const DeliveryConfig& delivery);

  void submit(std::uint64_t seq, const TrailRecord& record) override;
  std::string describe() const override;  // "cloudtrail_lake(<channel arn>)"

 protected:
  bool has_work() const override { return !buffer_.empty(); }
  bool batch_full() const override;
  void send_batch() override;

 private:
  struct Entry {
    Tracked tracked;
    LakeAuditEvent event;
    int attempts = 0;
  };
  void on_response(common::aws::AwsCallOutcome outcome);
  void requeue_front(std::vector<Entry>& entries);

  std::string channel_arn_;
  std::string recipient_account_;  // eventData recipientAccountId
  std::deque<Entry> buffer_;
  std::size_t buffered_bytes_ = 0;
  std::vector<Entry> batch_;  // in flight
};

// CloudWatch Logs: PutLogEvents to the expanded group/stream templates (chronological batches from
// encode_put_log_events). On ResourceNotFoundException with `create: true` it creates the stream, and
// the group if that is missing too (ResourceAlreadyExistsException counts as created), then resends.
// Events in rejectedLogEventsInfo (too new / too old / expired) are dead-lettered; no sequence tokens.
// An expanded group or stream name CloudWatch Logs would refuse (an odd hostname in {hostname}) is
// logged once, as an error, when the output is built.
class CloudWatchLogsOutput final : public AwsTrailOutputBase {
 public:
  CloudWatchLogsOutput(TrailAwsDeps deps, const TrailSink& sink, const DeliveryConfig& delivery);

  void submit(std::uint64_t seq, const TrailRecord& record) override;
  std::string describe() const override;  // "cloudwatch_logs(<group>, stream <stream>)"

  const std::string& log_group() const { return group_; }
  const std::string& log_stream() const { return stream_; }
  std::uint64_t groups_created() const { return groups_created_; }
  std::uint64_t streams_created() const { return streams_created_; }

 protected:
  bool has_work() const override { return !buffer_.empty(); }
  bool batch_full() const override;
  void send_batch() override;

 private:
  struct Entry {
    Tracked tracked;
    LogEvent event;
  };
  void put();
  void on_put(common::aws::AwsCallOutcome outcome);
  void bootstrap();
  void create(std::string operation, std::function<void(bool ok, const std::string& code)> next);
  void fail_batch(const std::string& why);
  void settle_all(bool delivered, std::string_view reason = {});

  std::string group_;
  std::string stream_;
  bool create_ = true;
  std::deque<Entry> buffer_;
  std::size_t buffered_bytes_ = 0;
  std::vector<Entry> batch_;  // in flight, in the body's (chronological) order
  std::string batch_body_;
  bool bootstrapped_ = false;  // this batch already went through create + resend
  std::uint64_t groups_created_ = 0;
  std::uint64_t streams_created_ = 0;
};

// S3: CloudTrail-format files (S3TrailFileBuilder: rolled by interval and size), PUT with
// If-None-Match: * (the key is deterministic, so a 412 after a lost response means it is stored).
// A timer finishes the open file when its interval has passed; flush() finishes it at once.
class S3TrailOutput final : public AwsTrailOutputBase {
 public:
  S3TrailOutput(TrailAwsDeps deps, const TrailSink& sink, const DeliveryConfig& delivery);
  ~S3TrailOutput() override;

  void start() override;
  void submit(std::uint64_t seq, const TrailRecord& record) override;
  std::string describe() const override;  // "s3(s3://<bucket>/<prefix>)"

  std::size_t queued_objects() const { return queue_.size(); }
  std::uint64_t objects_put() const { return objects_put_; }
  // Keys of the objects stored so far (last 100), oldest first.
  const std::deque<std::string>& recent_keys() const { return recent_keys_; }

 protected:
  bool has_work() const override { return !queue_.empty(); }
  bool batch_full() const override { return true; }  // finished files go at once
  void send_batch() override;
  void before_flush() override;

 private:
  struct Object {
    S3TrailObject object;
    std::vector<Tracked> records;
    int attempts = 0;
  };
  void enqueue(S3TrailObject object);
  void arm_roll_timer();
  void on_roll_timer();
  void on_response(common::aws::AwsCallOutcome outcome);
  void dead_letter_object(const Object& o, const std::string& reason);

  std::string bucket_;
  std::string prefix_;
  S3TrailFileBuilder builder_;
  std::vector<Tracked> open_records_;  // in the builder's open file
  std::deque<Object> queue_;           // finished files, oldest first; front is in flight when sending
  common::TimerId roll_timer_ = 0;
  std::uint64_t objects_put_ = 0;
  std::deque<std::string> recent_keys_;
};

}  // namespace agent
