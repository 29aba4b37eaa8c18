#include "common/http/curl_multi_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/spdlog.h>

#include "common/text/redact.h"

namespace common::http {
namespace {

constexpr int kRead = 0;
constexpr int kWrite = 1;
constexpr int kWantBit[2] = {1, 2};

void global_init_once() {
  // curl_global_init is not guaranteed thread-safe on every build; a function-local static runs it once.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    spdlog::critical("curl_global_init failed: {}", curl_easy_strerror(rc));
    std::abort();
  }
}

std::string_view trim(std::string_view s) {
  const auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

bool has_crlf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
           c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
  });
}

// The URL for error messages: without its query string (queries may carry tokens) and without any
// user:password@.
std::string url_for_log(std::string_view url) { return redact_url_userinfo(url.substr(0, url.find('?'))); }

ErrorCode map_curl_code(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return ErrorCode::kInvalidArgument;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
      return ErrorCode::kInternal;
    case CURLE_ABORTED_BY_CALLBACK:
      return ErrorCode::kCancelled;
    default:
      // DNS, connect, send/recv, empty reply, TLS handshake and verification failures.
      return ErrorCode::kNetwork;
  }
}

void invoke(ResponseHandler& handler, Result<Response> result) noexcept {
  try {
    if (handler) handler(std::move(result));
  } catch (const std::exception& e) {
    spdlog::error("http: response handler threw: {}", e.what());
  } catch (...) {
    spdlog::error("http: response handler threw a non-standard exception");
  }
}

}  // namespace

// One request in flight. Owns the easy handle; lives in transfers_ until completion or cancellation.
struct CurlMultiClient::Transfer {
  CURL* easy = nullptr;
  Request request;
  ResponseHandler on_done;
  Response response;
  curl_slist* headers = nullptr;
  std::array<char, CURL_ERROR_SIZE> error{};
  bool too_large = false;

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }

  static size_t on_body(char* data, size_t size, size_t count, void* userp) noexcept {
    auto* t = static_cast<Transfer*>(userp);
    const size_t len = size * count;
    if (len > t->request.max_response_bytes - t->response.body.size()) {
      t->too_large = true;
      return 0;  // != len: curl aborts with CURLE_WRITE_ERROR
    }
    try {
      t->response.body.append(data, len);
    } catch (...) {
      return 0;
    }
    return len;
  }

  static size_t on_header(char* data, size_t size, size_t count, void* userp) noexcept {
    auto* t = static_cast<Transfer*>(userp);
    const size_t len = size * count;
    try {
      std::string_view line(data, len);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
      auto& headers = t->response.headers;
      if (line.rfind("HTTP/", 0) == 0) {
        headers.clear();  // a new status line: keep only the final response's headers (not 100 Continue's)
      } else if (line.empty()) {
        // end of a header block
      } else if ((line.front() == ' ' || line.front() == '\t')) {
        if (!headers.empty()) {  // obsolete line folding: continues the previous value
          headers.back().value += ' ';
          headers.back().value += trim(line);
        }
      } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
        headers.push_back(Header{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
      }
    } catch (...) {
      return 0;
    }
    return len;
  }
};

// One socket curl asked us to watch. curl owns the fd; we only borrow it for readiness waits.
struct CurlMultiClient::Watch {
  explicit Watch(boost::asio::io_context& io) : descriptor(io) {}
  boost::asio::posix::stream_descriptor descriptor;
  int fd = -1;
  int wanted = 0;  // kWantBit[kRead] | kWantBit[kWrite]
  bool alive = true;
  std::array<bool, 2> pending{};
  std::array<unsigned, 2> generation{};  // bumps on every arm/cancel; stale completions are ignored
};

CurlMultiClient::CurlMultiClient(boost::asio::io_context& io, HttpClientOptions options)
    : io_(io), options_(std::move(options)), alive_(std::make_shared<int>(0)), timer_(io) {
  global_init_once();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) {
    spdlog::critical("curl_multi_init failed");
    std::abort();
  }
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMultiClient::on_socket_cb);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMultiClient::on_timer_cb);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, std::max(1L, options_.max_connections_per_host));
}

