// Providers that need no AWS fake: environment, shared files (rotation in place), credential_process,
// the caching decorator (refresh window, single-flight, failures) and the chain's order and memory.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/aws/credentials_chain.h"
#include "common/aws/credentials_process.h"
#include "common/aws/credentials_providers.h"
#include "common/aws/credentials_util.h"
#include "tests/support/manual_clock.h"
#include "tests/unit/common/aws/credentials_test_support.h"

namespace {

using common::ErrorCode;
using common::Result;
using common::aws::CachingOptions;
using common::aws::CachingProvider;
using common::aws::Credentials;
using common::aws::CredentialsHandler;
using namespace std::chrono_literals;

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";

Credentials creds(std::string id, std::optional<common::WallTime> exp = std::nullopt) {
  Credentials c;
  c.access_key_id = std::move(id);
  c.secret_access_key = kSecret;
  c.session_token = "TOKEN";
  c.expiration = exp;
  return c;
}

// Answers only when the test says so; counts calls.
class FakeProvider final : public common::aws::CredentialsProvider {
 public:
  void get(CredentialsHandler done) override {
    ++calls;
    pending.push_back(std::move(done));
  }
  void invalidate() override { ++invalidations; }
  std::string name() const override { return "fake"; }
  void complete(const Result<Credentials>& r) {
    auto handlers = std::move(pending);
    pending.clear();
    for (auto& h : handlers) h(r);
  }
  int calls = 0;
  int invalidations = 0;
  std::vector<CredentialsHandler> pending;
};

struct CachingFixture : ::testing::Test {
  tests::ManualClock clock;
  std::shared_ptr<FakeProvider> fake = std::make_shared<FakeProvider>();
  CachingProvider cache{fake, clock};

  // Calls get() and returns what arrived synchronously (nullopt = still waiting).
  std::optional<Result<Credentials>> get_now() {
    std::optional<Result<Credentials>> out;
    cache.get([&out](Result<Credentials> r) { out.emplace(std::move(r)); });
    return out;
  }
};

TEST_F(CachingFixture, SingleFlightConcurrentCallersShareOneFetch) {
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    cache.get([&got](Result<Credentials> r) { got.push_back(r.ok() ? r->access_key_id : "error"); });
  }
  EXPECT_EQ(fake->calls, 1);
  EXPECT_TRUE(got.empty());
  fake->complete(creds("AKID1", clock.wall_now() + 1h));
  EXPECT_EQ(got, (std::vector<std::string>{"AKID1", "AKID1", "AKID1"}));
  auto again = get_now();  // cached: inline, no new fetch
  ASSERT_TRUE(again && again->ok());
  EXPECT_EQ((*again)->access_key_id, "AKID1");
  EXPECT_EQ(fake->calls, 1);
}

TEST_F(CachingFixture, RefreshesInTheBackgroundWhenLessThanFiveMinutesLeft) {
  cache.get([](Result<Credentials>) {});
  fake->complete(creds("OLD", clock.wall_now() + 20min));
  clock.advance(14min);  // 6 min left: still fresh
  ASSERT_TRUE(get_now().has_value());
  EXPECT_EQ(fake->calls, 1);
  clock.advance(2min);  // 4 min left: served from cache, one refresh started
  auto r = get_now();
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->access_key_id, "OLD");
  EXPECT_EQ(fake->calls, 2);
  ASSERT_TRUE(get_now().has_value());
  EXPECT_EQ(fake->calls, 2);  // no second refresh while one is in flight
  fake->complete(creds("NEW", clock.wall_now() + 1h));
  r = get_now();
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->access_key_id, "NEW");
}

TEST_F(CachingFixture, NeverHandsOutCredentialsExpiringWithinAMinute) {
  cache.get([](Result<Credentials>) {});
  fake->complete(creds("OLD", clock.wall_now() + 10min));
  clock.advance(9min + 30s);  // 30 s left
  auto r = get_now();
  EXPECT_FALSE(r.has_value());  // waits for the fetch instead
  EXPECT_EQ(fake->calls, 2);
  fake->complete(creds("NEW", clock.wall_now() + 1h));
  r = get_now();
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->access_key_id, "NEW");
}

