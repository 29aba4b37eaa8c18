// FakeAwsProcess: tests/fakeaws/fakeaws.py (Debian's python3 with botocore) as a child process on a
// free loopback port; killed when the object goes. Shared by every C++ suite that talks to it.
#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"

namespace tests {

class FakeAwsProcess {
 public:
  FakeAwsProcess()
      : proc_({"/usr/bin/python3", source_dir() + "/tests/fakeaws/fakeaws.py", "--port", "0", "--max-lifetime",
               "300"}) {
    const bool up = proc_.wait_for(
        [](const std::string& out, const std::string&) {
          const auto at = out.find("FAKEAWS_PORT=");
          return at != std::string::npos && out.find('\n', at) != std::string::npos;
        },
        std::chrono::seconds(30));
    if (!up) {
      ADD_FAILURE() << "fakeaws did not start: " << proc_.err();
      return;
    }
    const auto at = proc_.out().find("FAKEAWS_PORT=") + 13;
    port_ = std::stoi(proc_.out().substr(at, proc_.out().find('\n', at) - at));
  }

  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& err() const { return proc_.err(); }

 private:
  Subprocess proc_;
  int port_ = 0;
};

}  // namespace tests
