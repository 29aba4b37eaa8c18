// AuditPipeline: audit logs -> trail outputs, with checkpoints that only move past delivered events.
//
//   AuditTailer --line--> per-file AuditAssembler --event--> map_event --> AuditEventFilter
//        --record (global seq)--> every TrailOutput --ack(seq)--> checkpoint of the event's file
//
// - One AuditAssembler per file (FileKey): lines of different files never join one event. When the
//   first line of a newer file of the same followed path arrives, the older file is finished (the
//   tailer hands out every line of an older file before those of a newer one), so its assembler is
//   flushed (events split across a rotation become two events). A tick timer closes idle events.
// - Checkpoints: per file, the ordered set of the begin offsets of events submitted and not yet
//   acknowledged by EVERY output. The file's safe offset = min(oldest of them, the assembler's
//   checkpoint()); filtered events and corrupt lines are never outstanding, so they count as
//   delivered at once. Offsets are set in the CheckpointStore only forwards, committed rate-limited
//   (the store's min_commit_interval) and forced at stop()/flush().
// - Backpressure: when an output's pending() exceeds max_pending_records, the tailer is stopped
//   (the log on disk is the buffer); it is started again once every output is at or below half of
//   that. AuditTailer has no pause, so a restart re-reads from the checkpoints and the lines this
//   pipeline already had (before its per-file read position) are skipped: nothing twice, nothing lost.
// - Corrupt lines are counted and logged (rate-limited) and never stop the stream.
// Single-threaded: everything runs on the loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "agent/config/agent_config.h"
#include "agent/parsers/audit_assembler.h"
#include "agent/pipeline/audit_filter.h"
#include "agent/pipeline/checkpoint_store.h"
#include "agent/pipeline/trail_mapper.h"
#include "agent/pipeline/trail_output.h"
#include "agent/pipeline/trail_record.h"
#include "agent/sources/audit_tailer.h"
#include "common/clock/clock.h"
#include "common/event/scheduler.h"
#include "common/log/log.h"
#include "common/result/result.h"

namespace agent {

class LocalSink;
class AwsContext;

struct AuditPipelineOptions {
  AuditTailerOptions tailer;
  AuditAssemblerOptions assembler;
  AuditFilters filters;
  HostContext host;
  TrailMapperOptions mapper;
  std::string state_dir;                       // checkpoints.json lives here
  CheckpointStoreOptions checkpoints;
  std::size_t max_pending_records = 100'000;   // delivery.max_queue_records (per output)
  std::size_t max_pending_bytes = 8u << 20;     // delivery.max_queue_bytes (all outputs together)
  std::chrono::milliseconds tick_interval{500};
  bool persist_checkpoints = true;             // false for `once`: checkpoints neither read nor written

  // From the config: audit.*, delivery.max_queue_records, agent.state_dir; tick = idle_timeout / 4
  // (50 ms .. 1 s).
  static AuditPipelineOptions from_config(const AgentConfig& config, HostContext host);
};

struct AuditPipelineStats {
  uint64_t lines = 0;          // lines taken from the tailer (re-reads after a resume not counted)
  uint64_t reread_lines = 0;   // lines skipped because the pipeline already had them (resume)
  uint64_t corrupt = 0;        // lines that did not parse (skipped)
  uint64_t events = 0;         // events assembled and mapped
  uint64_t filtered = 0;       // events audit.filters did not forward
  uint64_t submitted = 0;      // events handed to the outputs
  uint64_t delivered = 0;      // events acknowledged by every output
  uint64_t resends_avoided = 0;  // (event, sink) pairs not sent again: the sink's own checkpoint had it
  uint64_t files_finished = 0; // older files flushed because a newer file of their path began
  uint64_t pauses = 0;         // backpressure stops of the tailer
  uint64_t commit_errors = 0;
};

class AuditPipeline {
 public:
  AuditPipeline(boost::asio::io_context& io, common::Scheduler& scheduler, const common::Clock& clock,
                AuditPipelineOptions options, std::vector<std::unique_ptr<TrailOutput>> outputs);
  ~AuditPipeline();
  AuditPipeline(const AuditPipeline&) = delete;
  AuditPipeline& operator=(const AuditPipeline&) = delete;

  // Loads the checkpoints (first start only), starts the outputs, the tick timer and the tailer.
  void start();
  // Stops the tailer and the tick timer and forces a checkpoint commit. Open events stay open.
  void stop();
  // Closes every open event, hands them to the outputs, flushes every output, sets and commits
  // (forced) the checkpoints; `done` runs after every output's flush finished.
  void flush(std::function<void()> done);
  // `trailwatch once`: reads every configured file (globs expanded) from its start to its current
  // end, without the tailer and without waiting; then call flush().
  void read_once();

