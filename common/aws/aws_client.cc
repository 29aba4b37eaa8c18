#include "common/aws/aws_client.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/http/gzip.h"

namespace common::aws {
namespace {

// Repeated failures of one operation+code: the first few per minute are logged, the rest counted.
constexpr std::chrono::seconds kFailureLogWindow{60};
constexpr int kFailureLogBurst = 5;
// Connect deadline per attempt (never more than the attempt's total timeout).
constexpr std::chrono::milliseconds kConnectTimeout{3000};
// Server messages are logged at most this long (they never carry secrets, but can be chatty).
constexpr std::size_t kMaxLoggedMessage = 200;

std::chrono::seconds abs_seconds(std::chrono::seconds s) { return s < std::chrono::seconds(0) ? -s : s; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

AwsError transport_error(const AttemptOutcome& outcome, const common::Error& cause) {
  AwsError e;
  e.http_status = 0;
  e.message = cause.to_string();
  switch (outcome.kind) {
    case AttemptOutcome::Kind::kTimeout:
      e.code = "RequestTimeout";
      e.retryable = true;
      break;
    case AttemptOutcome::Kind::kNoResponse:
      e.code = "NetworkError";
      e.retryable = true;
      break;
    default:
      e.code = cause.code() == common::ErrorCode::kCancelled ? "RequestCancelled" : "LocalError";
      break;
  }
  return e;
}

}  // namespace

struct AwsClient::CallState {
  AwsCall call;
  common::http::Request base;  // unsigned; copied and signed per attempt
  std::string payload_hash;    // of the bytes sent (post-gzip), computed once
  AwsCallHandler done;
  int attempts = 0;          // HTTP requests sent
  int counted_attempts = 0;  // the ones the retry policy counts (corrections excluded)
  bool next_is_correction = false;
  bool skew_corrected = false;
  bool credentials_refreshed = false;
  bool backoff_retried = false;
  bool temporary_credentials = false;  // the last attempt was signed with a session token
};

AwsCall query_protocol_call(Service service, const Endpoint& endpoint, std::string operation, std::string body) {
  AwsCall call;
  call.service = service;
  call.region = endpoint.signing_region;
  call.endpoint = endpoint.url;
  call.method = "POST";
  call.path = "/";
  call.operation = std::move(operation);
  call.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  call.body = std::move(body);
  return call;
}

TransportFailure transport_failure_of(const AwsCallError& error) {
  if (!error.transport) return TransportFailure::kNone;
  switch (error.transport_code) {
    case common::ErrorCode::kTimeout: return TransportFailure::kTimeout;
    case common::ErrorCode::kNetwork:
    case common::ErrorCode::kUnavailable: return TransportFailure::kNoResponse;
    case common::ErrorCode::kNotFound:
    case common::ErrorCode::kPermissionDenied:
    case common::ErrorCode::kConfig: return TransportFailure::kNoCredentials;
    default: return TransportFailure::kLocal;
  }
}

DeliveryClass classify(const AwsCallError& error) { return classify_aws_error(error.error, transport_failure_of(error)); }

common::Error AwsCallError::to_error() const {
  common::ErrorCode code = common::ErrorCode::kRemote;
  if (transport) {
    code = transport_code;
  } else if (error.throttling) {
    code = common::ErrorCode::kThrottled;
  } else if (error.retryable) {
    code = common::ErrorCode::kUnavailable;
  } else if (error.expired_credentials || error.clock_skew) {
    code = common::ErrorCode::kPermissionDenied;
  }
  return common::Error(code, summary);
}

AwsClient::AwsClient(common::http::HttpClient& http, CredentialsProvider& credentials, common::Scheduler& scheduler,
                     const common::Clock& clock, RetryConfig retry, std::uint64_t seed)
    : http_(http),
      credentials_(credentials),
      scheduler_(scheduler),
      clock_(clock),
      policy_(retry),
      rng_(seed),
      log_limiter_(clock, kFailureLogWindow, kFailureLogBurst),
      alive_(std::make_shared<bool>(true)) {}

AwsClient::~AwsClient() {
  for (common::TimerId id : timers_) scheduler_.cancel(id);
}

void AwsClient::call(AwsCall call, AwsCallHandler done) {
  ++stats_.calls;
  auto st = std::make_shared<CallState>();
  st->done = std::move(done);
  common::http::Request& req = st->base;
  req.method = call.method;
  req.url = call.endpoint + (call.path.empty() || call.path.front() != '/' ? "/" : "") + call.path;
  if (!call.query.empty()) req.url += "?" + call.query;
  req.headers = call.headers;
  req.total_timeout = call.timeout;
  req.connect_timeout = std::min(kConnectTimeout, call.timeout);
  if (call.gzip_body) {
    req.body = common::http::gzip_compress(call.body);
    std::erase_if(req.headers, [](const common::http::Header& h) { return iequals(h.name, "content-encoding"); });
    req.headers.push_back({"Content-Encoding", "gzip"});
  } else {
    req.body = call.body;
  }
  call.body.clear();  // the request holds the bytes; keep one copy
  st->payload_hash = sha256_hex(req.body);
  st->call = std::move(call);
  retry_after(st, std::chrono::milliseconds(0));  // start on the loop: done never runs inline
}

void AwsClient::start_attempt(const std::shared_ptr<CallState>& st) {
  std::weak_ptr<bool> alive = alive_;
  credentials_.get([this, alive, st](common::Result<Credentials> creds) {
    if (alive.expired()) return;
    if (!creds.ok()) {
      AwsCallError err;
      err.error.code = "CredentialsUnavailable";
      err.error.message = creds.error().to_string();
      err.transport = true;
      err.transport_code = creds.error().code();
      return fail(st, std::move(err));
    }
    send_attempt(st, std::move(creds).value());
  });
}

void AwsClient::send_attempt(const std::shared_ptr<CallState>& st, Credentials creds) {
  common::http::Request req = st->base;
  SigningParams params;
  params.region = st->call.region;
  params.service = std::string(signing_name(st->call.service));
  params.time = clock_.wall_now() + offset_;
  params.s3_path_rules = st->call.service == Service::kS3;
  params.precomputed_payload_hash = st->payload_hash;
  if (auto s = signer_.sign(req, creds, params); !s.ok()) {
    AwsCallError err;
    err.error.code = "LocalError";
    err.error.message = s.error().to_string();
    err.transport = true;
    err.transport_code = s.error().code();
    return fail(st, std::move(err));
  }
  st->temporary_credentials = !creds.session_token.empty();
  ++st->attempts;
  if (!st->next_is_correction) ++st->counted_attempts;
  st->next_is_correction = false;
  ++stats_.attempts;
  std::weak_ptr<bool> alive = alive_;
  http_.send(std::move(req), [this, alive, st](common::Result<common::http::Response> r) {
    if (alive.expired()) return;
    on_response(st, std::move(r));
  });
}

void AwsClient::on_response(const std::shared_ptr<CallState>& st, common::Result<common::http::Response> r) {
  AttemptOutcome outcome;
  AwsError error;
  if (r.ok()) {
    common::http::Response& resp = r.value();
    if (resp.status >= 200 && resp.status < 300) return succeed(st, std::move(resp));
    const common::WallTime local_now = clock_.wall_now();
    // "Possible skew" codes count as skew when Date is far from the time we sign at.
    outcome = AttemptOutcome::from_response(resp, local_now + offset_);
    error = *outcome.error;
    if (error.throttling) ++stats_.throttled;

    if (error.clock_skew && !st->skew_corrected) {
      auto date = resp.header("date");
      auto observed = date ? skew_from_date_header(*date, local_now) : std::nullopt;
      if (observed && abs_seconds(*observed - offset_) > kClockSkewCorrectionThreshold) {
        offset_ = abs_seconds(*observed) > kClockSkewCorrectionThreshold ? *observed : std::chrono::seconds(0);
        st->skew_corrected = true;
        st->next_is_correction = true;
        ++stats_.skew_corrections;
        spdlog::info("aws {} {}: clock skew ({}), signing with offset {}s from now on", signing_name(st->call.service),
                     st->call.operation, error.code, offset_.count());
        return retry_after(st, std::chrono::milliseconds(0));
      }
    }
    // Temporary keys the service no longer knows were most likely rotated under us.
    const bool expired = error.expired_credentials || (error.code == "InvalidClientTokenId" && st->temporary_credentials);
    if (expired && !st->credentials_refreshed) {
      credentials_.invalidate();
      st->credentials_refreshed = true;
      st->next_is_correction = true;
      ++stats_.credential_refreshes;
      spdlog::info("aws {} {}: {} from the service, refreshing credentials from {}", signing_name(st->call.service),
                   st->call.operation, error.code, credentials_.name());
      return retry_after(st, std::chrono::milliseconds(0));
    }
  } else {
    outcome = AttemptOutcome::from_transport_error(r.error());
    error = transport_error(outcome, r.error());
  }

  const bool timed_out = outcome.kind == AttemptOutcome::Kind::kTimeout;
  if (timed_out) ++stats_.timeouts;
  if (auto delay = policy_.next_delay(outcome, st->counted_attempts, rng_)) {
    ++stats_.retries;
    st->backoff_retried = true;
    if (timed_out) {
      // The request may have been stored before the answer was lost: say so, since what follows is a
      // re-send (deduplicated downstream by the payload's own ids, e.g. eventID).
      ++stats_.resent_after_timeout;
      const std::string op =
          st->call.operation.empty() ? std::string(signing_name(st->call.service)) : st->call.operation;
      std::uint64_t suppressed = 0;
      if (log_limiter_.allow(op + "/timeout", &suppressed)) {
        spdlog::warn("aws {} {}: no answer within {} ms (attempt {}); sending it again in {} ms, the service may "
                     "already hold the first copy{}",
                     signing_name(st->call.service), op, st->call.timeout.count(), st->attempts, delay->count(),
                     suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : std::string());
      }
    }
    return retry_after(st, *delay);
  }
  AwsCallError err;
  err.transport = !r.ok();
  if (!r.ok()) err.transport_code = r.error().code();
  err.error = std::move(error);
  fail(st, std::move(err));
}

void AwsClient::retry_after(const std::shared_ptr<CallState>& st, std::chrono::milliseconds delay) {
  auto id_holder = std::make_shared<common::TimerId>(0);
  std::weak_ptr<bool> alive = alive_;
  *id_holder = scheduler_.schedule_after(delay, [this, alive, st, id_holder] {
    if (alive.expired()) return;
    timers_.erase(*id_holder);
    start_attempt(st);
  });
  timers_.insert(*id_holder);
}

void AwsClient::succeed(const std::shared_ptr<CallState>& st, common::http::Response response) {
  policy_.on_success(st->backoff_retried);
  deliver(st, AwsCallResult{std::move(response), st->attempts});
}

void AwsClient::fail(const std::shared_ptr<CallState>& st, AwsCallError err) {
  ++stats_.failures;
  err.attempts = st->attempts;
  const std::string op = st->call.operation.empty() ? std::string(signing_name(st->call.service)) : st->call.operation;
  err.summary = op + ": " + err.error.to_string() + " after " + std::to_string(st->attempts) + " attempt(s)";
  std::uint64_t suppressed = 0;
  if (log_limiter_.allow(op + "/" + err.error.code, &suppressed)) {
    std::string message = err.error.message.substr(0, kMaxLoggedMessage);
    spdlog::warn("aws {} {} failed: status {} code {} attempts {} request id {}: {}{}", signing_name(st->call.service),
                 op, err.error.http_status, err.error.code.empty() ? "-" : err.error.code, st->attempts,
                 err.error.request_id.empty() ? "-" : err.error.request_id, message,
                 suppressed ? " (" + std::to_string(suppressed) + " similar suppressed)" : std::string());
  }
  deliver(st, std::move(err));
}

void AwsClient::deliver(const std::shared_ptr<CallState>& st, AwsCallOutcome outcome) {
  AwsCallHandler done = std::move(st->done);
  st->done = nullptr;
  if (done) done(std::move(outcome));  // may destroy this client: nothing after
}

}  // namespace common::aws
