// The real `trailwatch` binary: run/once/validate/version, SIGTERM, SIGHUP, systemd notifications.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace {

using namespace std::chrono_literals;
using tests::Subprocess;
using tests::TempDir;

// Generous bounds for slow (sanitized, loaded) machines; the assertions are on behaviour.
constexpr auto kStartTimeout = 20s;

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  // Only complete lines: the agent may be writing the next one right now.
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    if (nl > start) out.push_back(nlohmann::json::parse(text.substr(start, nl - start)));
    start = nl + 1;
  }
  return out;
}

std::size_t count_metric_records(const std::string& text, const std::string& ns = "") {
  std::size_t n = 0;
  for (const auto& j : json_lines(text)) {
    if (j.value("api", "") == "PutMetricData" && (ns.empty() || j["payload"]["Namespace"] == ns)) ++n;
  }
  return n;
}

std::string config_yaml(const TempDir& dir, const std::string& ns, const std::string& extra = "") {
  return "agent:\n  state_dir: " + dir.file("state") +
         "\n  shutdown_timeout: 2s\n"
         "aws:\n  imds:\n    enabled: false\n"
         "metrics:\n  interval: 1s\n  flush_interval: 1s\n  high_resolution: true\n  namespace: " + ns +
         "\n  cpu:\n    per_cpu: true\n"
         "audit:\n  enabled: false\n"
         "local:\n  path: " + dir.file("out.jsonl") + "\n" + extra;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tests::binary_path().empty()) << "TRAILWATCH_BINARY not set"; }
  std::string bin() const { return tests::binary_path(); }
  TempDir dir_;
};

TEST_F(DaemonTest, RunWritesMetricsEveryIntervalAndStopsCleanlyOnSigterm) {
  dir_.write("c.yaml", config_yaml(dir_, "TwTest"));
  Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")});
  const std::string out_path = dir_.file("out.jsonl");
  ASSERT_TRUE(p.wait_for([&](auto&, auto&) { return count_metric_records(tests::read_file(out_path)) >= 3; },
                         kStartTimeout))
      << p.err();

  const auto records = json_lines(tests::read_file(out_path));
  const auto& first = records.front();
  EXPECT_EQ(first["destination"], "cloudwatch");
  EXPECT_EQ(first["payload"]["Namespace"], "TwTest");
  bool saw_cpu_total = false, saw_mem = false;
  for (const auto& d : first["payload"]["MetricData"]) {
    ASSERT_TRUE(d.contains("MetricName") && d.contains("Value") && d.contains("Unit") && d.contains("Timestamp"));
    if (d["MetricName"] == "cpu_usage_user") {
      for (const auto& dim : d["Dimensions"]) {
        if (dim["Name"] == "cpu" && dim["Value"] == "cpu-total") saw_cpu_total = true;
      }
      EXPECT_EQ(d["Unit"], "Percent");
    }
    if (d["MetricName"] == "mem_used_percent") {
      saw_mem = true;
      EXPECT_GT(d["Value"].get<double>(), 0.0);
      EXPECT_LE(d["Value"].get<double>(), 100.0);
    }
  }
  EXPECT_TRUE(saw_cpu_total) << first.dump();
  EXPECT_TRUE(saw_mem) << first.dump();

  // Timestamps of successive rounds are one interval apart, on whole seconds.
  const std::string t0 = records[0]["payload"]["MetricData"][0]["Timestamp"];
  const std::string t1 = records[1]["payload"]["MetricData"][0]["Timestamp"];
  EXPECT_NE(t0, t1);

  const auto sent = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  const auto code = p.wait_exit(10s);
  const auto took = std::chrono::steady_clock::now() - sent;
  ASSERT_TRUE(code.has_value()) << "did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << p.err();
  EXPECT_LT(took, 1s) << "acceptance: clean stop within 1 s of SIGTERM";
  EXPECT_NE(p.err().find("stopping"), std::string::npos) << p.err();
}

