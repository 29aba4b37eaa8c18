#include "agent/app/audit_pipeline.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/sinks/local_sink.h"
#include "agent/app/aws_context.h"
#include "agent/sinks/local_trail_output.h"
#include "agent/sinks/trail_aws_outputs.h"

namespace agent {

AuditPipelineOptions AuditPipelineOptions::from_config(const AgentConfig& config, HostContext host) {
  AuditPipelineOptions o;
  o.tailer.files = config.audit.files;
  o.tailer.poll_interval = config.audit.poll_interval;
  o.tailer.max_line_bytes = static_cast<std::size_t>(config.audit.max_line_bytes);
  o.assembler.idle_timeout = config.audit.event_timeout;
  o.filters = config.audit.filters;
  o.host = std::move(host);
  o.state_dir = config.agent.state_dir;
  o.max_pending_records =
      config.delivery.max_queue_records > 0 ? static_cast<std::size_t>(config.delivery.max_queue_records) : 1;
  o.max_pending_bytes = static_cast<std::size_t>(config.delivery.max_queue_bytes);
  o.tick_interval = std::clamp<std::chrono::milliseconds>(config.audit.event_timeout / 4,
                                                          std::chrono::milliseconds(50), std::chrono::seconds(1));
  return o;
}

AuditPipeline::AuditPipeline(boost::asio::io_context& io, common::Scheduler& scheduler, const common::Clock& clock,
                             AuditPipelineOptions options, std::vector<std::unique_ptr<TrailOutput>> outputs)
    : scheduler_(scheduler),
      clock_(clock),
      options_(std::move(options)),
      outputs_(std::move(outputs)),
      filter_(options_.filters),
      store_(options_.state_dir, clock, options_.checkpoints),
      tailer_(io, scheduler, clock, options_.tailer, store_, [this](const TailedLine& line) { handle_line(line); }),
      tick_timer_(scheduler, [&clock] { return clock.steady_now(); }),
      corrupt_limiter_(clock, std::chrono::seconds(60), 5) {
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    std::string name = outputs_[i]->describe();
    if (std::count(sink_names_.begin(), sink_names_.end(), name) > 0) name += "#" + std::to_string(i);
    sink_names_.push_back(std::move(name));
    std::weak_ptr<bool> alive = alive_;
    outputs_[i]->set_on_delivered([this, alive, i](uint64_t seq) {
      if (alive.expired()) return;
      on_delivered(i, seq);
    });
  }
}

AuditPipeline::~AuditPipeline() {
  *alive_ = false;
  alive_.reset();
  if (resume_timer_ != 0) scheduler_.cancel(resume_timer_);
  tick_timer_.stop();
  tailer_.stop();
  if (options_.persist_checkpoints && loaded_) commit(true);
}

void AuditPipeline::start() {
  if (running_) return;
  if (options_.persist_checkpoints && !loaded_) {
    auto loaded = store_.load();
    if (!loaded.ok()) spdlog::warn("audit: checkpoints: {}; reading from the start", loaded.error().to_string());
  }
  loaded_ = true;
  running_ = true;
  for (auto& out : outputs_) out->start();
  tick_timer_.start(options_.tick_interval, [this] { tick(); }, options_.tick_interval);
  if (!paused_) tailer_.start();
}

void AuditPipeline::stop() {
  if (!running_) return;
  running_ = false;
  if (resume_timer_ != 0) {
    scheduler_.cancel(resume_timer_);
    resume_timer_ = 0;
  }
  tick_timer_.stop();
  tailer_.stop();
  if (options_.persist_checkpoints && loaded_) commit(true);
}

AuditPipeline::FileState& AuditPipeline::file_for(const TailedLine& line) {
  auto it = files_.find(line.key);
  if (it != files_.end()) return *it->second;
  // A new file of this path: the tailer has handed out every line of the older ones.
  for (auto& [key, fs] : files_) {
    if (!fs->finished && fs->path == line.path) finish_file(*fs);
  }
  auto fs = std::make_unique<FileState>(line.key, std::string(line.path), options_.assembler, outputs_.size());
  // Each sink resumes from its own stored offset: what it already has is not sent to it again, while
  // reading resumes at the slowest sink's offset (CheckpointEntry::offset).
  if (options_.persist_checkpoints) {
    if (auto entry = store_.find(line.key)) {
      for (std::size_t i = 0; i < outputs_.size(); ++i) {
        for (const auto& [name, off] : entry->sinks) {
          if (name == sink_names_[i]) fs->skip_below[i] = fs->sink_offset[i] = off;
        }
      }
    }
  }
  FileState& ref = *fs;
  files_.emplace(line.key, std::move(fs));
  return ref;
}

void AuditPipeline::finish_file(FileState& fs) {
  fs.finished = true;
  ++stats_.files_finished;
  fs.assembler.flush_all();
  process_ready(fs);
  update_checkpoint(fs);
}