  // The tailer's line callback; public so that tests can feed lines without files.
  void handle_line(const TailedLine& line);
  // Closes idle events (the tick timer calls it).
  void tick();

  // Every mapped record (before audit.filters), e.g. for audit alarms.
  void set_record_tap(std::function<void(const TrailRecord&)> tap) { tap_ = std::move(tap); }

  const AuditPipelineStats& stats() const noexcept { return stats_; }
  std::size_t outstanding() const noexcept { return in_flight_.size(); }  // submitted, not acked by all
  std::size_t outputs_pending() const;  // max of the outputs' pending()
  std::size_t outputs_pending_bytes() const;  // sum of the outputs' pending_bytes()
  bool paused() const noexcept { return paused_; }
  CheckpointStore& checkpoints() noexcept { return store_; }
  const AuditTailer& tailer() const noexcept { return tailer_; }
  // The offset last set in the store for a file this pipeline saw; nullopt when none.
  std::optional<uint64_t> safe_offset(const FileKey& key) const;

  std::string describe() const;
  std::string status_line() const;
  std::string outputs_status() const;  // "; <output>: N delivered, ..." for each output that counts

 private:
  struct FileState {
    FileKey key;
    std::string path;
    AuditAssembler assembler;
    std::multiset<uint64_t> outstanding;  // begin offsets of events not yet acked by every output
    // Per output (same index as outputs_): begin offsets it has not acknowledged; the offset below
    // which it already has every event (from the stored per-sink checkpoint); its last stored offset.
    std::vector<std::multiset<uint64_t>> out_outstanding;
    std::vector<uint64_t> skip_below;
    std::vector<uint64_t> sink_offset;
    uint64_t read_to = 0;                 // end of the last line taken
    std::optional<uint64_t> checkpointed; // last offset set in the store
    bool finished = false;
    FileState(const FileKey& k, std::string p, AuditAssemblerOptions o, std::size_t outputs)
        : key(k), path(std::move(p)), assembler(o), out_outstanding(outputs), skip_below(outputs, 0),
          sink_offset(outputs, 0) {}
  };
  struct InFlight {
    FileKey key;
    uint64_t begin = 0;
    std::size_t remaining = 0;  // outputs that have not acknowledged it
  };

  FileState& file_for(const TailedLine& line);
  void finish_file(FileState& fs);
  void process_ready(FileState& fs);
  void update_checkpoint(FileState& fs);
  void on_delivered(std::size_t output, uint64_t seq);
  void commit(bool force);
  void check_backpressure();
  void collect_finished();

  common::Scheduler& scheduler_;
  const common::Clock& clock_;
  AuditPipelineOptions options_;
  std::vector<std::unique_ptr<TrailOutput>> outputs_;
  std::vector<std::string> sink_names_;  // stable per-sink checkpoint keys (describe(), made unique)
  AuditEventFilter filter_;
  CheckpointStore store_;
  AuditTailer tailer_;
  common::PeriodicTimer tick_timer_;
  common::log::RateLimiter corrupt_limiter_;
  std::function<void(const TrailRecord&)> tap_;

  std::unordered_map<FileKey, std::unique_ptr<FileState>, FileKeyHash> files_;
  std::map<uint64_t, InFlight> in_flight_;
  uint64_t next_seq_ = 1;
  bool loaded_ = false;
  bool running_ = false;
  bool paused_ = false;
  common::TimerId resume_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  AuditPipelineStats stats_;
};

// One TrailOutput per trail.sinks entry. `local` (and every type when force_local) -> LocalTrailOutput
// on `local`; cloudtrail_lake / cloudwatch_logs / s3 -> CloudTrailLakeOutput / CloudWatchLogsOutput /
// S3TrailOutput (agent/sinks/trail_aws_outputs.h) through `aws` (kConfig error when aws is null).
// The AWS outputs share one DeadLetterFile (<delivery.spool_dir>/dead-letter.jsonl), owned by them.
common::Result<std::vector<std::unique_ptr<TrailOutput>>> build_trail_outputs(
    const AgentConfig& config, const common::Clock& clock, common::Scheduler& scheduler, AwsContext* aws,
    LocalSink& local, const HostContext& host, bool force_local);

}  // namespace agent