TEST_F(CachingFixture, FetchedCredentialsAlreadyExpiringAreAnError) {
  std::optional<Result<Credentials>> out;
  cache.get([&](Result<Credentials> r) { out.emplace(std::move(r)); });
  fake->complete(creds("SHORT", clock.wall_now() + 30s));
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(out->ok());
  EXPECT_NE(out->error().to_string().find("expire in 30 s"), std::string::npos);
}

TEST_F(CachingFixture, FailedRefreshKeepsStillValidCredentialsAndWarnsWithoutSecrets) {
  tests::LogCapture log;
  cache.get([](Result<Credentials>) {});
  fake->complete(creds("GOOD", clock.wall_now() + 4min));  // inside the refresh window at once
  auto r = get_now();
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ(fake->calls, 2);
  fake->complete(common::Error(ErrorCode::kNetwork, "connection refused"));
  r = get_now();  // still valid: served
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->access_key_id, "GOOD");
  EXPECT_EQ(fake->calls, 2);  // backing off after the failure
  const std::string text = log.text();
  EXPECT_NE(text.find("refreshing credentials from fake failed; keeping the current ones"), std::string::npos) << text;
  EXPECT_NE(text.find("connection refused"), std::string::npos);
  EXPECT_EQ(text.find(kSecret), std::string::npos);

  clock.advance(11s);  // past retry_after_failure: next get tries again
  ASSERT_TRUE(get_now().has_value());
  EXPECT_EQ(fake->calls, 3);
  fake->complete(creds("NEXT", clock.wall_now() + 1h));
  EXPECT_EQ((*get_now())->access_key_id, "NEXT");
}

TEST_F(CachingFixture, FailedRefreshAfterExpiryIsAnError) {
  cache.get([](Result<Credentials>) {});
  fake->complete(creds("GOOD", clock.wall_now() + 10min));
  clock.advance(10min);
  std::optional<Result<Credentials>> out;
  cache.get([&](Result<Credentials> r) { out.emplace(std::move(r)); });
  fake->complete(common::Error(ErrorCode::kTimeout, "imds timed out"));
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->error().code(), ErrorCode::kTimeout);
}

TEST_F(CachingFixture, InvalidateDropsTheCacheAndIgnoresAFetchStartedBefore) {
  cache.get([](Result<Credentials>) {});
  fake->complete(creds("REJECTED", clock.wall_now() + 1h));
  cache.invalidate();
  EXPECT_EQ(fake->invalidations, 1);
  std::optional<Result<Credentials>> out;
  cache.get([&](Result<Credentials> r) { out.emplace(std::move(r)); });
  EXPECT_EQ(fake->calls, 2);
  cache.invalidate();  // while the fetch is in flight: its answer must not be used
  fake->complete(creds("REJECTED", clock.wall_now() + 1h));
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(fake->calls, 3);
  fake->complete(creds("FRESH", clock.wall_now() + 1h));
  ASSERT_TRUE(out && out->ok());
  EXPECT_EQ((*out)->access_key_id, "FRESH");
}

TEST(EnvironmentProvider, ReadsVariablesAndReportsAbsence) {
  common::MapEnvironment env;
  common::aws::EnvironmentCredentialsProvider p(env);
  std::optional<Result<Credentials>> out;
  p.get([&](Result<Credentials> r) { out.emplace(std::move(r)); });
  ASSERT_TRUE(out && !out->ok());
  EXPECT_EQ(out->error().code(), ErrorCode::kNotFound);

  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  p.get([&](Result<Credentials> r) { out.emplace(std::move(r)); });
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->error().code(), ErrorCode::kConfig);  // half configured

  env.set("AWS_SECRET_ACCESS_KEY", kSecret);
  env.set("AWS_SESSION_TOKEN", "SESSION");
  p.get([&](Result<Credentials> r) { out.emplace(std::move(r)); });
  ASSERT_TRUE(out->ok());
  EXPECT_EQ((*out)->access_key_id, "AKIDENV");
  EXPECT_EQ((*out)->secret_access_key, kSecret);
  EXPECT_EQ((*out)->session_token, "SESSION");
  EXPECT_FALSE((*out)->expiration.has_value());
}