void AuditPipeline::handle_line(const TailedLine& line) {
  FileState& fs = file_for(line);
  if (line.begin < fs.read_to) {  // re-read after a backpressure resume: we have it already
    ++stats_.reread_lines;
    return;
  }
  fs.read_to = line.end;
  ++stats_.lines;
  if (auto st = fs.assembler.add_line(line.bytes, clock_.steady_now(), SourceRange{line.begin, line.end}, line.truncated);
      !st.ok()) {
    ++stats_.corrupt;
    uint64_t suppressed = 0;
    if (corrupt_limiter_.allow("corrupt", &suppressed)) {
      spdlog::warn("audit: {} bytes {}..{}: corrupt line skipped ({} similar suppressed): {}", line.path, line.begin,
                   line.end, suppressed, st.error().to_string());
    }
  }
  process_ready(fs);
  update_checkpoint(fs);
  check_backpressure();
}

void AuditPipeline::process_ready(FileState& fs) {
  if (fs.assembler.ready_count() == 0) return;
  const FileKey key = fs.key;  // `fs` stays valid: file states are only erased by collect_finished()
  for (const AuditEvent& event : fs.assembler.drain()) {
    ++stats_.events;
    const TrailRecord record = map_event(event, options_.host, options_.mapper);
    if (tap_) tap_(record);
    if (!filter_.accepts(record)) {
      ++stats_.filtered;
      continue;
    }
    ++stats_.submitted;
    if (outputs_.empty()) {
      ++stats_.delivered;
      continue;
    }
    const uint64_t begin = event.source.begin;
    std::size_t targets = 0;
    for (std::size_t i = 0; i < outputs_.size(); ++i) targets += begin >= fs.skip_below[i];
    stats_.resends_avoided += outputs_.size() - targets;
    if (targets == 0) {  // every sink stored it before the restart
      ++stats_.delivered;
      continue;
    }
    const uint64_t seq = next_seq_++;
    in_flight_.emplace(seq, InFlight{key, begin, targets});
    fs.outstanding.insert(begin);
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      if (begin >= fs.skip_below[i]) fs.out_outstanding[i].insert(begin);
    }
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
      if (begin >= fs.skip_below[i]) outputs_[i]->submit(seq, record);  // may acknowledge inline
    }
  }
}

void AuditPipeline::update_checkpoint(FileState& fs) {
  const std::optional<uint64_t> base = fs.assembler.checkpoint();
  auto safe_below = [&base](const std::multiset<uint64_t>& outstanding) {
    std::optional<uint64_t> safe = base;
    if (!outstanding.empty()) safe = safe ? std::min(*safe, *outstanding.begin()) : *outstanding.begin();
    return safe;
  };
  // Per sink: it has every event that begins below its offset, so a slow sink does not hold back
  // (and, after a restart, make re-send) what the others delivered.
  bool sinks_moved = false;
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    const auto safe = safe_below(fs.out_outstanding[i]);
    if (safe && *safe > fs.sink_offset[i]) {
      fs.sink_offset[i] = *safe;
      sinks_moved = true;
    }
  }
  std::optional<uint64_t> safe = safe_below(fs.outstanding);
  const bool moved = safe && (!fs.checkpointed || *safe > *fs.checkpointed);
  if (!moved && !sinks_moved) return;
  if (moved) fs.checkpointed = safe;
  if (!options_.persist_checkpoints || !fs.checkpointed) return;
  std::vector<std::pair<std::string, uint64_t>> sinks;
  sinks.reserve(outputs_.size());
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    sinks.emplace_back(sink_names_[i], std::max(fs.sink_offset[i], *fs.checkpointed));
  }
  store_.set(fs.key, fs.path, *fs.checkpointed, std::move(sinks));
  commit(false);
}

void AuditPipeline::commit(bool force) {
  if (!options_.persist_checkpoints) return;
  if (auto st = store_.commit(force); !st.ok()) {
    ++stats_.commit_errors;
    corrupt_limiter_.log(spdlog::level::err, "commit", "audit: checkpoint commit failed: " + st.error().to_string());
  }
}

