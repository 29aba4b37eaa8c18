#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace tests {

Subprocess::Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : env) {
    if (v == kUnset) merged.erase(k);
    else merged[k] = v;
  }
  std::vector<std::string> env_strings;
  for (auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    throw std::runtime_error(std::string("posix_spawn ") + argv[0] + ": " + std::strerror(rc));
  }
  pid_ = pid;
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  ::fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

Subprocess::~Subprocess() {
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

void Subprocess::signal(int signo) {
  if (!exit_code_) ::kill(pid_, signo);
}

void Subprocess::pump(std::chrono::milliseconds max_wait) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  ::poll(fds, 2, static_cast<int>(max_wait.count()));
  char buf[65536];
  for (int i = 0; i < 2; ++i) {
    const int fd = i == 0 ? out_fd_ : err_fd_;
    std::string& dst = i == 0 ? out_ : err_;
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      dst.append(buf, static_cast<std::size_t>(n));
    }
  }
  if (!exit_code_) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
}

bool Subprocess::wait_for(const std::function<bool(const std::string&, const std::string&)>& pred,
                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pump(std::chrono::milliseconds(0));
    if (pred(out_, err_)) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || exit_code_) {
      pump(std::chrono::milliseconds(0));
      return pred(out_, err_);
    }
    pump(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now), std::chrono::milliseconds(20)));
  }
}

std::optional<int> Subprocess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_ && std::chrono::steady_clock::now() < deadline) pump(std::chrono::milliseconds(10));
  if (exit_code_) pump(std::chrono::milliseconds(0));
  return exit_code_;
}

RunResult run_command(std::vector<std::string> argv, std::map<std::string, std::string> env,
                      std::chrono::milliseconds timeout) {
  Subprocess p(std::move(argv), std::move(env));
  RunResult r;
  auto code = p.wait_exit(timeout);
  r.exit_code = code.value_or(-1);
  r.out = p.out();
  r.err = p.err();
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string source_dir() {
  const char* s = std::getenv("TRAILWATCH_SOURCE_DIR");
  return s != nullptr ? s : ".";
}

}  // namespace tests