TEST(ParseAwsTimestamp, FormatsAndRejects) {
  auto t = common::aws::parse_aws_timestamp("2020-11-05T02:02:26Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count(), 1604541746);
  auto frac = common::aws::parse_aws_timestamp("2020-11-05T02:02:26.500+00:00");
  ASSERT_TRUE(frac.ok());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*frac - *t).count(), 500);
  EXPECT_TRUE(common::aws::parse_aws_timestamp("1604541746").ok());
  EXPECT_FALSE(common::aws::parse_aws_timestamp("2020-11-05 nonsense").ok());
  EXPECT_FALSE(common::aws::parse_aws_timestamp("2020-11-05T02:02:26+02:00").ok());
}

// ---- shared files and credential_process (real files, real child processes) ----------------------

struct ProfileFixture : ::testing::Test {
  boost::asio::io_context io;
  common::http::CurlMultiClient http{io, {}};
  common::SystemClock clock;
  tests::TempDir dir;
  common::MapEnvironment env;

  void SetUp() override {
    env.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("credentials"));
    env.set("AWS_CONFIG_FILE", dir.file("config"));
  }
  common::aws::CredentialsDeps deps() { return {io, http, clock, env, nullptr}; }
  std::shared_ptr<common::aws::DefaultCredentialsChain> chain(common::aws::CredentialsChainOptions o = {}) {
    auto c = common::aws::DefaultCredentialsChain::create(deps(), std::move(o));
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : nullptr;
  }
};

TEST_F(ProfileFixture, StaticKeysFromTheSelectedProfile) {
  dir.write("credentials", "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n"
                           "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s2\naws_session_token = t2\n");
  env.set("AWS_PROFILE", "dev");
  auto c = chain();
  auto r = tests::get_credentials(io, *c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIDDEV");
  EXPECT_EQ(r->session_token, "t2");
  EXPECT_EQ(c->answered_by(), "profile dev");
}

TEST_F(ProfileFixture, RotatedInPlaceFileIsReReadOnTheNextGet) {
  dir.write("credentials", "[default]\naws_access_key_id = AKIDFIRST\naws_secret_access_key = s1\n");
  auto c = chain();
  auto first = tests::get_credentials(io, *c);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(first->access_key_id, "AKIDFIRST");
  EXPECT_EQ(tests::get_credentials(io, *c)->access_key_id, "AKIDFIRST");  // unchanged file: cached

  const auto inode_before = common::aws::fingerprint_file(dir.file("credentials")).inode;
  // Rewritten in place (same inode, O_TRUNC), as `aws configure set` and rotation tools do.
  dir.write("credentials", "[default]\naws_access_key_id = AKIDSECONDKEY\naws_secret_access_key = s22\n");
  ASSERT_EQ(common::aws::fingerprint_file(dir.file("credentials")).inode, inode_before);
  auto second = tests::get_credentials(io, *c);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->access_key_id, "AKIDSECONDKEY");
  EXPECT_EQ(second->secret_access_key, "s22");

  // Replaced by rename (new inode, same size).
  dir.write("credentials.new", "[default]\naws_access_key_id = AKIDTHIRDKEY1\naws_secret_access_key = s33\n");
  ASSERT_EQ(std::rename(dir.file("credentials.new").c_str(), dir.file("credentials").c_str()), 0);
  EXPECT_EQ(tests::get_credentials(io, *c)->access_key_id, "AKIDTHIRDKEY1");
}