void AuditPipeline::on_delivered(std::size_t output, uint64_t seq) {
  auto it = in_flight_.find(seq);
  if (it == in_flight_.end()) {
    spdlog::debug("audit: acknowledgement of unknown record {}", seq);
    return;
  }
  if (auto fit = files_.find(it->second.key); fit != files_.end()) {
    auto& mine = fit->second->out_outstanding[output];
    if (auto b = mine.find(it->second.begin); b != mine.end()) mine.erase(b);
  }
  if (--it->second.remaining > 0) {
    if (auto fit = files_.find(it->second.key); fit != files_.end()) update_checkpoint(*fit->second);
    return;
  }
  const InFlight done = it->second;
  in_flight_.erase(it);
  ++stats_.delivered;
  auto fit = files_.find(done.key);
  if (fit != files_.end()) {
    FileState& fs = *fit->second;
    if (auto b = fs.outstanding.find(done.begin); b != fs.outstanding.end()) fs.outstanding.erase(b);
    update_checkpoint(fs);
  }
  if (paused_ && running_ && resume_timer_ == 0 && outputs_pending() <= options_.max_pending_records / 2 &&
      outputs_pending_bytes() <= options_.max_pending_bytes / 2) {
    // Not from inside an output's callback: start() reads files.
    resume_timer_ = scheduler_.schedule_after(std::chrono::nanoseconds(0), [this] {
      resume_timer_ = 0;
      if (!paused_ || !running_) return;
      paused_ = false;
      spdlog::info("audit: outputs caught up ({} record(s), {} bytes pending); reading again", outputs_pending(),
                   outputs_pending_bytes());
      tailer_.start();
    });
  }
}

std::size_t AuditPipeline::outputs_pending() const {
  std::size_t most = 0;
  for (const auto& out : outputs_) most = std::max(most, out->pending());
  return most;
}

std::size_t AuditPipeline::outputs_pending_bytes() const {
  std::size_t sum = 0;
  for (const auto& out : outputs_) sum += out->pending_bytes();
  return sum;
}

void AuditPipeline::check_backpressure() {
  if (paused_) return;
  const std::size_t records = outputs_pending();
  const std::size_t bytes = outputs_pending_bytes();
  if (records <= options_.max_pending_records && bytes <= options_.max_pending_bytes) return;
  paused_ = true;
  ++stats_.pauses;
  // The audit log on disk is the buffer: reading stops, nothing is dropped.
  spdlog::warn("audit: outputs hold {} record(s) in {} bytes (delivery.max_queue_records {}, delivery.max_queue_bytes "
               "{}); reading paused until they catch up",
               records, bytes, options_.max_pending_records, options_.max_pending_bytes);
  if (tailer_.running()) tailer_.stop();  // allowed from inside the tailer's callback
}

void AuditPipeline::tick() {
  const auto now = clock_.steady_now();
  for (auto& [key, fs] : files_) {
    fs->assembler.tick(now);
    process_ready(*fs);
    update_checkpoint(*fs);
  }
  collect_finished();
  commit(false);
}

void AuditPipeline::collect_finished() {
  for (auto it = files_.begin(); it != files_.end();) {
    const FileState& fs = *it->second;
    if (fs.finished && fs.outstanding.empty() && fs.assembler.open_count() == 0 && fs.assembler.ready_count() == 0) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
}

void AuditPipeline::flush(std::function<void()> done) {
  for (auto& [key, fs] : files_) {
    fs->assembler.flush_all();
    process_ready(*fs);
    update_checkpoint(*fs);
  }
  auto finish = [this, alive = std::weak_ptr<bool>(alive_), done = std::move(done)]() {
    if (!alive.expired()) {
      for (auto& [key, fs] : files_) update_checkpoint(*fs);
      if (loaded_) commit(true);
    }
    if (done) done();
  };
  if (outputs_.empty()) {
    finish();
    return;
  }
  auto remaining = std::make_shared<std::size_t>(outputs_.size());
  auto shared_finish = std::make_shared<decltype(finish)>(std::move(finish));
  for (auto& out : outputs_) {
    out->flush([remaining, shared_finish] {
      if (--*remaining == 0) (*shared_finish)();
    });
  }
}

void AuditPipeline::read_once() {
  std::vector<std::string> paths;
  for (const auto& pattern : options_.tailer.files) {
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) paths.emplace_back(g.gl_pathv[i]);
    } else {
      spdlog::warn("audit: {}: no such file", pattern);
    }
    ::globfree(&g);
  }
  // Streams each file in 1 MiB reads (a large log is not held in memory), handing out complete
  // lines with their byte offsets exactly as the tailer would.
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  std::string buffer;
  for (const auto& path : paths) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      spdlog::warn("audit: {}: cannot read: {}", path, std::strerror(errno));
      if (fd >= 0) ::close(fd);
      continue;
    }
    TailedLine line;
    line.key.device = static_cast<uint64_t>(st.st_dev);
    line.key.inode = static_cast<uint64_t>(st.st_ino);
    line.path = path;
    buffer.clear();
    uint64_t buffer_offset = 0;  // file offset of buffer[0]
    bool fingerprinted = false;
    for (;;) {
      const std::size_t old_size = buffer.size();
      buffer.resize(old_size + kChunk);
      const ssize_t n = ::read(fd, buffer.data() + old_size, kChunk);
      if (n < 0 && errno == EINTR) {
        buffer.resize(old_size);
        continue;
      }
      if (n < 0) spdlog::warn("audit: {}: read failed: {}", path, std::strerror(errno));
      buffer.resize(old_size + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
      if (!fingerprinted && (buffer.size() >= kFingerprintBytes || n <= 0)) {
        const std::size_t fp = std::min(buffer.size(), kFingerprintBytes);
        line.key.fingerprint =
            FileFingerprint{static_cast<uint32_t>(fp), fingerprint_hash(std::string_view(buffer).substr(0, fp))};
        fingerprinted = true;
      }
      if (fingerprinted) {
        std::size_t pos = 0;
        for (;;) {
          const std::size_t nl = buffer.find('\n', pos);
          if (nl == std::string::npos) break;  // a partial last line waits for its newline, as the tailer does
          std::string_view bytes(buffer.data() + pos, nl - pos);
          line.truncated = bytes.size() > options_.tailer.max_line_bytes;
          if (line.truncated) bytes = bytes.substr(0, options_.tailer.max_line_bytes);
          line.bytes = bytes;
          line.begin = buffer_offset + pos;
          line.end = buffer_offset + nl + 1;
          handle_line(line);
          pos = nl + 1;
        }
        buffer.erase(0, pos);
        buffer_offset += pos;
      }
      if (n <= 0) break;
    }
    ::close(fd);
  }
}

