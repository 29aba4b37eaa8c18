#include "common/http/curl_multi_client.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "tests/support/loopback_http_server.h"

namespace {

using common::ErrorCode;
using common::Result;
using common::http::CurlMultiClient;
using common::http::find_header;
using common::http::Header;
using common::http::HttpClientOptions;
using common::http::Request;
using common::http::Response;
using tests::LoopbackHttpServer;
using tests::ReceivedRequest;
using tests::Reply;
using namespace std::chrono_literals;

HttpClientOptions test_options() {
  HttpClientOptions o;
  o.verify_tls = true;  // plain http in these tests; nothing to verify
  return o;
}

Request make_request(std::string method, std::string url, std::string body = "", std::vector<Header> headers = {}) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

class CurlMultiClientTest : public ::testing::Test {
 protected:
  // Sends one request and runs the loop on this thread until its handler ran.
  Result<Response> round_trip(CurlMultiClient& client, Request request) {
    std::optional<Result<Response>> out;
    int calls = 0;
    client.send(std::move(request), [&](Result<Response> r) {
      ++calls;
      out.emplace(std::move(r));
    });
    EXPECT_TRUE(tests::run_until(io_, [&] { return out.has_value(); })) << "hang guard hit";
    EXPECT_EQ(calls, 1);
    if (!out) return common::Error(ErrorCode::kInternal, "no result");
    return std::move(*out);
  }

  boost::asio::io_context io_;
};

TEST_F(CurlMultiClientTest, GetSendsHeadersExactlyAndCollectsResponse) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    return Reply::ok("payload", {{"X-Amzn-RequestId", "req-1"}, {"Via", "a"}, {"Via", "b"}, {"X-Padded", "  spaced out  "}});
  });
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("GET", server.url("/path?Action=List&x=1"), "",
                                           {{"X-Amz-Date", "20240101T000000Z"}, {"Authorization", "AWS4-HMAC-SHA256 Credential=x"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "payload");
  EXPECT_EQ(r->header("x-amzn-requestid"), "req-1");
  EXPECT_EQ(r->header("X-Padded"), "spaced out");
  int via = 0;
  for (const Header& h : r->headers) {
    EXPECT_NE(h.name.rfind("HTTP/", 0), 0u) << "status line must not be a header";
    if (h.name == "Via") ++via;
  }
  EXPECT_EQ(via, 2) << "repeated headers are kept";

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const ReceivedRequest& got = reqs[0];
  EXPECT_EQ(got.method, "GET");
  EXPECT_EQ(got.target, "/path?Action=List&x=1");
  EXPECT_EQ(got.header("X-Amz-Date"), "20240101T000000Z");
  EXPECT_EQ(got.header("Authorization"), "AWS4-HMAC-SHA256 Credential=x");
  EXPECT_EQ(got.header("User-Agent"), "trailwatch/" TRAILWATCH_VERSION);
  EXPECT_FALSE(got.header("Accept").has_value());
  EXPECT_FALSE(got.header("Content-Type").has_value());
  EXPECT_FALSE(got.header("Expect").has_value());
  EXPECT_FALSE(got.header("Accept-Encoding").has_value());
  EXPECT_TRUE(got.body.empty());
}

TEST_F(CurlMultiClientTest, PostSendsBodyAndContentTypeExactly) {
  LoopbackHttpServer server([](const ReceivedRequest& req) { return Reply::ok("got " + std::to_string(req.body.size())); });
  CurlMultiClient client(io_, test_options());
  std::string body(1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 % 256);  // binary, embedded NULs
  auto r = round_trip(client, make_request("POST", server.url("/"), body,
                                           {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Logs.PutLogEvents"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body, "got 1024");
  const auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.body, body);
  EXPECT_EQ(got.header("Content-Length"), "1024");
  EXPECT_EQ(got.header("Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(got.header("X-Amz-Target"), "Logs.PutLogEvents");
  EXPECT_FALSE(got.header("Expect").has_value());
  EXPECT_FALSE(got.header("Accept").has_value());
}

TEST_F(CurlMultiClientTest, PutSendsLargeBodyWithoutExpectContinue) {
  LoopbackHttpServer server;
  CurlMultiClient client(io_, test_options());
  std::string body(3 * 1024 * 1024, 'p');  // above curl's 1 MiB Expect: 100-continue threshold
  body[12345] = 'q';
  auto r = round_trip(client, make_request("PUT", server.url("/bucket/key.gz"), body, {{"Content-Encoding", "gzip"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  const auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.body, body);
  EXPECT_FALSE(got.header("Expect").has_value());
  EXPECT_FALSE(got.header("Content-Type").has_value());
}

TEST_F(CurlMultiClientTest, PutWithEmptyBodySendsZeroContentLength) {
  LoopbackHttpServer server;
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("PUT", server.url("/empty")));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.header("Content-Length"), "0");
}

TEST_F(CurlMultiClientTest, DeleteUsesCustomMethodWithoutBody) {
  LoopbackHttpServer server;
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("DELETE", server.url("/obj")));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto got = server.requests().at(0);
  EXPECT_EQ(got.method, "DELETE");
  EXPECT_FALSE(got.header("Content-Length").has_value());
}

TEST_F(CurlMultiClientTest, ErrorStatusIsAResponseNotAnError) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply::with_status(503, "<Error>SlowDown</Error>"); });
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("GET", server.url("/")));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "<Error>SlowDown</Error>");
  EXPECT_EQ(client.stats().failures, 0u);
}