TEST_F(DaemonTest, SigintAlsoStopsCleanly) {
  dir_.write("c.yaml", config_yaml(dir_, "TwTest"));
  Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")});
  ASSERT_TRUE(p.wait_for([](auto&, const std::string& err) { return err.find(" running (config") != std::string::npos; },
                         kStartTimeout))
      << p.err();
  p.signal(SIGINT);
  auto code = p.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST_F(DaemonTest, SighupAppliesAValidConfigAndKeepsTheOldOneOtherwise) {
  dir_.write("c.yaml", config_yaml(dir_, "First"));
  Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")});
  const std::string out_path = dir_.file("out.jsonl");
  ASSERT_TRUE(p.wait_for([&](auto&, auto&) { return count_metric_records(tests::read_file(out_path), "First") >= 1; },
                         kStartTimeout))
      << p.err();

  dir_.write("c.yaml", config_yaml(dir_, "Second"));
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for([&](auto&, auto&) { return count_metric_records(tests::read_file(out_path), "Second") >= 1; },
                         kStartTimeout))
      << p.err();
  EXPECT_NE(p.err().find("reload applied"), std::string::npos) << p.err();

  // A broken config: rejected with the reason, and the agent goes on with "Second".
  dir_.write("c.yaml", "metrics:\n  interval: ten\n");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for([](auto&, const std::string& err) { return err.find("reload rejected") != std::string::npos; },
                         kStartTimeout))
      << p.err();
  EXPECT_NE(p.err().find("c.yaml:2:13: metrics.interval"), std::string::npos) << p.err();
  const std::size_t before = count_metric_records(tests::read_file(out_path), "Second");
  ASSERT_TRUE(p.wait_for([&](auto&, auto&) { return count_metric_records(tests::read_file(out_path), "Second") > before; },
                         kStartTimeout));
  p.signal(SIGTERM);
  auto code = p.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

// Receives sd_notify datagrams like systemd does.
class NotifySocket {
 public:
  NotifySocket() {
    name_ = "@trailwatch-it-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    addr.sun_path[0] = '\0';
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size()));
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& name() const { return name_; }
  std::string drain() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got_.append(buf, static_cast<std::size_t>(n));
      got_.push_back('\n');
    }
    return got_;
  }

 private:
  static inline int counter_ = 0;
  std::string name_;
  int fd_;
  std::string got_;
};

TEST_F(DaemonTest, NotifiesSystemdReadyWatchdogAndStopping) {
  dir_.write("c.yaml", config_yaml(dir_, "TwTest"));
  NotifySocket sock;
  Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")},
               {{"NOTIFY_SOCKET", sock.name()}, {"WATCHDOG_USEC", "400000"}, {"JOURNAL_STREAM", "8:1234"}});
  ASSERT_TRUE(p.wait_for([&](auto&, auto&) { return sock.drain().find("WATCHDOG=1") != std::string::npos; },
                         kStartTimeout))
      << sock.drain() << p.err();
  EXPECT_NE(sock.drain().find("READY=1"), std::string::npos);
  // Under journald: syslog priority prefix, no timestamp.
  EXPECT_NE(p.err().find("<6>trailwatch"), std::string::npos) << p.err();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit(10s).has_value());
  EXPECT_NE(sock.drain().find("STOPPING=1"), std::string::npos) << sock.drain();
}

