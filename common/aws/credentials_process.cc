#include "common/aws/credentials_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "common/aws/credentials_util.h"

extern char** environ;  // NOLINT: POSIX

namespace common::aws {
namespace {

namespace asio = boost::asio;

constexpr std::chrono::milliseconds kReapPoll{10};

struct ProcessRun : std::enable_shared_from_this<ProcessRun> {
  ProcessRun(asio::io_context& io, int fd, pid_t child, std::function<void(Result<Credentials>)> cb)
      : stream(io, fd), timer(io), reap_timer(io), pid(child), done(std::move(cb)) {}
  ~ProcessRun() {
    if (pid > 0) {  // abandoned (loop destroyed): do not leave a zombie or a stray process
      ::kill(pid, SIGKILL);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  }

  asio::posix::stream_descriptor stream;
  asio::steady_timer timer;
  asio::steady_timer reap_timer;
  pid_t pid;
  std::function<void(Result<Credentials>)> done;
  std::array<char, 4096> buf{};
  std::string out;
  bool finished = false;
  bool timed_out = false;
  bool too_large = false;
  std::chrono::milliseconds timeout{};

  void finish(Result<Credentials> r) {
    if (finished) return;
    finished = true;
    timer.cancel();
    reap_timer.cancel();
    boost::system::error_code ec;
    stream.close(ec);
    auto cb = std::move(done);
    cb(std::move(r));
  }

  void read() {
    auto self = shared_from_this();
    stream.async_read_some(asio::buffer(buf), [self](const boost::system::error_code& ec, std::size_t n) noexcept {
      if (self->finished) return;
      if (!ec) {
        if (self->out.size() + n > kMaxCredentialProcessOutput) {
          self->too_large = true;
          ::kill(self->pid, SIGKILL);
          self->reap();
          return;
        }
        self->out.append(self->buf.data(), n);
        self->read();
        return;
      }
      self->reap();  // EOF (or read error): the child closed stdout, normally by exiting
    });
  }

  void reap() {
    if (finished) return;
    int st = 0;
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == 0) {  // stdout closed but not exited yet: poll briefly (bounded by the overall timeout)
      auto self = shared_from_this();
      reap_timer.expires_after(kReapPoll);
      reap_timer.async_wait([self](const boost::system::error_code& ec) noexcept {
        if (!ec) self->reap();
      });
      return;
    }
    pid = -1;
    if (timed_out) {
      finish(Error(ErrorCode::kTimeout, "credential_process did not finish within " +
                                            std::to_string(timeout.count()) + " ms and was killed"));
      return;
    }
    if (too_large) {
      finish(Error(ErrorCode::kParse, "credential_process printed more than " +
                                          std::to_string(kMaxCredentialProcessOutput) + " bytes"));
      return;
    }
    if (r < 0) {
      finish(Error(ErrorCode::kInternal, std::string("credential_process: waitpid: ") + std::strerror(errno)));
      return;
    }
    if (WIFSIGNALED(st)) {
      finish(Error(ErrorCode::kRemote, "credential_process was killed by signal " + std::to_string(WTERMSIG(st))));
      return;
    }
    if (WEXITSTATUS(st) != 0) {
      finish(Error(ErrorCode::kRemote, "credential_process exited with status " + std::to_string(WEXITSTATUS(st))));
      return;
    }
    auto creds = parse_credential_process_output(out);
    if (creds.ok()) creds->source = "credential_process";
    finish(std::move(creds));
  }

  void arm_timeout() {
    auto self = shared_from_this();
    timer.expires_after(timeout);
    timer.async_wait([self](const boost::system::error_code& ec) noexcept {
      if (ec || self->finished || self->pid <= 0) return;
      self->timed_out = true;
      ::kill(self->pid, SIGKILL);
      self->reap();
    });
  }
};

}  // namespace

Result<Credentials> parse_credential_process_output(std::string_view json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception&) {
    return Error(ErrorCode::kParse, "credential_process output is not valid JSON");
  }
  if (!doc.is_object()) return Error(ErrorCode::kParse, "credential_process output is not a JSON object");
  auto str = [&](const char* key) -> std::string {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto version = doc.find("Version");
  if (version == doc.end() || !version->is_number_integer() || version->get<long long>() != 1) {
    return Error(ErrorCode::kParse, "credential_process output: Version must be 1");
  }
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("SessionToken");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Error(ErrorCode::kParse, "credential_process output lacks AccessKeyId or SecretAccessKey");
  }
  const std::string exp = str("Expiration");
  if (!exp.empty()) {
    auto t = parse_aws_timestamp(exp);
    if (!t.ok()) return t.error().wrap("credential_process output Expiration");
    c.expiration = *t;
  }
  return c;
}

void run_credential_process(asio::io_context& io, const std::string& command, std::chrono::milliseconds timeout,
                            std::function<void(Result<Credentials>)> done) {
  auto fail_later = [&io](std::function<void(Result<Credentials>)> cb, Error e) {
    asio::post(io, [cb = std::move(cb), e = std::move(e)]() { cb(e); });
  };
  if (command.empty()) {
    fail_later(std::move(done), Error(ErrorCode::kConfig, "credential_process is empty"));
    return;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    fail_later(std::move(done), Error(ErrorCode::kIo, std::string("credential_process: pipe: ") + std::strerror(errno)));
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    fail_later(std::move(done), Error(ErrorCode::kIo, std::string("credential_process: spawn: ") + std::strerror(rc)));
    return;
  }
  auto run = std::make_shared<ProcessRun>(io, fds[0], pid, std::move(done));
  run->timeout = timeout;
  run->stream.non_blocking(true);
  run->arm_timeout();
  run->read();
}

}  // namespace common::aws