TEST_F(CurlMultiClientTest, SequentialRequestsReuseOneConnection) {
  LoopbackHttpServer server([](const ReceivedRequest& req) { return Reply::ok(req.target); });
  CurlMultiClient client(io_, test_options());
  for (int i = 0; i < 10; ++i) {
    const std::string path = "/seq/" + std::to_string(i);
    auto r = round_trip(client, make_request(i % 2 == 0 ? "GET" : "POST", server.url(path), i % 2 == 0 ? "" : "body"));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->body, path);
  }
  EXPECT_EQ(server.requests_received(), 10u);
  EXPECT_EQ(server.connections_accepted(), 1u);
  for (const auto& req : server.requests()) EXPECT_EQ(req.connection, 1u);
  EXPECT_EQ(client.stats().requests, 10u);
  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(client.stats().failures, 0u);
}

TEST_F(CurlMultiClientTest, TwentyConcurrentRequestsAllComplete) {
  LoopbackHttpServer server([](const ReceivedRequest& req) { return Reply::ok(req.target); });
  HttpClientOptions options = test_options();
  options.max_connections_per_host = 4;
  CurlMultiClient client(io_, options);
  constexpr int kCount = 20;
  std::vector<int> calls(kCount, 0);
  std::vector<std::string> bodies(kCount);
  int done = 0;
  for (int i = 0; i < kCount; ++i) {
    client.send(make_request("GET", server.url("/c/" + std::to_string(i))), [&, i](Result<Response> r) {
      ++calls[static_cast<std::size_t>(i)];
      ++done;
      ASSERT_TRUE(r.ok()) << r.error().to_string();
      bodies[static_cast<std::size_t>(i)] = r->body;
    });
  }
  EXPECT_EQ(client.in_flight(), static_cast<std::size_t>(kCount));
  ASSERT_TRUE(tests::run_until(io_, [&] { return done == kCount; }));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(calls[static_cast<std::size_t>(i)], 1);
    EXPECT_EQ(bodies[static_cast<std::size_t>(i)], "/c/" + std::to_string(i));
  }
  EXPECT_EQ(server.requests_received(), static_cast<std::size_t>(kCount));
  EXPECT_LE(server.connections_accepted(), 4u) << "max_connections_per_host";
  EXPECT_EQ(client.stats().connections_opened, server.connections_accepted());
  EXPECT_EQ(client.in_flight(), 0u);
}

TEST_F(CurlMultiClientTest, ConnectionRefusedIsNetworkError) {
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("GET", "http://127.0.0.1:" + std::to_string(tests::unused_loopback_port()) + "/"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNetwork) << r.error().to_string();
  EXPECT_EQ(client.stats().failures, 1u);
}

