// Helpers for the alarm delivery tests: a temporary directory and an SnsPublisher that records every
// request and answers with outcomes the test scripts (through the ManualScheduler, never inline).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/sinks/sns_publisher.h"
#include "common/event/scheduler.h"
#include "tests/support/temp_dir.h"

namespace tests {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class ScriptedPublisher final : public agent::SnsPublisher {
 public:
  explicit ScriptedPublisher(common::Scheduler& scheduler) : scheduler_(scheduler) {}

  // Outcomes handed out in order; when none is scripted, requests are delivered.
  void script(agent::PublishResult r, int times = 1) {
    for (int i = 0; i < times; ++i) script_.push_back(r);
  }
  // While down, every request fails retryably (like fakeaws "down").
  void set_down(bool down) { down_ = down; }

  void publish(const agent::SnsPublishRequest& request, std::function<void(agent::SnsPublishOutcome)> done) override {
    requests.push_back(request);
    agent::PublishResult r = agent::PublishResult::kDelivered;
    if (down_) {
      r = agent::PublishResult::kRetry;
    } else if (!script_.empty()) {
      r = script_.front();
      script_.pop_front();
    }
    ++in_flight;
    scheduler_.post([this, r, done = std::move(done)] {
      --in_flight;
      done(agent::SnsPublishOutcome{r, r == agent::PublishResult::kDelivered ? "msg-id" : "scripted failure"});
    });
  }
  std::string describe() const override { return "scripted"; }

  // Every request sent, in order (whatever the answer).
  std::vector<agent::SnsPublishRequest> requests;
  int in_flight = 0;

 private:
  common::Scheduler& scheduler_;
  std::deque<agent::PublishResult> script_;
  bool down_ = false;
};

}  // namespace tests