TEST_F(DaemonTest, EmbeddedDefaultConfigRunsWithoutAws) {
  // config/local.yaml as shipped: metrics to stdout. Its state dir lands next to it; point it elsewhere
  // by copying the file into the temp dir with the sample audit log path fixed up.
  std::string yaml = tests::read_file(tests::source_dir() + "/config/local.yaml");
  ASSERT_FALSE(yaml.empty());
  auto r = tests::run_command({bin(), "validate", "--config", tests::source_dir() + "/config/local.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Subprocess p({bin(), "run", "--config", tests::source_dir() + "/config/local.yaml"},
               {{"AWS_REGION", "us-east-1"}});
  ASSERT_TRUE(p.wait_for([](const std::string& out, auto&) { return count_metric_records(out) >= 1; }, 30s))
      << p.err();
  p.signal(SIGTERM);
  auto code = p.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << p.err();
}

// Off EC2, with IMDS on (the default) but nothing answering: the agent says so plainly and starts anyway,
// because the region is configured. IMDS gives up on a refused connection at once; the bound is the
// issue's 2 s for concluding "no IMDS" plus process start-up under sanitizers.
TEST_F(DaemonTest, StartsOffEc2WithAClearMessageWhenImdsDoesNotAnswer) {
  const int closed_port = [] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);  // nothing listens there now
    return static_cast<int>(ntohs(a.sin_port));
  }();
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(closed_port);
  dir_.write("c.yaml", "agent:\n  state_dir: " + dir_.file("state") +
                           "\naws:\n  region: eu-west-1\n  imds:\n    endpoint: " + nowhere +
                           "\n  endpoints:\n    cloudwatch: " + nowhere +
                           "\nmetrics:\n  output: cloudwatch\n  interval: 1s\n  append_dimensions: [InstanceId]\n"
                           "audit:\n  enabled: false\n");
  const auto started = std::chrono::steady_clock::now();
  Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")},
               {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "not-a-real-secret"},
                {"AWS_EC2_METADATA_DISABLED", Subprocess::kUnset}});
  ASSERT_TRUE(p.wait_for([](auto&, const std::string& err) { return err.find(" running (config") != std::string::npos; },
                         kStartTimeout))
      << p.err();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << p.err();
  EXPECT_NE(p.err().find("no instance metadata"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("InstanceId"), std::string::npos) << "the missing dimension is named: " << p.err();
  EXPECT_EQ(p.err().find("not-a-real-secret"), std::string::npos);
  p.signal(SIGTERM);
  auto code = p.wait_exit(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << p.err();
}

// An S3 trail sink off EC2 with no account_id cannot name its objects (AWSLogs/<account>/...): the
// start fails with the config exit status and says what to set, instead of running and holding
// every record.
TEST_F(DaemonTest, AnS3TrailSinkWithoutAnyAccountStopsTheStartWithTheReason) {
  dir_.write("audit.log", "");
  dir_.write("c.yaml", "agent:\n  state_dir: " + dir_.file("state") +
                           "\naws:\n  region: eu-west-1\n  imds:\n    enabled: false\n"
                           "  endpoints:\n    s3: http://127.0.0.1:9\n"
                           "metrics:\n  enabled: false\n"
                           "audit:\n  files: [\"" + dir_.file("audit.log") + "\"]\n"
                           "trail:\n  sinks:\n    - type: s3\n      bucket: trail-bucket\n");
  Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")},
               {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "not-a-real-secret"}});
  auto code = p.wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << p.err();
  EXPECT_EQ(*code, 78) << p.err();
  EXPECT_NE(p.err().find("cannot start"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("account_id"), std::string::npos) << "names what to set: " << p.err();
}

