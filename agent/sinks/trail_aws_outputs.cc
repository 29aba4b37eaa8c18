#include "agent/sinks/trail_aws_outputs.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/gzip.h"

namespace agent {
namespace {

using common::aws::AwsCall;
using common::aws::AwsCallError;
using common::aws::AwsCallOutcome;
using common::aws::AwsCallResult;

const AwsCallError* as_error(const AwsCallOutcome& o) { return std::get_if<AwsCallError>(&o); }

// "scheme://host[:port]/path" -> {"scheme://host[:port]", "/path"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

std::uint64_t seed_of(const HostContext& host) {
  return std::hash<std::string>{}(host.boot_id + "|" + host.instance_id + "|" + host.hostname);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// AwsTrailOutputBase

AwsTrailOutputBase::AwsTrailOutputBase(TrailAwsDeps deps, const DeliveryConfig& delivery, std::string log_name)
    : deps_(std::move(deps)),
      delivery_(delivery),
      log_name_(std::move(log_name)),
      own_rng_(deps_.rng != nullptr ? nullptr : std::make_unique<common::aws::SeededRng>(seed_of(deps_.host))),
      backoff_(std::max(std::chrono::milliseconds(1), delivery.retry_base),
               std::max(delivery.retry_base, delivery.retry_max_backoff),
               deps_.rng != nullptr ? *deps_.rng : *own_rng_),
      limiter_(deps_.clock, std::chrono::seconds(60), 5) {}

AwsTrailOutputBase::~AwsTrailOutputBase() {
  if (linger_timer_ != 0) deps_.scheduler.cancel(linger_timer_);
  if (backoff_timer_ != 0) deps_.scheduler.cancel(backoff_timer_);
}

bool AwsTrailOutputBase::backlog_full() const {
  return delivery_.max_queue_records > 0 && unacked_.size() >= static_cast<std::size_t>(delivery_.max_queue_records);
}

AwsTrailOutputBase::Tracked AwsTrailOutputBase::track(std::uint64_t seq, std::size_t bytes) {
  Tracked t{next_ordinal_++, seq, bytes};
  unacked_.insert(t.ordinal);
  pending_bytes_ += bytes;
  ++stats_.submitted;
  if (backlog_full() && !warned_full_) {
    warned_full_ = true;
    spdlog::warn("{}: {} record(s) not yet delivered (delivery.max_queue_records); the pipeline should pause",
                 describe(), unacked_.size());
  }
  return t;
}

void AwsTrailOutputBase::acknowledge(const Tracked& t) {
  if (unacked_.erase(t.ordinal) == 0) return;  // never twice
  pending_bytes_ -= std::min(pending_bytes_, t.bytes);
  ++stats_.delivered;
  if (!backlog_full()) warned_full_ = false;
  if (on_delivered_) on_delivered_(t.seq);
  check_waiters();
}

void AwsTrailOutputBase::dead_letter(const Tracked& t, std::string_view payload, std::string_view reason) {
  if (unacked_.erase(t.ordinal) == 0) return;
  pending_bytes_ -= std::min(pending_bytes_, t.bytes);
  if (deps_.dead_letters) deps_.dead_letters->write(describe(), reason, payload);
  ++stats_.dead_lettered;
  if (!backlog_full()) warned_full_ = false;
  if (on_delivered_) on_delivered_(t.seq);
  check_waiters();
}

std::string AwsTrailOutputBase::dead_letter_note() const {
  if (!deps_.dead_letters) return {};
  if (!deps_.dead_letters->usable()) return "; not copied, " + deps_.dead_letters->path() + " cannot be opened";
  return "; copied to " + deps_.dead_letters->path();
}

void AwsTrailOutputBase::flush(std::function<void()> done) {
  if (!refused_.empty()) {  // nothing will be sent: do not hold up the shutdown
    deps_.scheduler.post(std::move(done));
    return;
  }
  before_flush();
  if (unacked_.empty()) {
    deps_.scheduler.post(std::move(done));
    return;
  }
  waiters_.push_back({next_ordinal_, std::move(done)});
  if (backoff_timer_ != 0) {  // one more try now rather than after the backoff
    deps_.scheduler.cancel(backoff_timer_);
    backoff_timer_ = 0;
  }
  send_now_ = true;
  pump();
}

void AwsTrailOutputBase::check_waiters() {
  if (waiters_.empty()) return;
  const std::uint64_t lowest = unacked_.empty() ? next_ordinal_ : *unacked_.begin();
  std::vector<FlushWaiter> keep;
  for (auto& w : waiters_) {
    if (lowest >= w.mark) {
      deps_.scheduler.post(std::move(w.done));
    } else {
      keep.push_back(std::move(w));
    }
  }
  waiters_ = std::move(keep);
}

void AwsTrailOutputBase::release_waiters() {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) deps_.scheduler.post(std::move(w.done));
}

void AwsTrailOutputBase::attempt_finished(Attempt result) {
  in_flight_ = false;
  if (result == Attempt::kDone) {
    if (backoff_.failures() > 0) {
      ++stats_.recoveries;
      spdlog::info("{}: delivering again after {} failed attempt(s); {} record(s) pending", describe(),
                   backoff_.failures(), unacked_.size());
    }
    backoff_.reset();
    send_now_ = true;  // what arrived meanwhile has waited a round trip already
    pump();
    return;
  }
  if (result == Attempt::kFailed) release_waiters();  // "finished or failed"
  ++stats_.backoffs;
  const auto delay = backoff_.next();
  backoff_timer_ = deps_.scheduler.schedule_after(delay, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    backoff_timer_ = 0;
    send_now_ = true;
    pump();
  });
}

void AwsTrailOutputBase::refuse(std::string why) {
  refused_ = std::move(why);
  spdlog::error("{}: {}; this output sends nothing and keeps its records", describe(), refused_);
}

void AwsTrailOutputBase::pump() {
  if (!refused_.empty()) {
    log_error("refused", fmt::format("{}; {} record(s) kept, not sent", refused_, unacked_.size()));
    return;
  }
  if (in_flight_ || backoff_timer_ != 0) return;
  if (!has_work()) {
    send_now_ = false;
    return;
  }
  if (send_now_ || batch_full() || !waiters_.empty()) {
    send_now_ = false;
    if (linger_timer_ != 0) {
      deps_.scheduler.cancel(linger_timer_);
      linger_timer_ = 0;
    }
    in_flight_ = true;
    send_batch();
    return;
  }
  if (linger_timer_ == 0) {
    linger_timer_ = deps_.scheduler.schedule_after(kTrailBatchLinger, [this, alive = std::weak_ptr<int>(alive_)] {
      if (alive.expired()) return;
      linger_timer_ = 0;
      send_now_ = true;
      pump();
    });
  }
}

bool AwsTrailOutputBase::keep_for_retry(const AwsCallError& err) const {
  // The one table (common/aws/error_class): retry and setup problems keep the records; only a
  // payload refused for good is dead-lettered.
  return common::aws::classify(err) != common::aws::DeliveryClass::kRefused;
}

std::string AwsTrailOutputBase::status() const {
  std::string out = fmt::format("{}: {} delivered, {} dead-lettered, {} re-sent, {} failed calls, {} backoffs, {} "
                                "recoveries, {} pending ({} bytes)",
                                describe(), stats_.delivered, stats_.dead_lettered, stats_.records_resent,
                                stats_.requests_failed, stats_.backoffs, stats_.recoveries, unacked_.size(),
                                pending_bytes_);
  if (deps_.dead_letters) {
    const auto& d = deps_.dead_letters->stats();
    out += fmt::format("; dead-letter file {} written, {} dropped, {} failed", d.written, d.dropped, d.failed);
  }
  return out;
}

void AwsTrailOutputBase::log_error(const std::string& key, const std::string& message) {
  limiter_.log(spdlog::level::err, key, fmt::format("{}: {}", describe(), message));
}

void AwsTrailOutputBase::log_warn(const std::string& key, const std::string& message) {
  limiter_.log(spdlog::level::warn, key, fmt::format("{}: {}", describe(), message));
}

// ---------------------------------------------------------------------------------------------
// CloudTrailLakeOutput

CloudTrailLakeOutput::CloudTrailLakeOutput(TrailAwsDeps deps, const TrailSink& sink, const DeliveryConfig& delivery)
    : AwsTrailOutputBase(std::move(deps), delivery, "cloudtrail_lake"),
      channel_arn_(sink.channel_arn),
      recipient_account_(lake_recipient_account(channel_arn_, deps_.host.account_id)) {
  if (auto st = check_trail_aws_sink(sink, deps_.host); !st.ok()) refuse(st.error().message());
}

std::string CloudTrailLakeOutput::describe() const { return fmt::format("cloudtrail_lake({})", channel_arn_); }

void CloudTrailLakeOutput::submit(std::uint64_t seq, const TrailRecord& record) {
  LakeAuditEvent event = make_lake_audit_event(record, recipient_account_);
  const std::size_t bytes = event.event_data.size() + event.id.size() + event.event_data_checksum.size();
  Entry e{track(seq, bytes), std::move(event), 0};
  buffered_bytes_ += bytes;
  buffer_.push_back(std::move(e));
  pump();
}

bool CloudTrailLakeOutput::batch_full() const {
  return buffer_.size() >= kLakeMaxEventsPerRequest || buffered_bytes_ >= kLakeMaxRequestBytes;
}

void CloudTrailLakeOutput::requeue_front(std::vector<Entry>& entries) {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    buffered_bytes_ += it->event.event_data.size() + it->event.id.size() + it->event.event_data_checksum.size();
    buffer_.push_front(std::move(*it));
  }
  entries.clear();
}

