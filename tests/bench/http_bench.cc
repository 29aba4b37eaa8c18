// Sequential HTTP requests per second over one keep-alive connection to the loopback server:
// CurlMultiClient (multi-socket on an Asio io_context) against a blocking curl easy handle reused for
// every request (the lower bound on curl's own per-request cost). 1 KiB POST body, small JSON reply.
// Both use real time: the server runs on its own thread.
#include <benchmark/benchmark.h>
#include <curl/curl.h>

#include <string>

#include <boost/asio/io_context.hpp>

#include "common/http/curl_multi_client.h"
#include "tests/support/loopback_http_server.h"

namespace {

const std::string kBody(1024, 'b');
constexpr const char* kReply = "{\"ok\":true}";

tests::LoopbackHttpServer& server() {
  static tests::LoopbackHttpServer s([](const tests::ReceivedRequest&) {
    return tests::Reply::ok(kReply, {{"Content-Type", "application/json"}});
  });
  return s;
}

void BM_CurlMultiClientSequential(benchmark::State& state) {
  boost::asio::io_context io;
  common::http::CurlMultiClient client(io, common::http::HttpClientOptions{});
  common::http::Request request;
  request.method = "POST";
  request.url = server().url("/bench");
  request.body = kBody;
  request.headers = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Bench.Op"}};
  for (auto _ : state) {
    bool done = false;
    client.send(request, [&](common::Result<common::http::Response> r) {
      done = true;
      if (!r.ok() || r->body != kReply) state.SkipWithError("request failed");
    });
    while (!done) {
      if (io.run_one() == 0) io.restart();
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["connections"] = static_cast<double>(client.stats().connections_opened);
}

size_t collect(char* data, size_t size, size_t count, void* userp) {
  static_cast<std::string*>(userp)->append(data, size * count);
  return size * count;
}

void BM_CurlEasyBlockingSequential(benchmark::State& state) {
  CURL* easy = curl_easy_init();
  const std::string url = server().url("/bench");
  curl_slist* headers = nullptr;
  for (const char* h : {"Content-Type: application/x-amz-json-1.1", "X-Amz-Target: Bench.Op", "Expect:", "Accept:"}) {
    headers = curl_slist_append(headers, h);
  }
  std::string response;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(kBody.size()));
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, kBody.data());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  long connections = 0;
  for (auto _ : state) {
    response.clear();
    if (curl_easy_perform(easy) != CURLE_OK || response != kReply) state.SkipWithError("request failed");
    long n = 0;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &n);
    connections += n;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["connections"] = static_cast<double>(connections);
  curl_easy_cleanup(easy);
  curl_slist_free_all(headers);
}

BENCHMARK(BM_CurlMultiClientSequential)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CurlEasyBlockingSequential)->UseRealTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
