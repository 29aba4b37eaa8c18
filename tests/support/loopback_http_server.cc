#include "tests/support/loopback_http_server.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <istream>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace tests {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxBody = 256 * 1024 * 1024;
constexpr std::size_t kStreamChunk = 64 * 1024;

}  // namespace

class LoopbackHttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(LoopbackHttpServer& server, tcp::socket socket, std::size_t id)
      : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()), buf_(kMaxHead + kMaxBody), id_(id) {}

  void start() { read_head(); }

 private:
  void read_head() {
    asio::async_read_until(socket_, buf_, "\r\n\r\n",
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             if (!ec) self->on_head(n);
                           });
  }

  void on_head(std::size_t head_len) {
    std::string head(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(head_len));
    buf_.consume(head_len);
    request_ = ReceivedRequest{};
    request_.connection = id_;
    std::string_view rest(head);
    const auto next_line = [&rest]() {
      const std::size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
      return line;
    };
    const std::string_view request_line = next_line();
    const std::size_t sp1 = request_line.find(' ');
    const std::size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return send_simple(400);
    request_.method = std::string(request_line.substr(0, sp1));
    request_.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    request_.version = std::string(request_line.substr(sp2 + 1));
    std::size_t content_length = 0;
    for (std::string_view line = next_line(); !line.empty(); line = next_line()) {
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return send_simple(400);
      common::http::Header h{std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))};
      if (iequals(h.name, "Content-Length")) {
        const auto [end, ec] = std::from_chars(h.value.data(), h.value.data() + h.value.size(), content_length);
        if (ec != std::errc() || end != h.value.data() + h.value.size()) return send_simple(400);
      }
      if (iequals(h.name, "Transfer-Encoding")) return send_simple(501);  // chunked bodies: not needed yet
      request_.headers.push_back(std::move(h));
    }
    if (content_length > kMaxBody) return send_simple(400);
    if (buf_.size() >= content_length) return on_body(content_length);
    asio::async_read(socket_, buf_, asio::transfer_exactly(content_length - buf_.size()),
                     [self = shared_from_this(), content_length](const boost::system::error_code& ec, std::size_t) {
                       if (!ec) self->on_body(content_length);
                     });
  }

  void on_body(std::size_t content_length) {
    request_.body.assign(asio::buffers_begin(buf_.data()),
                         asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(content_length));
    buf_.consume(content_length);
    server_.record(request_);
    reply_ = server_.handle(request_);
    if (reply_.delay.count() > 0) {
      timer_.expires_after(reply_.delay);
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->respond();
      });
      return;
    }
    respond();
  }

  void respond() {
    if (reply_.hang_up) {
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
      return;
    }
    const auto client_close = request_.header("Connection");
    closing_ = reply_.close_after || reply_.no_content_length || (client_close && iequals(*client_close, "close"));
    const std::size_t body_len = reply_.huge_body_bytes > 0 ? reply_.huge_body_bytes : reply_.body.size();
    out_ = "HTTP/1.1 " + std::to_string(reply_.status) + " " + std::string(reason(reply_.status)) + "\r\n";
    for (const auto& h : reply_.headers) out_ += h.name + ": " + h.value + "\r\n";
    if (!reply_.no_content_length && !common::http::find_header(reply_.headers, "Content-Length")) {
      out_ += "Content-Length: " + std::to_string(body_len) + "\r\n";
    }
    if (closing_) out_ += "Connection: close\r\n";
    out_ += "\r\n";
    if (reply_.huge_body_bytes == 0) out_ += reply_.body;
    remaining_stream_ = reply_.huge_body_bytes;
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (!ec) self->stream_or_finish();
    });
  }

  void stream_or_finish() {
    if (remaining_stream_ > 0) {
      const std::size_t n = std::min(remaining_stream_, kStreamChunk);
      remaining_stream_ -= n;
      out_.assign(n, 'x');
      asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        if (!ec) self->stream_or_finish();  // a client that gave up closes; the write error ends us
      });
      return;
    }
    if (closing_) {
      boost::system::error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
      return;
    }
    read_head();  // keep-alive: the next request on this connection
  }

  void send_simple(int status) {
    reply_ = Reply::with_status(status);
    reply_.close_after = true;
    respond();
  }

  LoopbackHttpServer& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buf_;
  std::size_t id_;
  ReceivedRequest request_;
  Reply reply_;
  std::string out_;
  std::size_t remaining_stream_ = 0;
  bool closing_ = false;
};

LoopbackHttpServer::LoopbackHttpServer(Handler handler)
    : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), handler_(std::move(handler)) {
  port_ = acceptor_.local_endpoint().port();
  accept_next();
  thread_ = std::thread([this] { io_.run(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  io_.stop();
  thread_.join();
}

std::string LoopbackHttpServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void LoopbackHttpServer::set_handler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

std::size_t LoopbackHttpServer::requests_received() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

std::vector<ReceivedRequest> LoopbackHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void LoopbackHttpServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec) return;
    const std::size_t id = ++connections_;
    std::make_shared<Session>(*this, std::move(socket), id)->start();
    accept_next();
  });
}

Reply LoopbackHttpServer::handle(const ReceivedRequest& request) {
  Handler handler;
  {
    std::lock_guard lock(mu_);
    handler = handler_;
  }
  return handler ? handler(request) : Reply::ok();
}

void LoopbackHttpServer::record(const ReceivedRequest& request) {
  std::lock_guard lock(mu_);
  requests_.push_back(request);
}

bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds guard) {
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::uint16_t unused_loopback_port() {
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const std::uint16_t port = probe.local_endpoint().port();
  probe.close();
  return port;
}

}  // namespace tests