TEST_F(CurlMultiClientTest, TotalTimeoutIsTimeoutError) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply::delayed(2s); });
  CurlMultiClient client(io_, test_options());
  Request req = make_request("GET", server.url("/slow"));
  req.total_timeout = 200ms;
  auto r = round_trip(client, std::move(req));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTimeout) << r.error().to_string();
  EXPECT_NE(r.error().message().find("/slow"), std::string::npos) << r.error().to_string();
}

TEST_F(CurlMultiClientTest, ResponseLargerThanCapIsRejectedByContentLength) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply::huge(5 * 1024 * 1024); });
  CurlMultiClient client(io_, test_options());
  Request req = make_request("GET", server.url("/big"));
  req.max_response_bytes = 1000;
  auto r = round_trip(client, std::move(req));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kRemote);
  EXPECT_NE(r.error().message().find("response larger than 1000 bytes"), std::string::npos) << r.error().to_string();
}

TEST_F(CurlMultiClientTest, ResponseLargerThanCapIsAbortedWhileStreaming) {
  // No Content-Length: only the write callback can notice.
  LoopbackHttpServer server([](const ReceivedRequest&) {
    Reply reply = Reply::huge(5 * 1024 * 1024);
    reply.no_content_length = true;
    return reply;
  });
  CurlMultiClient client(io_, test_options());
  Request req = make_request("GET", server.url("/big"));
  req.max_response_bytes = 100 * 1024;
  auto r = round_trip(client, std::move(req));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kRemote);
  EXPECT_NE(r.error().message().find("response larger than 102400 bytes"), std::string::npos) << r.error().to_string();

  // A body exactly at the cap is fine.
  server.set_handler([](const ReceivedRequest&) {
    Reply reply = Reply::huge(100 * 1024);
    reply.no_content_length = true;
    return reply;
  });
  Request at_cap = make_request("GET", server.url("/exact"));
  at_cap.max_response_bytes = 100 * 1024;
  auto ok = round_trip(client, std::move(at_cap));
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->body.size(), 100u * 1024u);
}

TEST_F(CurlMultiClientTest, ServerHangingUpWithoutResponseIsNetworkError) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply::hang_up_now(); });
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("POST", server.url("/"), "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNetwork) << r.error().to_string();
}

TEST_F(CurlMultiClientTest, InvalidRequestsFailLaterNotInline) {
  CurlMultiClient client(io_, test_options());
  std::vector<ErrorCode> codes;
  client.send(make_request("GET", "http://127.0.0.1:1/", "", {{"X-Bad", "a\r\nInjected: 1"}}),
              [&](Result<Response> r) { codes.push_back(r.ok() ? ErrorCode::kInternal : r.error().code()); });
  client.send(make_request("G ET", "http://127.0.0.1:1/"),
              [&](Result<Response> r) { codes.push_back(r.ok() ? ErrorCode::kInternal : r.error().code()); });
  client.send(make_request("GET", "ftp://127.0.0.1:1/file"),
              [&](Result<Response> r) { codes.push_back(r.ok() ? ErrorCode::kInternal : r.error().code()); });
  EXPECT_TRUE(codes.empty()) << "handlers never run inside send()";
  ASSERT_TRUE(tests::run_until(io_, [&] { return codes.size() == 3; }));
  EXPECT_EQ(codes[0], ErrorCode::kInvalidArgument);
  EXPECT_EQ(codes[1], ErrorCode::kInvalidArgument);
  EXPECT_EQ(codes[2], ErrorCode::kInvalidArgument);
}

TEST_F(CurlMultiClientTest, CancelAllCallsEachHandlerOnceWithCancelled) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply::delayed(5s); });
  CurlMultiClient client(io_, test_options());
  constexpr int kCount = 3;
  std::vector<int> calls(kCount, 0);
  std::vector<ErrorCode> codes(kCount, ErrorCode::kInternal);
  for (int i = 0; i < kCount; ++i) {
    client.send(make_request("GET", server.url("/")), [&, i](Result<Response> r) {
      ++calls[static_cast<std::size_t>(i)];
      if (!r.ok()) codes[static_cast<std::size_t>(i)] = r.error().code();
    });
  }
  ASSERT_TRUE(tests::run_until(io_, [&] { return server.requests_received() == kCount; }));
  client.cancel_all();
  EXPECT_EQ(client.in_flight(), 0u);
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(calls[static_cast<std::size_t>(i)], 1);
    EXPECT_EQ(codes[static_cast<std::size_t>(i)], ErrorCode::kCancelled);
  }
  io_.restart();
  io_.poll();  // whatever was queued on the loop must not call anything twice
  for (int c : calls) EXPECT_EQ(c, 1);

  // The client stays usable.
  server.set_handler([](const ReceivedRequest&) { return Reply::ok("again"); });
  auto r = round_trip(client, make_request("GET", server.url("/")));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body, "again");
}

