// LoopbackHttpServer: a small HTTP/1.1 server for tests, on 127.0.0.1 with a kernel-chosen port.
//
// It runs its own io_context on its own thread, so a test can drive the client's loop on the test thread.
// Keep-alive is on by default; request bodies must carry Content-Length. Every request is recorded, and
// the handler decides the reply: status/headers/body, a delay, hanging up without answering, or a huge
// streamed body.
//
//   tests::LoopbackHttpServer server([](const tests::ReceivedRequest& req) {
//     return tests::Reply::ok("{\"ok\":true}", {{"Content-Type", "application/json"}});
//   });
//   client.send({.url = server.url("/x")}, ...);
//   EXPECT_EQ(server.requests().at(0).target, "/x");
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/http/http_types.h"

namespace tests {

struct ReceivedRequest {
  std::string method;
  std::string target;   // "/path?query", as sent
  std::string version;  // "HTTP/1.1"
  std::vector<common::http::Header> headers;  // in arrival order, values trimmed
  std::string body;
  std::size_t connection = 0;  // 1-based number of the accepted connection it arrived on

  std::optional<std::string_view> header(std::string_view name) const {
    return common::http::find_header(headers, name);
  }
};

struct Reply {
  int status = 200;
  std::vector<common::http::Header> headers;  // Content-Length is added unless given
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool hang_up = false;                // close the connection without any response
  bool close_after = false;            // send "Connection: close" and close after the response
  std::size_t huge_body_bytes = 0;     // > 0: stream this many 'x' bytes as the body instead of `body`
  bool no_content_length = false;      // body delimited by closing the connection (implies close_after)

  static Reply ok(std::string body = "ok", std::vector<common::http::Header> headers = {}) {
    Reply r;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }
  static Reply with_status(int status, std::string body = "") {
    Reply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Reply delayed(std::chrono::milliseconds delay, Reply r = ok()) {
    r.delay = delay;
    return r;
  }
  static Reply hang_up_now() {
    Reply r;
    r.hang_up = true;
    return r;
  }
  static Reply huge(std::size_t bytes) {
    Reply r;
    r.huge_body_bytes = bytes;
    return r;
  }
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  // Binds 127.0.0.1:0 and starts serving. The default handler answers 200 "ok". The handler runs on the
  // server thread.
  explicit LoopbackHttpServer(Handler handler = {});
  ~LoopbackHttpServer();  // stops the thread; open connections are dropped

  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const;  // "http://127.0.0.1:<port><path>"
  void set_handler(Handler handler);

  std::size_t connections_accepted() const { return connections_.load(); }
  std::size_t requests_received() const;
  std::vector<ReceivedRequest> requests() const;  // a copy of everything received so far

 private:
  class Session;
  void accept_next();
  Reply handle(const ReceivedRequest& request);
  void record(const ReceivedRequest& request);

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<ReceivedRequest> requests_;
  std::thread thread_;
};

// Runs `io` on the calling thread until `done()` is true. Returns false if `guard` passes first (a hang
// guard so a broken test fails instead of blocking CTest, not a timing assertion).
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::milliseconds guard = std::chrono::seconds(30));

// A port on 127.0.0.1 where nothing listens (bound, then closed), for connection-refused tests.
std::uint16_t unused_loopback_port();

}  // namespace tests