CurlMultiClient::~CurlMultiClient() {
  shutting_down_ = true;
  std::vector<ResponseHandler> cancelled;
  for (auto& [easy, transfer] : transfers_) {
    curl_multi_remove_handle(multi_, easy);
    cancelled.push_back(std::move(transfer->on_done));
  }
  stats_.failures += cancelled.size();
  transfers_.clear();
  alive_.reset();  // from here on, queued Asio handlers see an expired token and do nothing
  // Callbacks may fire during cleanup (socket removals, timer -1): every member they touch is intact.
  curl_multi_cleanup(multi_);
  multi_ = nullptr;
  for (auto& [fd, watch] : watches_) {
    watch->alive = false;
    watch->descriptor.release();
  }
  watches_.clear();
  timer_.cancel();
  for (auto& handler : cancelled) invoke(handler, Error(ErrorCode::kCancelled, "http client destroyed"));
}

void CurlMultiClient::send(Request request, ResponseHandler on_done) {
  ++stats_.requests;
  auto fail_later = [this, &on_done](Error error) {
    ++stats_.failures;
    boost::asio::post(io_, [handler = std::move(on_done), error = std::move(error)]() mutable {
      invoke(handler, std::move(error));
    });
  };
  if (shutting_down_) return fail_later(Error(ErrorCode::kCancelled, "http client is shutting down"));
  if (!is_token(request.method)) {
    return fail_later(Error(ErrorCode::kInvalidArgument, "invalid HTTP method '" + request.method + "'"));
  }
  for (const Header& h : request.headers) {
    if (!is_token(h.name) || has_crlf(h.value)) {
      return fail_later(Error(ErrorCode::kInvalidArgument, "invalid header '" + h.name + "'"));
    }
  }

  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->on_done = std::move(on_done);
  t->easy = curl_easy_init();
  if (t->easy == nullptr) {
    on_done = std::move(t->on_done);
    return fail_later(Error(ErrorCode::kInternal, "curl_easy_init failed"));
  }
  CURL* e = t->easy;
  const Request& r = t->request;
  bool ok = true;
  const auto set = [&](CURLoption opt, auto value) { ok = ok && curl_easy_setopt(e, opt, value) == CURLE_OK; };

  set(CURLOPT_URL, r.url.c_str());
  set(CURLOPT_PRIVATE, t.get());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_ERRORBUFFER, t->error.data());
  set(CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  set(CURLOPT_WRITEDATA, t.get());
  set(CURLOPT_HEADERFUNCTION, &Transfer::on_header);
  set(CURLOPT_HEADERDATA, t.get());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max<std::chrono::milliseconds::rep>(1, r.connect_timeout.count())));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<std::chrono::milliseconds::rep>(1, r.total_timeout.count())));
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(std::min<std::size_t>(r.max_response_bytes, static_cast<std::size_t>(std::numeric_limits<curl_off_t>::max()))));
  // An empty CURLOPT_PROXY disables curl's own *_proxy environment lookup: the config layer decided.
  set(CURLOPT_PROXY, options_.proxy.c_str());
  set(CURLOPT_NOPROXY, options_.no_proxy.c_str());
  set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_bundle.empty()) set(CURLOPT_CAINFO, options_.ca_bundle.c_str());
  if (!options_.user_agent.empty()) set(CURLOPT_USERAGENT, options_.user_agent.c_str());

  // Headers go out exactly as given; suppress the ones curl would add on its own and that a signature
  // (or the server) would not expect.
  for (const Header& h : r.headers) {
    const std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
    curl_slist* next = curl_slist_append(t->headers, line.c_str());
    if (next == nullptr) ok = false; else t->headers = next;
  }
  for (const char* suppressed : {"Expect", "Accept", "Content-Type"}) {
    if (find_header(r.headers, suppressed)) continue;
    const std::string line = std::string(suppressed) + ":";
    curl_slist* next = curl_slist_append(t->headers, line.c_str());
    if (next == nullptr) ok = false; else t->headers = next;
  }
  set(CURLOPT_HTTPHEADER, t->headers);

  if (r.method == "GET" && r.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (r.body.empty() && r.method != "POST" && r.method != "PUT" && r.method != "PATCH") {
    set(CURLOPT_HTTPGET, 1L);  // e.g. DELETE: no body, no Content-Length
    set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else {
    // The body is owned by the Transfer, which outlives the easy handle's use of it: no copy.
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    set(CURLOPT_POSTFIELDS, r.body.data());
    set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  if (!ok) {
    on_done = std::move(t->on_done);
    return fail_later(Error(ErrorCode::kInternal, "curl_easy_setopt failed for " + std::string(url_for_log(r.url))));
  }
  transfers_.emplace(e, std::move(t));
  // May call on_timer_cb (never inline work): the transfer starts when the timer fires on the loop.
  if (const CURLMcode mc = curl_multi_add_handle(multi_, e); mc != CURLM_OK) {
    auto node = transfers_.extract(e);
    on_done = std::move(node.mapped()->on_done);
    return fail_later(Error(ErrorCode::kInternal, std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc)));
  }
}

void CurlMultiClient::cancel_all() {
  std::vector<ResponseHandler> cancelled;
  auto taken = std::move(transfers_);
  transfers_.clear();
  for (auto& [easy, transfer] : taken) {
    curl_multi_remove_handle(multi_, easy);
    cancelled.push_back(std::move(transfer->on_done));
  }
  taken.clear();
  stats_.failures += cancelled.size();
  // The handlers are local now: even if one of them destroys this client, the rest still run.
  for (auto& handler : cancelled) invoke(handler, Error(ErrorCode::kCancelled, "request cancelled"));
}

int CurlMultiClient::on_socket_cb(void* /*easy*/, int fd, int what, void* userp, void* /*socketp*/) noexcept {
  try {
    static_cast<CurlMultiClient*>(userp)->watch_socket(fd, what);
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("http: cannot watch socket {}: {}", fd, e.what());
    return -1;  // curl aborts the transfers using it
  }
}

int CurlMultiClient::on_timer_cb(void* /*multi*/, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<CurlMultiClient*>(userp);
  try {
    if (timeout_ms < 0) {
      self->timer_.cancel();
      return 0;
    }
    // Also for 0 ms: the work runs from the loop later, never inside this callback.
    self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer_.async_wait([self, alive = std::weak_ptr<int>(self->alive_)](const boost::system::error_code& ec) {
      if (ec || alive.expired()) return;
      self->on_timeout();
    });
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("http: cannot arm curl timer: {}", e.what());
    return -1;
  }
}

void CurlMultiClient::watch_socket(int fd, int what) {
  if (what == CURL_POLL_REMOVE) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) return;
    std::shared_ptr<Watch> w = std::move(it->second);
    watches_.erase(it);
    w->alive = false;
    w->wanted = 0;
    // curl owns (and will close) the fd: forget it without closing; pending waits complete as aborted.
    w->descriptor.release();
    return;
  }
  std::shared_ptr<Watch>& slot = watches_[fd];
  if (!slot) {
    auto w = std::make_shared<Watch>(io_);
    boost::system::error_code ec;
    w->descriptor.assign(fd, ec);
    if (ec) {
      watches_.erase(fd);
      throw boost::system::system_error(ec);
    }
    w->fd = fd;
    slot = std::move(w);
  }
  const std::shared_ptr<Watch> w = slot;
  const int wanted = ((what & CURL_POLL_IN) != 0 ? kWantBit[kRead] : 0) | ((what & CURL_POLL_OUT) != 0 ? kWantBit[kWrite] : 0);
  const int dropped = w->wanted & ~wanted;
  w->wanted = wanted;
  const bool dropped_pending = ((dropped & kWantBit[kRead]) != 0 && w->pending[kRead]) ||
                               ((dropped & kWantBit[kWrite]) != 0 && w->pending[kWrite]);
  if (dropped_pending) {
    // Asio cancels both directions at once; re-arm the one still wanted below.
    boost::system::error_code ec;
    w->descriptor.cancel(ec);
    for (int dir : {kRead, kWrite}) {
      ++w->generation[dir];
      w->pending[dir] = false;
    }
  }
  for (int dir : {kRead, kWrite}) {
    if ((wanted & kWantBit[dir]) != 0 && !w->pending[dir]) arm(w, dir);
  }
}