TEST_F(CurlMultiClientTest, DestructionWithRequestsInFlightCancelsEachOnce) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply::delayed(5s); });
  auto client = std::make_unique<CurlMultiClient>(io_, test_options());
  constexpr int kCount = 3;
  std::vector<int> calls(kCount, 0);
  std::vector<ErrorCode> codes(kCount, ErrorCode::kInternal);
  for (int i = 0; i < kCount; ++i) {
    client->send(make_request("GET", server.url("/")), [&, i](Result<Response> r) {
      ++calls[static_cast<std::size_t>(i)];
      if (!r.ok()) codes[static_cast<std::size_t>(i)] = r.error().code();
    });
  }
  ASSERT_TRUE(tests::run_until(io_, [&] { return server.requests_received() == kCount; }));
  client.reset();
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(calls[static_cast<std::size_t>(i)], 1);
    EXPECT_EQ(codes[static_cast<std::size_t>(i)], ErrorCode::kCancelled);
  }
  io_.restart();
  io_.poll();  // stale socket/timer handlers run against a dead client: they must do nothing
  for (int c : calls) EXPECT_EQ(c, 1);
}

TEST_F(CurlMultiClientTest, HandlerMayDestroyTheClient) {
  LoopbackHttpServer server([](const ReceivedRequest& req) {
    return req.target == "/fast" ? Reply::ok("fast") : Reply::delayed(5s);
  });
  auto client = std::make_unique<CurlMultiClient>(io_, test_options());
  std::optional<ErrorCode> slow_code;
  bool fast_ok = false;
  client->send(make_request("GET", server.url("/slow")), [&](Result<Response> r) {
    slow_code = r.ok() ? ErrorCode::kInternal : r.error().code();
  });
  client->send(make_request("GET", server.url("/fast")), [&](Result<Response> r) {
    fast_ok = r.ok();
    client.reset();  // e.g. shutdown triggered by a response
  });
  ASSERT_TRUE(tests::run_until(io_, [&] { return client == nullptr; }));
  EXPECT_TRUE(fast_ok);
  EXPECT_EQ(slow_code, ErrorCode::kCancelled);
  io_.restart();
  io_.poll();
}

