// CurlMultiClient: HttpClient over libcurl's multi-socket API, driven by a Boost.Asio io_context.
//
// One CURLM per client (one client per io_context). curl tells us which fds it wants watched
// (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); Asio waits for readiness and
// we hand each event back to curl_multi_socket_action. Nothing blocks the loop and there is no thread
// per request (name resolution for host names uses curl's own resolver). Connections are kept alive and
// reused across requests to the same host.
//
// Threading: every member function must be called on the thread running the io_context; handlers are
// invoked on that thread too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/http/http_types.h"

namespace common::http {

struct HttpClientOptions {
  std::string proxy;      // "http://host:port"; empty = no proxy (curl's own env lookup is disabled)
  std::string no_proxy;   // comma-separated hosts/domains that bypass the proxy (CURLOPT_NOPROXY)
  std::string ca_bundle;  // PEM file with trusted CAs; empty = the system default
  bool verify_tls = true;  // never false in production; only tests against self-signed endpoints
  long max_connections_per_host = 4;
  std::string user_agent = "trailwatch/" TRAILWATCH_VERSION;
};

class CurlMultiClient final : public HttpClient {
 public:
  CurlMultiClient(boost::asio::io_context& io, HttpClientOptions options);
  // Cancels requests still in flight: their handlers run inside the destructor with kCancelled, and
  // must not call back into this client.
  ~CurlMultiClient() override;

  CurlMultiClient(const CurlMultiClient&) = delete;
  CurlMultiClient& operator=(const CurlMultiClient&) = delete;

  // Queues the request; `on_done` runs later on the loop (never inside send) exactly once.
  // Errors: kTimeout (connect or total timeout), kNetwork (DNS, connect, TLS, connection dropped),
  // kRemote (response larger than request.max_response_bytes), kInvalidArgument (bad URL),
  // kCancelled (cancel_all / destruction), kInternal.
  void send(Request request, ResponseHandler on_done) override;

  // Aborts every request in flight; each handler is called once, before this returns, with kCancelled.
  void cancel_all();

  struct Stats {
    uint64_t requests = 0;            // accepted by send()
    uint64_t connections_opened = 0;  // new TCP connections (sum of CURLINFO_NUM_CONNECTS)
    uint64_t failures = 0;            // completed with an Error (cancellations included)
  };
  const Stats& stats() const { return stats_; }

  // Requests currently in flight.
  std::size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer;
  struct Watch;

  // curl callbacks (static shims; userp is `this`).
  static int on_socket_cb(void* easy, int fd, int what, void* userp, void* socketp) noexcept;
  static int on_timer_cb(void* multi, long timeout_ms, void* userp) noexcept;

  void watch_socket(int fd, int what);
  void arm(const std::shared_ptr<Watch>& w, int direction);
  void on_ready(const std::shared_ptr<Watch>& w, int direction, unsigned generation, bool error);
  void on_timeout();
  void drain_completions();
  void finish(Transfer& t, int curl_code, Result<Response>* out);
  std::unique_ptr<Transfer> detach(void* easy);

  boost::asio::io_context& io_;
  HttpClientOptions options_;
  std::shared_ptr<int> alive_;  // handlers hold a weak_ptr: expired = the client is gone
  boost::asio::steady_timer timer_;
  std::unordered_map<int, std::shared_ptr<Watch>> watches_;
  std::unordered_map<void*, std::unique_ptr<Transfer>> transfers_;
  void* multi_ = nullptr;  // CURLM*, kept opaque so this header does not pull in curl.h
  bool shutting_down_ = false;
  Stats stats_;
};

}  // namespace common::http