void CurlMultiClient::arm(const std::shared_ptr<Watch>& w, int direction) {
  const unsigned generation = ++w->generation[direction];
  w->pending[direction] = true;
  std::weak_ptr<int> alive = alive_;
  // A wait is not speculative: Asio's epoll reactor re-registers the fd (EPOLL_CTL_MOD) for it, which
  // re-evaluates readiness, so a socket curl left readable/writable reports again at once.
  w->descriptor.async_wait(
      direction == kRead ? boost::asio::posix::descriptor_base::wait_read : boost::asio::posix::descriptor_base::wait_write,
      [this, alive = std::move(alive), w, direction, generation](const boost::system::error_code& ec) {
        if (alive.expired()) return;
        if (ec == boost::asio::error::operation_aborted) {
          if (w->alive && w->generation[direction] == generation) w->pending[direction] = false;
          return;
        }
        on_ready(w, direction, generation, static_cast<bool>(ec));
      });
}

void CurlMultiClient::on_ready(const std::shared_ptr<Watch>& w, int direction, unsigned generation, bool error) {
  if (!w->alive || w->generation[direction] != generation) return;  // removed or superseded
  w->pending[direction] = false;
  if ((w->wanted & kWantBit[direction]) == 0) return;
  const int flags = (direction == kRead ? CURL_CSELECT_IN : CURL_CSELECT_OUT) | (error ? CURL_CSELECT_ERR : 0);
  int running = 0;
  curl_multi_socket_action(multi_, w->fd, flags, &running);
  // socket_action may have removed this socket (w->alive is false then, and the fd may already belong to
  // a new Watch) or changed the wanted directions. curl does not repeat a want it already told us.
  if (w->alive && (w->wanted & kWantBit[direction]) != 0 && !w->pending[direction]) arm(w, direction);
  drain_completions();
}