std::optional<uint64_t> AuditPipeline::safe_offset(const FileKey& key) const {
  auto it = files_.find(key);
  if (it == files_.end()) return std::nullopt;
  return it->second->checkpointed;
}

std::string AuditPipeline::describe() const {
  std::string outs;
  for (const auto& out : outputs_) outs += (outs.empty() ? "" : ", ") + out->describe();
  return fmt::format("audit {} -> [{}]", fmt::join(options_.tailer.files, ","), outs);
}

std::string AuditPipeline::status_line() const {
  return fmt::format(
      "audit: {} lines, {} events, {} corrupt, {} filtered, {} delivered, {} pending{}; tailer {} rotations, {} "
      "truncations, {} read errors",
      stats_.lines, stats_.events, stats_.corrupt, stats_.filtered, stats_.delivered, in_flight_.size(),
      paused_ ? " (paused)" : "", tailer_.stats().rotations, tailer_.stats().truncations, tailer_.stats().read_errors) +
         outputs_status();
}

std::string AuditPipeline::outputs_status() const {
  std::string out;
  for (const auto& o : outputs_) {
    if (auto st = o->status(); !st.empty()) out += "; " + st;
  }
  return out;
}

common::Result<std::vector<std::unique_ptr<TrailOutput>>> build_trail_outputs(
    const AgentConfig& config, const common::Clock& clock, common::Scheduler& scheduler, AwsContext* aws,
    LocalSink& local, const HostContext& host, bool force_local) {
  std::vector<std::unique_ptr<TrailOutput>> outputs;
  // One dead-letter file for every AWS output; each holds a reference, so it lives as long as they do.
  std::shared_ptr<DeadLetterFile> dead_letters;
  for (const TrailSink& sink : config.trail.sinks) {
    if (sink.type == SinkType::kLocal || force_local) {
      outputs.push_back(std::make_unique<LocalTrailOutput>(clock, local, sink, host));
      continue;
    }
    if (aws == nullptr) {
      return common::Error(common::ErrorCode::kConfig,
                           fmt::format("trail.sinks: type {} needs AWS, which was not set up (use type local, or "
                                       "`trailwatch once` to see what it would send)",
                                       to_string(sink.type)));
    }
    const common::aws::Service service = sink.type == SinkType::kCloudTrailLake   ? common::aws::Service::kCloudTrailData
                                         : sink.type == SinkType::kCloudWatchLogs ? common::aws::Service::kCloudWatchLogs
                                                                                  : common::aws::Service::kS3;
    auto endpoint = aws->endpoint(service);
    if (!endpoint.ok()) return std::move(endpoint).error().wrap(fmt::format("trail.sinks: {}", to_string(sink.type)));
    if (!dead_letters) {
      dead_letters = std::make_shared<DeadLetterFile>(clock, config.delivery.spool_dir, config.delivery.max_spool_size);
    }
    TrailAwsDeps deps{clock, scheduler, aws->client(), std::move(*endpoint), host, dead_letters};
    // Refuses a sink that cannot send anything valid (no account for S3 keys or the Lake recipient):
    // the start fails with the reason instead of holding every record forever.
    auto output = make_trail_aws_output(std::move(deps), sink, config.delivery);
    if (!output.ok()) return std::move(output).error().wrap(fmt::format("trail.sinks: {}", to_string(sink.type)));
    outputs.push_back(std::move(*output));
  }
  return outputs;
}

}  // namespace agent
