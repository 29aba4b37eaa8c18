// Subprocess: runs a real binary for integration tests, with its stdout/stderr captured and
// bounded waits (every wait has a deadline; nothing here sleeps without one).
#pragma once

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace tests {

class Subprocess {
 public:
  // env entries are added to (and override) the parent's environment; a value of "\x01unset" removes one.
  Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~Subprocess();  // SIGKILLs the child if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  int pid() const { return pid_; }
  void signal(int signo);

  // Reads available output until pred(stdout, stderr) is true or the deadline passes; returns pred's last value.
  bool wait_for(const std::function<bool(const std::string& out, const std::string& err)>& pred,
                std::chrono::milliseconds timeout);
  // Waits for exit up to timeout; the exit code (128+signal when killed) or nullopt if still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  static constexpr const char* kUnset = "\x01unset";

 private:
  void pump(std::chrono::milliseconds max_wait);
  int pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::optional<int> exit_code_;
  std::string out_;
  std::string err_;
};

// Convenience: run to completion (bounded) and collect everything.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult run_command(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

std::string read_file(const std::string& path);
std::string source_dir();   // TRAILWATCH_SOURCE_DIR
// The trailwatch executable: $TRAILWATCH_BINARY, else the path compiled into tests declared NEEDS_BINARY.
// Inline so the definition is read in the test's own translation unit.
inline std::string binary_path() {
  if (const char* s = std::getenv("TRAILWATCH_BINARY"); s != nullptr) return s;
#ifdef TRAILWATCH_BINARY_PATH
  return TRAILWATCH_BINARY_PATH;
#else
  return "";
#endif
}

}  // namespace tests