void CurlMultiClient::on_timeout() {
  int running = 0;
  curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  drain_completions();
}

std::unique_ptr<CurlMultiClient::Transfer> CurlMultiClient::detach(void* easy) {
  auto node = transfers_.extract(easy);
  if (node.empty()) return nullptr;
  curl_multi_remove_handle(multi_, easy);
  return std::move(node.mapped());
}

void CurlMultiClient::finish(Transfer& t, int curl_code, Result<Response>* out) {
  const auto code = static_cast<CURLcode>(curl_code);
  long connects = 0;
  if (curl_easy_getinfo(t.easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0) {
    stats_.connections_opened += static_cast<uint64_t>(connects);
  }
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = status;
    *out = std::move(t.response);
    return;
  }
  ++stats_.failures;
  const std::string where = t.request.method + " " + std::string(url_for_log(t.request.url));
  if (t.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    *out = Error(ErrorCode::kRemote, where + ": response larger than " + std::to_string(t.request.max_response_bytes) + " bytes");
    return;
  }
  const std::string detail = t.error[0] != '\0' ? std::string(t.error.data()) : std::string(curl_easy_strerror(code));
  *out = Error(map_curl_code(code), where + ": " + detail + " (curl error " + std::to_string(curl_code) + ")");
}

void CurlMultiClient::drain_completions() {
  const std::weak_ptr<int> alive = alive_;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    void* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;  // read before any further curl call invalidates msg
    std::unique_ptr<Transfer> t = detach(easy);
    if (!t) continue;
    Result<Response> result = Error(ErrorCode::kInternal, "unset");
    finish(*t, static_cast<int>(code), &result);
    ResponseHandler handler = std::move(t->on_done);
    t.reset();
    invoke(handler, std::move(result));
    if (alive.expired()) return;  // the handler destroyed this client
  }
}

}  // namespace common::http
