// ScriptedHttpClient: an HttpClient that answers from a script, one entry per request, each answer
// delivered on a later turn of the loop (through the injected Scheduler), as a real client would.
// Every request is kept in `requests`. A request with nothing scripted and no default is a test
// failure, and is answered with an error so the code under test still completes.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/event/scheduler.h"
#include "common/http/http_types.h"
#include "common/result/result.h"

namespace tests {

class ScriptedHttpClient final : public common::http::HttpClient {
 public:
  using Request = common::http::Request;
  using Response = common::http::Response;
  using Header = common::http::Header;
  using Reply = std::function<common::Result<Response>(const Request&)>;

  explicit ScriptedHttpClient(common::Scheduler& scheduler) : scheduler_(scheduler) {}

  void push(Reply reply) { script_.push_back(std::move(reply)); }
  void push(Response response) {
    push([response](const Request&) -> common::Result<Response> { return response; });
  }
  void push(long status, std::string body, std::vector<Header> headers = {}) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    push(std::move(r));
  }
  void push_n(int times, long status, const std::string& body) {
    for (int i = 0; i < times; ++i) push(status, body);
  }
  void push_error(common::ErrorCode code) {
    push([code](const Request&) -> common::Result<Response> { return common::Error(code, "scripted failure"); });
  }
  // Used once the script is empty.
  void set_default(Reply reply) { default_ = std::move(reply); }
  void set_default(long status, std::string body = {}) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    set_default([r](const Request&) -> common::Result<Response> { return r; });
  }
  std::size_t scripted() const { return script_.size(); }

  void send(Request request, common::http::ResponseHandler on_done) override {
    requests.push_back(request);
    Reply reply;
    if (!script_.empty()) {
      reply = std::move(script_.front());
      script_.pop_front();
    } else {
      reply = default_;
    }
    if (!reply) {
      ADD_FAILURE() << "unscripted request " << request.url;
      reply = [](const Request&) -> common::Result<Response> {
        return common::Error(common::ErrorCode::kInternal, "unscripted request");
      };
    }
    auto result = std::make_shared<common::Result<Response>>(reply(request));
    scheduler_.post([on_done = std::move(on_done), result] { on_done(std::move(*result)); });
  }

  std::vector<Request> requests;

 private:
  common::Scheduler& scheduler_;
  std::deque<Reply> script_;
  Reply default_;
};

}  // namespace tests