void CloudTrailLakeOutput::send_batch() {
  const std::size_t n = std::min(buffer_.size(), kLakeMaxEventsPerRequest);
  std::vector<LakeAuditEvent> events;
  events.reserve(n);
  for (std::size_t i = 0; i < n; ++i) events.push_back(buffer_[i].event);
  std::vector<LakeRequest> requests = encode_put_audit_events(events);
  const std::size_t take = requests.empty() ? n : requests.front().count;
  batch_.clear();
  for (std::size_t i = 0; i < take; ++i) {
    Entry& e = buffer_.front();
    buffered_bytes_ -= std::min(buffered_bytes_,
                                e.event.event_data.size() + e.event.id.size() + e.event.event_data_checksum.size());
    batch_.push_back(std::move(e));
    buffer_.pop_front();
  }

  AwsCall call;
  call.service = common::aws::Service::kCloudTrailData;
  call.region = deps_.endpoint.signing_region;
  call.endpoint = deps_.endpoint.url;
  call.method = "POST";
  call.path = "/PutAuditEvents";
  call.query = put_audit_events_query(channel_arn_);
  call.headers.push_back({"Content-Type", "application/json"});
  call.body = requests.empty() ? std::string() : std::move(requests.front().body);
  call.operation = "PutAuditEvents";
  const std::size_t bytes = call.body.size();
  deps_.aws.call(std::move(call), [this, alive = std::weak_ptr<int>(alive_), bytes](AwsCallOutcome outcome) {
    if (alive.expired()) return;
    if (!as_error(outcome)) stats_.bytes_sent += bytes;
    on_response(std::move(outcome));
  });
}