TEST_F(CurlMultiClientTest, HandlerMaySendTheNextRequest) {
  LoopbackHttpServer server([](const ReceivedRequest& req) { return Reply::ok(req.target); });
  CurlMultiClient client(io_, test_options());
  std::vector<std::string> seen;
  std::function<void(Result<Response>)> on_done = [&](Result<Response> r) {
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    seen.push_back(r->body);
    if (seen.size() < 5) client.send(make_request("GET", server.url("/n/" + std::to_string(seen.size()))), on_done);
  };
  client.send(make_request("GET", server.url("/n/0")), on_done);
  ASSERT_TRUE(tests::run_until(io_, [&] { return seen.size() == 5; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"/n/0", "/n/1", "/n/2", "/n/3", "/n/4"}));
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST_F(CurlMultiClientTest, EmptyHeaderValueIsSentAsEmpty) {
  LoopbackHttpServer server;
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("GET", server.url("/"), "", {{"X-Empty", ""}, {"X-After", "1"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto got = server.requests().at(0);
  EXPECT_EQ(got.header("X-Empty"), "");
  EXPECT_EQ(got.header("X-After"), "1");
}

TEST_F(CurlMultiClientTest, ProxyFromOptionsCarriesTheRequest) {
  // The loopback server plays the forward proxy: it sees the absolute-form target.
  LoopbackHttpServer proxy([](const ReceivedRequest&) { return Reply::ok("via proxy"); });
  HttpClientOptions options = test_options();
  options.proxy = proxy.url("");
  CurlMultiClient client(io_, options);
  auto r = round_trip(client, make_request("GET", "http://monitoring.example.invalid/metrics?x=1"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body, "via proxy");
  const auto got = proxy.requests().at(0);
  EXPECT_EQ(got.target, "http://monitoring.example.invalid/metrics?x=1");
  EXPECT_EQ(got.header("Host"), "monitoring.example.invalid");
}

TEST_F(CurlMultiClientTest, NoProxyHostsBypassTheProxy) {
  LoopbackHttpServer proxy([](const ReceivedRequest&) { return Reply::ok("via proxy"); });
  LoopbackHttpServer direct([](const ReceivedRequest&) { return Reply::ok("direct"); });
  HttpClientOptions options = test_options();
  options.proxy = proxy.url("");
  options.no_proxy = "169.254.169.254,127.0.0.1";
  CurlMultiClient client(io_, options);
  auto r = round_trip(client, make_request("GET", direct.url("/latest/api/token")));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->body, "direct");
  EXPECT_EQ(proxy.requests_received(), 0u);
  EXPECT_EQ(direct.requests().at(0).target, "/latest/api/token");
}

TEST_F(CurlMultiClientTest, HeadersComeFromTheFinalResponseOnly) {
  // A hand-written peer on the client's loop: an interim 100 Continue, then the final response with a
  // folded header line. The peer keeps the socket open so nothing races the client's read.
  using boost::asio::ip::tcp;
  tcp::acceptor acceptor(io_, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  tcp::socket peer(io_);
  const std::string wire =
      "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Folded: first\r\n  second\r\nX-Final:yes\r\n\r\nok";
  acceptor.async_accept(peer, [&](const boost::system::error_code& ec) {
    if (!ec) boost::asio::async_write(peer, boost::asio::buffer(wire), [](const boost::system::error_code&, std::size_t) {});
  });
  CurlMultiClient client(io_, test_options());
  auto r = round_trip(client, make_request("POST", "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/", "x"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "ok");
  EXPECT_FALSE(r->header("X-Interim").has_value());
  EXPECT_EQ(r->header("X-Folded"), "first second");
  EXPECT_EQ(r->header("X-Final"), "yes");
  EXPECT_EQ(r->headers.size(), 3u);
}

TEST_F(CurlMultiClientTest, TlsHandshakeFailureIsNetworkError) {
  // A peer that answers the ClientHello with plain text, accepted on the client's own loop.
  using boost::asio::ip::tcp;
  tcp::acceptor acceptor(io_, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  tcp::socket peer(io_);
  const std::string garbage = "this is not TLS\r\n\r\n";
  acceptor.async_accept(peer, [&](const boost::system::error_code& ec) {
    if (ec) return;
    boost::asio::async_write(peer, boost::asio::buffer(garbage), [&](const boost::system::error_code&, std::size_t) {
      boost::system::error_code ignored;
      peer.close(ignored);
    });
  });
  CurlMultiClient client(io_, test_options());
  Request req = make_request("GET", "https://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/");
  req.total_timeout = 10s;
  auto r = round_trip(client, std::move(req));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNetwork) << r.error().to_string();
}

TEST_F(CurlMultiClientTest, SlowRequestDoesNotBlockTheLoop) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply::delayed(500ms, Reply::ok("late")); });
  CurlMultiClient client(io_, test_options());
  int ticks = 0;
  bool done = false;
  boost::asio::steady_timer ticker(io_);
  std::function<void()> tick = [&] {
    ticker.expires_after(10ms);
    ticker.async_wait([&](const boost::system::error_code& ec) {
      if (ec || done) return;
      ++ticks;
      tick();
    });
  };
  tick();
  int ticks_at_response = -1;
  client.send(make_request("GET", server.url("/")), [&](Result<Response> r) {
    EXPECT_TRUE(r.ok());
    ticks_at_response = ticks;
    done = true;
  });
  ASSERT_TRUE(tests::run_until(io_, [&] { return done; }));
  EXPECT_GE(ticks_at_response, 5) << "the loop kept running other handlers while the request was pending";
}

}  // namespace