TEST_F(DaemonTest, OncePrintsOneRoundAndExits) {
  dir_.write("c.yaml", config_yaml(dir_, "OnceNs"));
  auto r = tests::run_command({bin(), "once", "--config", dir_.file("c.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(count_metric_records(r.out, "OnceNs"), 1u) << r.out;
  bool saw_net_or_cpu = false;
  for (const auto& d : lines[0]["payload"]["MetricData"]) {
    const std::string name = d["MetricName"];
    if (name.rfind("cpu_", 0) == 0 || name.rfind("net_", 0) == 0) saw_net_or_cpu = true;
  }
  EXPECT_TRUE(saw_net_or_cpu) << "once must take two reads so rates exist";
  // once prints to stdout even though the config names a file.
  EXPECT_TRUE(tests::read_file(dir_.file("out.jsonl")).empty());
}

TEST_F(DaemonTest, ValidateReportsEveryErrorWithPosition) {
  dir_.write("bad.yaml", "metrics:\n  interval: ten\n  namespase: X\nagent:\n  log_level: loud\n");
  auto r = tests::run_command({bin(), "validate", "--config", dir_.file("bad.yaml")});
  EXPECT_EQ(r.exit_code, 78);
  EXPECT_NE(r.err.find("bad.yaml:2:13: metrics.interval: expected a duration"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:3:3: metrics.namespase"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml:5:14: agent.log_level"), std::string::npos) << r.err;

  // In the order of the file (the agent section is read first, the metrics section holds lines 2 and 3).
  const auto at = [&r](const char* position) { return r.err.find(position); };
  EXPECT_LT(at("bad.yaml:2:13:"), at("bad.yaml:3:3:")) << r.err;
  EXPECT_LT(at("bad.yaml:3:3:"), at("bad.yaml:5:14:")) << r.err;

  auto missing = tests::run_command({bin(), "validate", "--config", dir_.file("nope.yaml")});
  EXPECT_EQ(missing.exit_code, 78);
  EXPECT_NE(missing.err.find("nope.yaml"), std::string::npos);

  auto run_bad = tests::run_command({bin(), "run", "--config", dir_.file("bad.yaml")});
  EXPECT_EQ(run_bad.exit_code, 78) << "run refuses a broken config with the config exit status";
}

// A password in an endpoint URL: refused by validate and run alike with the config exit status (not 1,
// which systemd would restart forever), and never printed.
TEST_F(DaemonTest, AnEndpointUrlWithAPasswordIsRefusedAndNeverPrinted) {
  dir_.write("c.yaml", "agent:\n  state_dir: " + dir_.file("state") +
                           "\naws:\n  region: eu-west-1\n  imds:\n    enabled: false\n"
                           "  endpoints:\n    cloudwatch: http://USER:PASSWORD@127.0.0.1:9\n"
                           "metrics:\n  output: cloudwatch\naudit:\n  enabled: false\n");
  const std::map<std::string, std::string> keys{{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                                {"AWS_SECRET_ACCESS_KEY", "not-a-real-secret"}};
  for (const char* command : {"validate", "run"}) {
    auto r = tests::run_command({bin(), command, "--config", dir_.file("c.yaml")}, keys);
    EXPECT_EQ(r.exit_code, 78) << command << ": " << r.err;
    EXPECT_NE(r.err.find("c.yaml:8:17: aws.endpoints.cloudwatch: a user name or password in an endpoint URL is not "
                         "allowed (got \"http://***@127.0.0.1:9\")"),
              std::string::npos)
        << command << ": " << r.err;
    EXPECT_EQ((r.out + r.err).find("PASSWORD"), std::string::npos) << command << ": " << r.out << r.err;
  }
  // The same from AWS_ENDPOINT_URL, with the file's endpoint removed.
  dir_.write("env.yaml", "agent:\n  state_dir: " + dir_.file("state") +
                             "\naws:\n  region: eu-west-1\n  imds:\n    enabled: false\n"
                             "metrics:\n  output: cloudwatch\naudit:\n  enabled: false\n");
  auto env = keys;
  env["AWS_ENDPOINT_URL"] = "http://USER:PASSWORD@127.0.0.1:9";
  auto r = tests::run_command({bin(), "run", "--config", dir_.file("env.yaml")}, env);
  EXPECT_EQ(r.exit_code, 78) << r.err;
  EXPECT_NE(r.err.find("from AWS_ENDPOINT_URL: a user name or password"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find("PASSWORD"), std::string::npos) << r.out << r.err;
}

// "/tmp/x\0y" would create /tmp/x and then fail every checkpoint commit: refused at validate.
TEST_F(DaemonTest, AControlCharacterInAPathIsRefusedAtItsPosition) {
  dir_.write("c.yaml", "agent:\n  state_dir: \"" + dir_.file("x") + "\\0y\"\naudit:\n  enabled: false\n");
  for (const char* command : {"validate", "run"}) {
    auto r = tests::run_command({bin(), command, "--config", dir_.file("c.yaml")});
    EXPECT_EQ(r.exit_code, 78) << command << ": " << r.err;
    EXPECT_NE(r.err.find("c.yaml:2:14: agent.state_dir: byte 0x00 at position"), std::string::npos)
        << command << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.file("x"))) << "nothing was created";
}

// A state directory that cannot be made or written stops the start with the config exit status and
// the fix, instead of running without ever saving a checkpoint.
TEST_F(DaemonTest, AStateDirThatCannotBeWrittenStopsTheStartWithTheFix) {
  dir_.write("file", "");
  std::vector<std::string> unusable{dir_.file("file") + "/state"};  // ENOTDIR, for root too
  if (::geteuid() != 0) {
    std::filesystem::create_directory(dir_.file("readonly"));
    ::chmod(dir_.file("readonly").c_str(), 0500);
    unusable.push_back(dir_.file("readonly"));
  }
  for (const std::string& state : unusable) {
    dir_.write("c.yaml", config_yaml(dir_, "Ns").replace(0, std::string("agent:\n  state_dir: " + dir_.file("state")).size(),
                                                         "agent:\n  state_dir: " + state));
    Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")});
    auto code = p.wait_exit(20s);
    ASSERT_TRUE(code.has_value()) << state << ": still running: " << p.err();
    EXPECT_EQ(*code, 78) << state << ": " << p.err();
    EXPECT_NE(p.err().find("cannot start: agent.state_dir:"), std::string::npos) << p.err();
    EXPECT_NE(p.err().find("or set agent.state_dir"), std::string::npos) << "names the fix: " << p.err();
  }
}

// Like ssh: secrets readable by others are warned about; the state directory is created 0750.
TEST_F(DaemonTest, FileModesOfSecretsAreWarnedAboutAndTheStateDirIsCreatedPrivate) {
  dir_.write("c.yaml", config_yaml(dir_, "ModeNs"));
  Subprocess p({bin(), "run", "--config", dir_.file("c.yaml")});
  ASSERT_TRUE(p.wait_for([](auto&, const std::string& err) { return err.find(" running (config") != std::string::npos; },
                         kStartTimeout))
      << p.err();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 027, 0u) << "created with mode " << std::oct << (st.st_mode & 07777);
  EXPECT_EQ(p.err().find("is open to every user"), std::string::npos) << p.err();
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_exit(10s).has_value());

  ASSERT_EQ(::chmod(dir_.file("state").c_str(), 0755), 0);
  dir_.write("credentials", "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s3cr3t\n");
  ASSERT_EQ(::chmod(dir_.file("credentials").c_str(), 0644), 0);
  auto r = tests::run_command({bin(), "validate", "--config", dir_.file("c.yaml")},
                              {{"AWS_SHARED_CREDENTIALS_FILE", dir_.file("credentials")}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: agent.state_dir " + dir_.file("state") + " is open to every user on this host (mode "
                       "0755)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("warning: AWS shared credentials file " + dir_.file("credentials") +
                       " can be read or written by group or others (mode 0644)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("s3cr3t"), std::string::npos) << r.err;
  ASSERT_EQ(::chmod(dir_.file("credentials").c_str(), 0600), 0);
  ASSERT_EQ(::chmod(dir_.file("state").c_str(), 0750), 0);
  auto quiet = tests::run_command({bin(), "validate", "--config", dir_.file("c.yaml")},
                                  {{"AWS_SHARED_CREDENTIALS_FILE", dir_.file("credentials")}});
  EXPECT_EQ(quiet.err.find("warning:"), std::string::npos) << quiet.err;
}

TEST_F(DaemonTest, ValidatePrintShowsEffectiveConfigWithSecretsRedacted) {
  dir_.write("c.yaml", "aws:\n  credentials:\n    access_key_id: AKIAIOSFODNN7EXAMPLE\n"
                       "    secret_access_key: wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
                       "agent:\n  state_dir: " + dir_.file("state") + "\n");
  auto r = tests::run_command({bin(), "validate", "--config", dir_.file("c.yaml"), "--print"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("wJalrXUtnFEMI"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("namespace"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("static credentials"), std::string::npos) << r.err;
}

TEST_F(DaemonTest, VersionHelpAndUsageErrors) {
  auto v = tests::run_command({bin(), "version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("trailwatch ", 0), 0u) << v.out;
  for (const char* cmd : {"run", "once", "validate", "version"}) {
    auto h = tests::run_command({bin(), cmd, "--help"});
    EXPECT_EQ(h.exit_code, 0) << cmd;
    EXPECT_NE(h.out.find("usage: trailwatch"), std::string::npos) << cmd;
  }
  auto unknown = tests::run_command({bin(), "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 64);
  EXPECT_NE(unknown.err.find("unknown command"), std::string::npos);
  auto bad_opt = tests::run_command({bin(), "run", "--bogus"});
  EXPECT_EQ(bad_opt.exit_code, 64);
  EXPECT_NE(bad_opt.err.find("unknown option '--bogus'"), std::string::npos);
}

}  // namespace