void CloudTrailLakeOutput::on_response(AwsCallOutcome outcome) {
  if (const AwsCallError* err = as_error(outcome)) {
    ++stats_.requests_failed;
    if (keep_for_retry(*err)) {
      log_warn("call", fmt::format("{}; {} event(s) kept for a later attempt", err->summary, batch_.size()));
      stats_.records_resent += batch_.size();
      requeue_front(batch_);
      return attempt_finished(Attempt::kFailed);
    }
    log_error("rejected", fmt::format("{}; {} event(s) dead-lettered (the request would fail the same way again){}",
                                      err->summary, batch_.size(), dead_letter_note()));
    for (const Entry& e : batch_) dead_letter(e.tracked, e.event.event_data, err->summary);
    batch_.clear();
    return attempt_finished(Attempt::kDone);
  }

  ++stats_.requests_sent;
  auto parsed = parse_put_audit_events_response(std::get<AwsCallResult>(outcome).response.body);
  if (!parsed.ok()) {
    // Unknown which events were stored; sending them again may duplicate some, losing them is worse.
    log_warn("parse", fmt::format("PutAuditEvents answer unreadable ({}); {} event(s) sent again",
                                  parsed.error().to_string(), batch_.size()));
    stats_.records_resent += batch_.size();
    requeue_front(batch_);
    return attempt_finished(Attempt::kFailed);
  }
  std::unordered_map<std::string, const LakeFailure*> failed;
  std::unordered_map<std::string, bool> ok;
  for (const auto& s : parsed->successful) ok[s.id] = true;
  for (const auto& f : parsed->failed) failed[f.id] = &f;

  std::vector<Entry> again;
  for (Entry& e : batch_) {
    if (ok.count(e.event.id) != 0) {
      acknowledge(e.tracked);
      continue;
    }
    const auto it = failed.find(e.event.id);
    ++e.attempts;
    // Throttling / InternalFailure (aws-wire 4.2: the entries to resend) are sent again for as long as
    // it takes, after the output's usual capped, jittered backoff (attempt_finished(kRetryLater) ->
    // next_backoff()): counting them out would drop events for being throttled. An id missing from
    // the answer breaks the API's contract; it is sent again up to delivery.max_retries times.
    const bool retryable = it != failed.end() && classify_lake_failure(it->second->error_code) == LakeFailureAction::kRetry;
    if (retryable || (it == failed.end() && e.attempts <= delivery_.max_retries)) {
      again.push_back(std::move(e));
      continue;
    }
    const std::string code = it == failed.end() ? "missing from the answer" : it->second->error_code;
    const std::string message = it == failed.end() ? "" : it->second->error_message;
    log_error("event:" + code, fmt::format("event {} dead-lettered after {} attempt(s): {} {}{}", e.event.id,
                                           e.attempts, code, message, dead_letter_note()));
    dead_letter(e.tracked, e.event.event_data,
                fmt::format("PutAuditEvents failed[] {}: {}", code, message.empty() ? std::string("-") : message));
  }
  batch_.clear();
  if (again.empty()) return attempt_finished(Attempt::kDone);
  stats_.records_resent += again.size();
  log_warn("retry-events", fmt::format("{} event(s) failed transiently; sent again after a backoff", again.size()));
  requeue_front(again);
  attempt_finished(Attempt::kRetryLater);
}

