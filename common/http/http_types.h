// HTTP request/response values and the HttpClient interface every AWS call goes through.
// The real client is CurlMultiClient (libcurl multi-socket on the Asio loop); tests use fakes.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace common::http {

struct Header {
  std::string name;
  std::string value;
};

// Case-insensitive header lookup; nullopt when absent.
std::optional<std::string_view> find_header(const std::vector<Header>& headers, std::string_view name);

struct Request {
  std::string method = "GET";
  std::string url;                  // absolute: scheme://host[:port]/path[?query]
  std::vector<Header> headers;      // sent exactly as given (after signing); curl adds none it may alter
  std::string body;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds total_timeout{30000};
  std::size_t max_response_bytes = 4 * 1024 * 1024;
};

struct Response {
  long status = 0;
  std::vector<Header> headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
};

// Called exactly once, on the event loop thread: a Response for any HTTP status, an Error only when no
// response arrived (connect failure, timeout, TLS, response too large, cancelled).
using ResponseHandler = std::function<void(common::Result<Response>)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual void send(Request request, ResponseHandler on_done) = 0;
};

}  // namespace common::http