TEST_F(ProfileFixture, EnvironmentComesBeforeFilesAndChainRemembersTheAnswer) {
  dir.write("credentials", "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n");
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "senv");
  auto c = chain();
  EXPECT_EQ(c->provider_names(), (std::vector<std::string>{"env", "profile default"}));
  EXPECT_EQ(tests::get_credentials(io, *c)->access_key_id, "AKIDENV");
  EXPECT_EQ(c->answered_by(), "env");

  common::aws::CredentialsChainOptions o;
  o.static_credentials = creds("AKIDCONFIG");
  auto with_static = chain(o);
  EXPECT_EQ(tests::get_credentials(io, *with_static)->access_key_id, "AKIDCONFIG");
  EXPECT_EQ(with_static->answered_by(), "config");
}

TEST_F(ProfileFixture, NothingConfiguredListsWhatWasTried) {
  auto c = chain();
  auto r = tests::get_credentials(io, *c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  const std::string msg = r.error().to_string();
  EXPECT_NE(msg.find("no AWS credentials found"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[env: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("[profile default: "), std::string::npos) << msg;
  EXPECT_EQ(c->answered_by(), "");
}

TEST_F(ProfileFixture, MisconfiguredProfileStopsTheChainWithItsError) {
  dir.write("config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/x\n");
  auto c = chain();
  auto r = tests::get_credentials(io, *c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_NE(r.error().to_string().find("role_arn needs source_profile or credential_source"), std::string::npos);
}

TEST_F(ProfileFixture, CredentialProcessVersion1) {
  tests::write_executable(dir, "creds.sh",
                          "#!/bin/sh\n"
                          "echo 'diagnostic on stderr' >&2\n"
                          "cat <<'JSON'\n"
                          "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": \"sproc\",\n"
                          " \"SessionToken\": \"tproc\", \"Expiration\": \"2099-01-01T00:00:00Z\"}\n"
                          "JSON\n");
  dir.write("config", "[profile tool]\ncredential_process = " + dir.file("creds.sh") + " --flag\n");
  env.set("AWS_PROFILE", "tool");
  auto c = chain();
  auto r = tests::get_credentials(io, *c);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "AKIDPROCESS");
  EXPECT_EQ(r->session_token, "tproc");
  ASSERT_TRUE(r->expiration.has_value());
  EXPECT_EQ(r->source, "profile tool (credential_process)");
}

TEST_F(ProfileFixture, CredentialProcessFailuresDoNotLeakOutput) {
  tests::write_executable(dir, "fail.sh",
                          "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"LEAKME\"}'\nexit 3\n");
  std::optional<Result<Credentials>> out;
  common::aws::run_credential_process(io, dir.file("fail.sh"), 5s, [&](Result<Credentials> r) { out.emplace(std::move(r)); });
  EXPECT_FALSE(out.has_value());  // never inline
  ASSERT_TRUE(tests::run_until(io, [&] { return out.has_value(); }));
  ASSERT_FALSE(out->ok());
  EXPECT_NE(out->error().to_string().find("exited with status 3"), std::string::npos);
  EXPECT_EQ(out->error().to_string().find("LEAKME"), std::string::npos);

  tests::write_executable(dir, "bad.sh", "#!/bin/sh\necho '{\"Version\":2,\"SecretAccessKey\":\"LEAKME\"}'\n");
  out.reset();
  common::aws::run_credential_process(io, dir.file("bad.sh"), 5s, [&](Result<Credentials> r) { out.emplace(std::move(r)); });
  ASSERT_TRUE(tests::run_until(io, [&] { return out.has_value(); }));
  ASSERT_FALSE(out->ok());
  EXPECT_NE(out->error().to_string().find("Version must be 1"), std::string::npos);
  EXPECT_EQ(out->error().to_string().find("LEAKME"), std::string::npos);
}

TEST_F(ProfileFixture, CredentialProcessTimeoutKillsTheChild) {
  tests::write_executable(dir, "slow.sh", "#!/bin/sh\nexec sleep 30\n");
  std::optional<Result<Credentials>> out;
  common::aws::run_credential_process(io, dir.file("slow.sh"), 200ms, [&](Result<Credentials> r) { out.emplace(std::move(r)); });
  // The loop keeps turning while the child runs (nothing blocks): a timer posted now fires first.
  bool timer_ran = false;
  boost::asio::steady_timer t(io, 10ms);
  t.async_wait([&](const boost::system::error_code&) { timer_ran = true; });
  ASSERT_TRUE(tests::run_until(io, [&] { return out.has_value(); }, 10s));
  EXPECT_TRUE(timer_ran);
  ASSERT_FALSE(out->ok());
  EXPECT_EQ(out->error().code(), ErrorCode::kTimeout);
  EXPECT_NE(out->error().to_string().find("did not finish within 200 ms"), std::string::npos);
}

// ---- AssumeRole on top of the chain (aws.role_arn) against a loopback STS -------------------------

TEST_F(ProfileFixture, RoleArnFromAgentConfigAssumesRoleWithChainCredentials) {
  tests::LoopbackHttpServer sts([](const tests::ReceivedRequest&) {
    return tests::Reply::ok(
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials>"
        "<AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>sassumed</SecretAccessKey>"
        "<SessionToken>tassumed</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
        "</AssumeRoleResult></AssumeRoleResponse>",
        {{"Content-Type", "text/xml"}});
  });
  env.set("AWS_ACCESS_KEY_ID", "AKIDSOURCE");
  env.set("AWS_SECRET_ACCESS_KEY", "ssource");
  common::aws::CredentialsChainOptions o;
  o.role_arn = "arn:aws:iam::123456789012:role/agent";
  o.role_session_name = "agent-session";
  o.external_id = "ext-1";
  o.sts.region = "eu-west-1";
  o.sts.endpoint.override_url = "http://127.0.0.1:" + std::to_string(sts.port());
  auto p = common::aws::make_default_credentials(deps(), o);
  ASSERT_TRUE(p.ok());
  auto r = tests::get_credentials(io, **p);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "ASIAASSUMED");
  EXPECT_EQ(r->source, "assume role arn:aws:iam::123456789012:role/agent");
  ASSERT_EQ(sts.requests().size(), 1u);
  const auto req = sts.requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_NE(req.body.find("Action=AssumeRole&"), std::string::npos);
  EXPECT_NE(req.body.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fagent"), std::string::npos);
  EXPECT_NE(req.body.find("RoleSessionName=agent-session"), std::string::npos);
  EXPECT_NE(req.body.find("ExternalId=ext-1"), std::string::npos);
  const auto auth = req.header("Authorization");
  ASSERT_TRUE(auth.has_value());
  EXPECT_NE(auth->find("Credential=AKIDSOURCE/"), std::string::npos);
  EXPECT_NE(auth->find("/eu-west-1/sts/aws4_request"), std::string::npos);
  EXPECT_EQ(tests::get_credentials(io, **p)->access_key_id, "ASIAASSUMED");
  EXPECT_EQ(sts.requests().size(), 1u);  // cached
}

TEST_F(ProfileFixture, StsErrorIsReportedWithCodeAndNoSecrets) {
  tests::LoopbackHttpServer sts([](const tests::ReceivedRequest&) {
    tests::Reply r = tests::Reply::with_status(
        403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to "
             "perform sts:AssumeRole</Message></Error><RequestId>r1</RequestId></ErrorResponse>");
    return r;
  });
  dir.write("credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = " + std::string(kSecret) + "\n");
  dir.write("config", "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = base\n");
  env.set("AWS_PROFILE", "role");
  common::aws::CredentialsChainOptions o;
  o.sts.endpoint.override_url = "http://127.0.0.1:" + std::to_string(sts.port());
  auto c = chain(o);
  auto r = tests::get_credentials(io, *c);
  ASSERT_FALSE(r.ok());
  const std::string msg = r.error().to_string();
  EXPECT_NE(msg.find("AccessDenied"), std::string::npos) << msg;
  EXPECT_EQ(msg.find(kSecret), std::string::npos);
}

}  // namespace