// ---------------------------------------------------------------------------------------------
// CloudWatchLogsOutput

CloudWatchLogsOutput::CloudWatchLogsOutput(TrailAwsDeps deps, const TrailSink& sink, const DeliveryConfig& delivery)
    : AwsTrailOutputBase(std::move(deps), delivery, "cloudwatch_logs"),
      group_(expand_log_name_template(sink.log_group, deps_.host, false)),
      stream_(expand_log_name_template(sink.log_stream, deps_.host, true)),
      create_(sink.create) {
  // The config checked the templates; what a placeholder brought in (an odd hostname) shows only now.
  // The service will refuse every request, so say why once, in plain words.
  if (std::string problem = log_group_name_problem(group_); !problem.empty()) {
    spdlog::error("{}: log group name \"{}\" (from \"{}\") is not valid for CloudWatch Logs: {}; "
                  "PutLogEvents will be refused: name the group without placeholders, or set agent.hostname",
                  describe(), group_, sink.log_group, problem);
  }
  if (std::string problem = log_stream_name_problem(stream_); !problem.empty()) {
    spdlog::error("{}: log stream name \"{}\" (from \"{}\") is not valid for CloudWatch Logs: {}; "
                  "PutLogEvents will be refused: name the stream without placeholders, or set agent.hostname",
                  describe(), stream_, sink.log_stream, problem);
  }
}

std::string CloudWatchLogsOutput::describe() const {
  return fmt::format("cloudwatch_logs({}, stream {})", group_, stream_);
}

void CloudWatchLogsOutput::submit(std::uint64_t seq, const TrailRecord& record) {
  LogEvent event = make_log_event(record);
  const std::size_t bytes = event.message.size() + kLogsEventOverheadBytes;
  Entry e{track(seq, bytes), std::move(event)};
  buffered_bytes_ += bytes;
  buffer_.push_back(std::move(e));
  pump();
}

bool CloudWatchLogsOutput::batch_full() const {
  return buffer_.size() >= kLogsMaxEventsPerBatch || buffered_bytes_ >= kLogsMaxBatchBytes;
}

