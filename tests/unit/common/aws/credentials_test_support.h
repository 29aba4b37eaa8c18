// Helpers shared by the credential and IMDS tests: run a provider to completion, capture log lines,
// and start the fakeaws server (tests/fakeaws) on a free loopback port.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "common/aws/credentials_provider.h"
#include "common/http/curl_multi_client.h"
#include "tests/support/loopback_http_server.h"
#include "tests/support/fakeaws_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/log_capture.h"

namespace tests {

inline common::Result<common::aws::Credentials> get_credentials(boost::asio::io_context& io,
                                                                 common::aws::CredentialsProvider& provider) {
  std::optional<common::Result<common::aws::Credentials>> out;
  provider.get([&](common::Result<common::aws::Credentials> r) { out.emplace(std::move(r)); });
  if (!run_until(io, [&] { return out.has_value(); })) {
    return common::Error(common::ErrorCode::kTimeout, "test guard: provider never answered");
  }
  return std::move(*out);
}

// The fakeaws server as a child process, plus a blocking control client.
class FakeAwsServer {
 public:
  FakeAwsServer() : http_(io_, {}) {}

  std::string endpoint() const { return proc_.endpoint(); }

  // A control call; returns the body ("" and a test failure on transport errors).
  std::string call(const std::string& method, const std::string& path, const std::string& body = "") {
    common::http::Request req;
    req.method = method;
    req.url = endpoint() + path;
    req.body = body;
    if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
    std::optional<common::Result<common::http::Response>> out;
    http_.send(req, [&](common::Result<common::http::Response> r) { out.emplace(std::move(r)); });
    run_until(io_, [&] { return out.has_value(); });
    if (!out || !out->ok()) {
      ADD_FAILURE() << "fakeaws control " << path << " failed";
      return "";
    }
    EXPECT_EQ((*out)->status, 200) << path << ": " << (*out)->body;
    return (*out)->body;
  }
  void config(const std::string& json) { call("POST", "/_fake/config", json); }

 private:
  FakeAwsProcess proc_;
  boost::asio::io_context io_;
  common::http::CurlMultiClient http_;
};

inline void write_executable(const TempDir& dir, const std::string& name, const std::string& content) {
  dir.write(name, content);
  ::chmod(dir.file(name).c_str(), 0700);
}

}  // namespace tests