void CloudWatchLogsOutput::send_batch() {
  const std::size_t n = std::min(buffer_.size(), kLogsMaxEventsPerBatch);
  std::vector<Entry> taken;
  taken.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    buffered_bytes_ -= std::min(buffered_bytes_, buffer_.front().event.message.size() + kLogsEventOverheadBytes);
    taken.push_back(std::move(buffer_.front()));
    buffer_.pop_front();
  }
  // Sorted here with the encoder's own (stable, by timestamp) order, so request i's events are a
  // known run of `taken`.
  std::stable_sort(taken.begin(), taken.end(),
                   [](const Entry& a, const Entry& b) { return a.event.timestamp_ms < b.event.timestamp_ms; });
  std::vector<LogEvent> events;
  events.reserve(taken.size());
  for (const Entry& e : taken) events.push_back(e.event);
  std::vector<LogsRequest> requests = encode_put_log_events(group_, stream_, std::move(events));
  const std::size_t count = requests.empty() ? taken.size() : requests.front().count;
  batch_.clear();
  for (std::size_t i = 0; i < count; ++i) batch_.push_back(std::move(taken[i]));
  for (std::size_t i = taken.size(); i > count; --i) {
    buffered_bytes_ += taken[i - 1].event.message.size() + kLogsEventOverheadBytes;
    buffer_.push_front(std::move(taken[i - 1]));
  }
  batch_body_ = requests.empty() ? std::string() : std::move(requests.front().body);
  bootstrapped_ = false;
  put();
}

namespace {
AwsCall logs_call(const common::aws::Endpoint& endpoint, const std::string& operation, std::string body) {
  AwsCall call;
  call.service = common::aws::Service::kCloudWatchLogs;
  call.region = endpoint.signing_region;
  call.endpoint = endpoint.url;
  call.method = "POST";
  call.path = "/";
  call.headers.push_back({"Content-Type", "application/x-amz-json-1.1"});
  call.headers.push_back({"X-Amz-Target", "Logs_20140328." + operation});
  call.body = std::move(body);
  call.operation = operation;
  return call;
}
}  // namespace

void CloudWatchLogsOutput::put() {
  const std::size_t bytes = batch_body_.size();
  deps_.aws.call(logs_call(deps_.endpoint, "PutLogEvents", batch_body_),
                 [this, alive = std::weak_ptr<int>(alive_), bytes](AwsCallOutcome outcome) {
                   if (alive.expired()) return;
                   if (!as_error(outcome)) stats_.bytes_sent += bytes;
                   on_put(std::move(outcome));
                 });
}

void CloudWatchLogsOutput::settle_all(bool delivered, std::string_view reason) {
  for (const Entry& e : batch_) {
    if (delivered) {
      acknowledge(e.tracked);
    } else {
      dead_letter(e.tracked, e.event.message, reason);
    }
  }
  batch_.clear();
  batch_body_.clear();
}

void CloudWatchLogsOutput::fail_batch(const std::string& why) {
  log_warn("call", fmt::format("{}; {} event(s) kept for a later attempt", why, batch_.size()));
  stats_.records_resent += batch_.size();
  for (std::size_t i = batch_.size(); i > 0; --i) {
    buffered_bytes_ += batch_[i - 1].event.message.size() + kLogsEventOverheadBytes;
    buffer_.push_front(std::move(batch_[i - 1]));
  }
  batch_.clear();
  batch_body_.clear();
  attempt_finished(Attempt::kFailed);
}

void CloudWatchLogsOutput::on_put(AwsCallOutcome outcome) {
  if (const AwsCallError* err = as_error(outcome)) {
    ++stats_.requests_failed;
    const std::string& code = err->error.code;
    if (code == "ResourceNotFoundException" && create_ && !bootstrapped_) {
      bootstrapped_ = true;
      return bootstrap();
    }
    // No longer returned by the service (sinks spec 1.5); if seen, the events are already stored.
    if (code == "DataAlreadyAcceptedException" || code == "InvalidSequenceTokenException") {
      settle_all(true);
      return attempt_finished(Attempt::kDone);
    }
    if (keep_for_retry(*err)) return fail_batch(err->summary);
    log_error("rejected", fmt::format("{}; {} event(s) dead-lettered (the request would fail the same way again){}",
                                      err->summary, batch_.size(), dead_letter_note()));
    settle_all(false, err->summary);
    return attempt_finished(Attempt::kDone);
  }

  ++stats_.requests_sent;
  auto rejected = parse_put_log_events_response(std::get<AwsCallResult>(outcome).response.body);
  if (!rejected.ok()) {
    // A 200 means the events were stored; only the rejection detail is unknown.
    log_warn("parse", fmt::format("PutLogEvents answer unreadable ({}); counting all {} event(s) as stored",
                                  rejected.error().to_string(), batch_.size()));
    settle_all(true);
    return attempt_finished(Attempt::kDone);
  }
  if (rejected->any()) {
    const std::size_t n = rejected->rejected_count(batch_.size());
    log_error("rejected-events",
              fmt::format("{} event(s) rejected by CloudWatch Logs (too new: index >= {}, too old: < {}, expired: < {}); "
                          "dead-lettered{}",
                          n, rejected->too_new_start ? std::to_string(*rejected->too_new_start) : "-",
                          rejected->too_old_end ? std::to_string(*rejected->too_old_end) : "-",
                          rejected->expired_end ? std::to_string(*rejected->expired_end) : "-",
                          dead_letter_note()));
  }
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    if (rejected->rejected(i)) {
      const auto idx = static_cast<int64_t>(i);
      const char* why = rejected->too_new_start && idx >= *rejected->too_new_start ? "tooNewLogEventStartIndex"
                        : rejected->expired_end && idx < *rejected->expired_end    ? "expiredLogEventEndIndex"
                                                                                   : "tooOldLogEventEndIndex";
      dead_letter(batch_[i].tracked, batch_[i].event.message,
                  fmt::format("PutLogEvents rejectedLogEventsInfo {}: event {} of the batch", why, i));
    } else {
      acknowledge(batch_[i].tracked);
    }
  }
  batch_.clear();
  batch_body_.clear();
  attempt_finished(Attempt::kDone);
}

void CloudWatchLogsOutput::create(std::string operation, std::function<void(bool ok, const std::string& code)> next) {
  nlohmann::json body = {{"logGroupName", group_}};
  if (operation == "CreateLogStream") body["logStreamName"] = stream_;
  deps_.aws.call(logs_call(deps_.endpoint, operation, body.dump()),
                 [this, alive = std::weak_ptr<int>(alive_), operation, next = std::move(next)](AwsCallOutcome o) {
                   if (alive.expired()) return;
                   if (const AwsCallError* err = as_error(o)) {
                     if (err->error.code == "ResourceAlreadyExistsException") return next(true, err->error.code);
                     return next(false, err->error.code.empty() ? err->summary : err->error.code);
                   }
                   if (operation == "CreateLogGroup") {
                     ++groups_created_;
                     spdlog::info("{}: created log group {}", describe(), group_);
                   } else {
                     ++streams_created_;
                     spdlog::info("{}: created log stream {}", describe(), stream_);
                   }
                   next(true, {});
                 });
}

// Sinks spec 1.6: CreateLogStream; if the group is missing too, CreateLogGroup then CreateLogStream.
void CloudWatchLogsOutput::bootstrap() {
  create("CreateLogStream", [this](bool ok, const std::string& code) {
    if (ok) return put();
    if (code != "ResourceNotFoundException") return fail_batch("CreateLogStream failed: " + code);
    create("CreateLogGroup", [this](bool group_ok, const std::string& group_code) {
      if (!group_ok) return fail_batch("CreateLogGroup failed: " + group_code);
      create("CreateLogStream", [this](bool stream_ok, const std::string& stream_code) {
        if (!stream_ok) return fail_batch("CreateLogStream failed: " + stream_code);
        put();
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// S3TrailOutput

S3TrailOutput::S3TrailOutput(TrailAwsDeps deps, const TrailSink& sink, const DeliveryConfig& delivery)
    : AwsTrailOutputBase(std::move(deps), delivery, "s3"),
      bucket_(sink.bucket),
      prefix_(sink.prefix),
      builder_(s3_trail_options(sink, deps_.host)) {
  if (auto st = check_trail_aws_sink(sink, deps_.host); !st.ok()) refuse(st.error().message());
}

S3TrailOutput::~S3TrailOutput() {
  if (roll_timer_ != 0) deps_.scheduler.cancel(roll_timer_);
}

std::string S3TrailOutput::describe() const {
  return prefix_.empty() ? fmt::format("s3(s3://{})", bucket_) : fmt::format("s3(s3://{}/{})", bucket_, prefix_);
}

void S3TrailOutput::start() { arm_roll_timer(); }

void S3TrailOutput::submit(std::uint64_t seq, const TrailRecord& record) {
  const std::size_t before = builder_.pending_bytes();
  auto done = builder_.add(record, deps_.clock.wall_now());
  // What this record added to the open file (a new file starts when the old one is done).
  const std::size_t after = builder_.pending_bytes();
  const Tracked t = track(seq, after > before ? after - before : after);
  if (done) enqueue(std::move(*done));
  open_records_.push_back(t);
  arm_roll_timer();
  pump();
}

void S3TrailOutput::enqueue(S3TrailObject object) {
  Object o;
  // The finished file holds the open file's records in order; the builder's open file (if any) now
  // holds only records added after it.
  const std::size_t n = std::min(object.record_count, open_records_.size());
  o.records.assign(open_records_.begin(), open_records_.begin() + static_cast<std::ptrdiff_t>(n));
  open_records_.erase(open_records_.begin(), open_records_.begin() + static_cast<std::ptrdiff_t>(n));
  o.object = std::move(object);
  queue_.push_back(std::move(o));
}

void S3TrailOutput::arm_roll_timer() {
  if (roll_timer_ != 0) return;
  const auto deadline = builder_.deadline();
  if (!deadline) return;
  const auto now = deps_.clock.wall_now();
  const auto delay = *deadline > now ? std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - now)
                                     : std::chrono::nanoseconds(0);
  roll_timer_ = deps_.scheduler.schedule_after(delay, [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    roll_timer_ = 0;
    on_roll_timer();
  });
}

void S3TrailOutput::on_roll_timer() {
  if (auto done = builder_.roll_due(deps_.clock.wall_now())) enqueue(std::move(*done));
  arm_roll_timer();  // the open file (if any) is a newer one, or the wall clock moved back
  pump();
}

void S3TrailOutput::before_flush() {
  if (auto done = builder_.flush(deps_.clock.wall_now())) enqueue(std::move(*done));
  if (roll_timer_ != 0) {
    deps_.scheduler.cancel(roll_timer_);
    roll_timer_ = 0;
  }
}

void S3TrailOutput::send_batch() {
  Object& o = queue_.front();
  auto url = common::aws::s3_object_url(deps_.endpoint, bucket_, o.object.key);
  if (!url.ok()) {
    const std::string why = fmt::format("cannot address object {} in bucket {}: {}", o.object.key, bucket_,
                                        url.error().to_string());
    log_error("url", fmt::format("{}; {} record(s) dead-lettered{}", why, o.records.size(), dead_letter_note()));
    Object gone = std::move(queue_.front());
    queue_.pop_front();
    dead_letter_object(gone, why);
    return attempt_finished(Attempt::kDone);
  }
  auto [endpoint, path] = split_url(*url);
  AwsCall call;
  call.service = common::aws::Service::kS3;
  call.region = deps_.endpoint.signing_region;
  call.endpoint = std::move(endpoint);
  call.method = "PUT";
  call.path = std::move(path);
  for (const auto& [name, value] : o.object.headers) call.headers.push_back({name, value});
  // The key is deterministic for the file: a 412 on a resend means an earlier attempt stored it.
  call.headers.push_back({"If-None-Match", "*"});
  call.body = o.object.body;  // already gzip: sent as is (Content-Encoding: gzip)
  call.operation = "PutObject";
  deps_.aws.call(std::move(call),
                 [this, alive = std::weak_ptr<int>(alive_)](AwsCallOutcome outcome) {
                   if (alive.expired()) return;
                   on_response(std::move(outcome));
                 });
}

void S3TrailOutput::on_response(AwsCallOutcome outcome) {
  Object& o = queue_.front();
  const AwsCallError* err = as_error(outcome);
  const bool stored = err == nullptr || err->error.http_status == 412 || err->error.code == "PreconditionFailed";
  if (stored) {
    if (err == nullptr) {
      ++stats_.requests_sent;
      stats_.bytes_sent += o.object.body.size();
    } else {
      ++stats_.requests_failed;
      spdlog::info("{}: {} already stored (412 on resend)", describe(), o.object.key);
    }
    ++objects_put_;
    recent_keys_.push_back(o.object.key);
    if (recent_keys_.size() > 100) recent_keys_.pop_front();
    Object done = std::move(queue_.front());
    queue_.pop_front();
    for (const Tracked& t : done.records) acknowledge(t);
    return attempt_finished(Attempt::kDone);
  }
  ++stats_.requests_failed;
  // Setup and transient errors retry for as long as it takes; a refused request (InvalidDigest,
  // BadDigest, ...) is rebuilt-and-resent at most delivery.max_retries times.
  const bool keep = keep_for_retry(*err);
  if (!keep) ++o.attempts;
  if (keep || o.attempts <= delivery_.max_retries) {
    log_warn("call", fmt::format("{}; object {} ({} record(s)) kept for a later attempt", err->summary,
                                 o.object.key, o.records.size()));
    stats_.records_resent += o.records.size();
    return attempt_finished(Attempt::kFailed);
  }
  log_error("rejected", fmt::format("{}; object {} refused {} time(s), its {} record(s) dead-lettered{}", err->summary,
                                    o.object.key, o.attempts, o.records.size(), dead_letter_note()));
  const std::string why = fmt::format("{} (object {})", err->summary, o.object.key);
  Object gone = std::move(queue_.front());
  queue_.pop_front();
  dead_letter_object(gone, why);
  attempt_finished(Attempt::kDone);
}

// The object holds only its gzip body: the records' texts are read back from it (rare path, so no
// second copy of every record is kept in memory meanwhile). Records[i] is records[i] (enqueue()). If
// the body cannot be read back (it was built here, so it should not happen), each record still gets a
// line, with an empty "event_text" and the reason saying why.
void S3TrailOutput::dead_letter_object(const Object& o, const std::string& reason) {
  std::vector<std::string> texts;
  std::string unreadable;
  if (deps_.dead_letters) {
    auto body = common::http::gzip_decompress(o.object.body, o.object.uncompressed_bytes + 1024);
    if (!body.ok()) {
      unreadable = body.error().to_string();
    } else {
      auto doc = nlohmann::ordered_json::parse(*body, nullptr, false);
      const auto records = doc.is_object() ? doc.find("Records") : doc.end();
      if (doc.is_discarded() || !doc.is_object() || records == doc.end() || !records->is_array()) {
        unreadable = "no Records array in the object body";
      } else {
        for (const auto& r : *records) {
          texts.push_back(r.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        }
        if (texts.size() != o.records.size()) {
          unreadable = fmt::format("the object body holds {} record(s), {} expected", texts.size(), o.records.size());
          texts.clear();
        }
      }
    }
  }
  const std::string no_text = unreadable.empty() ? reason : fmt::format("{} (record text unavailable: {})", reason, unreadable);
  for (std::size_t i = 0; i < o.records.size(); ++i) {
    if (i < texts.size()) {
      dead_letter(o.records[i], texts[i], reason);
    } else {
      dead_letter(o.records[i], {}, no_text);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Building

common::Status check_trail_aws_sink(const TrailSink& sink, const HostContext& host) {
  switch (sink.type) {
    case SinkType::kS3:
      if (s3_account_id(sink, host).empty()) {
        return common::Error(common::ErrorCode::kConfig,
                             fmt::format("trail sink s3 (bucket {}): no AWS account id for the object keys "
                                         "(AWSLogs/<account>/CloudTrail/...): set account_id on the sink, or run "
                                         "on EC2 with IMDS reachable (aws.imds)",
                                         sink.bucket));
      }
      return common::ok_status();
    case SinkType::kCloudTrailLake:
      if (lake_recipient_account(sink.channel_arn, host.account_id).empty()) {
        return common::Error(common::ErrorCode::kConfig,
                             fmt::format("trail sink cloudtrail_lake ({}): no account id for eventData "
                                         "recipientAccountId: give channel_arn as "
                                         "arn:<partition>:cloudtrail:<region>:<account>:channel/<id>, or run on EC2 "
                                         "with IMDS reachable (aws.imds)",
                                         sink.channel_arn));
      }
      return common::ok_status();
    case SinkType::kCloudWatchLogs:
      return common::ok_status();
    case SinkType::kLocal:
      break;
  }
  return common::Error(common::ErrorCode::kConfig, "trail sink local is not an AWS output");
}

common::Result<std::unique_ptr<TrailOutput>> make_trail_aws_output(TrailAwsDeps deps, const TrailSink& sink,
                                                                   const DeliveryConfig& delivery) {
  if (auto st = check_trail_aws_sink(sink, deps.host); !st.ok()) return std::move(st).error();
  switch (sink.type) {
    case SinkType::kCloudTrailLake:
      return std::unique_ptr<TrailOutput>(std::make_unique<CloudTrailLakeOutput>(std::move(deps), sink, delivery));
    case SinkType::kCloudWatchLogs:
      return std::unique_ptr<TrailOutput>(std::make_unique<CloudWatchLogsOutput>(std::move(deps), sink, delivery));
    case SinkType::kS3:
      return std::unique_ptr<TrailOutput>(std::make_unique<S3TrailOutput>(std::move(deps), sink, delivery));
    case SinkType::kLocal:
      break;
  }
  return common::Error(common::ErrorCode::kConfig, "trail sink local is not an AWS output");
}

}  // namespace agent
