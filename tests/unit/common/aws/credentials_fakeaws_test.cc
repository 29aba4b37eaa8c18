// Providers that talk to STS, the container endpoint and IMDS, against tests/fakeaws (which checks
// SigV4 with botocore and enforces IMDSv2 tokens).
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/aws/credentials_chain.h"
#include "common/aws/credentials_providers.h"
#include "common/aws/imds_client.h"
#include "tests/support/manual_clock.h"
#include "tests/unit/common/aws/credentials_test_support.h"

namespace {

using common::ErrorCode;
using namespace std::chrono_literals;

constexpr const char* kFakeAkid = "AKIDEXAMPLE";
constexpr const char* kFakeSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

class FakeAwsCredentials : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fake_ = new tests::FakeAwsServer(); }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }
  void SetUp() override {
    fake_->call("POST", "/_fake/reset");
    env.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("credentials"));
    env.set("AWS_CONFIG_FILE", dir.file("config"));
  }
  common::aws::StsOptions sts() const {
    common::aws::StsOptions o;
    o.region = "us-east-1";
    o.endpoint.override_url = fake_->endpoint();
    return o;
  }
  nlohmann::json requests(const std::string& service) {
    return nlohmann::json::parse(fake_->call("GET", "/_fake/requests?service=" + service))["requests"];
  }

  static tests::FakeAwsServer* fake_;
  boost::asio::io_context io;
  common::http::CurlMultiClient http{io, {}};
  common::SystemClock clock;
  tests::TempDir dir;
  common::MapEnvironment env;
};

tests::FakeAwsServer* FakeAwsCredentials::fake_ = nullptr;

TEST_F(FakeAwsCredentials, WebIdentityFromEnvironmentUnsignedAndReReadsTheTokenFile) {
  fake_->config(R"({"web_identity_token": "jwt-one-token"})");
  dir.write("token", "jwt-one-token\n");
  env.set("AWS_WEB_IDENTITY_TOKEN_FILE", dir.file("token"));
  env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web");
  env.set("AWS_ROLE_SESSION_NAME", "pod-1");
  common::aws::CredentialsChainOptions o;
  o.sts = sts();
  auto chain = common::aws::DefaultCredentialsChain::create({io, http, clock, env, nullptr}, o);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ((*chain)->provider_names().at(1), "web identity");
  auto r = tests::get_credentials(io, **chain);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id.substr(0, 4), "ASIA");
  EXPECT_FALSE(r->session_token.empty());
  ASSERT_TRUE(r->expiration.has_value());
  EXPECT_GT(*r->expiration, clock.wall_now() + 50min);
  EXPECT_EQ((*chain)->answered_by(), "web identity");
  auto reqs = requests("sts");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0]["accepted"].get<bool>()) << reqs[0].dump();
  EXPECT_EQ(reqs[0]["data"]["RoleSessionName"], "pod-1");
  EXPECT_EQ(reqs[0]["data"]["WebIdentityToken"], "jwt-one-token");

  // The provider (not the cache) re-reads the file: a wrong token is now refused by STS.
  dir.write("token", "jwt-wrong-token");
  common::aws::WebIdentityCredentialsProvider direct(http, clock, *common::aws::web_identity_from_environment(env, sts()));
  auto refused = tests::get_credentials(io, direct);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().to_string().find("InvalidIdentityToken"), std::string::npos) << refused.error().to_string();
}

TEST_F(FakeAwsCredentials, AssumeRoleWithSourceProfileIsSignedAndAccepted) {
  dir.write("credentials", std::string("[base]\naws_access_key_id = ") + kFakeAkid +
                               "\naws_secret_access_key = " + kFakeSecret + "\n");
  dir.write("config",
            "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n"
            "role_session_name = ops-session\nexternal_id = ext-42\nduration_seconds = 1800\n");
  env.set("AWS_PROFILE", "ops");
  common::aws::CredentialsChainOptions o;
  o.sts = sts();
  auto chain = common::aws::DefaultCredentialsChain::create({io, http, clock, env, nullptr}, o);
  ASSERT_TRUE(chain.ok());
  auto r = tests::get_credentials(io, **chain);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->source, "profile ops (assumed arn:aws:iam::123456789012:role/ops)");
  auto reqs = requests("sts");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_TRUE(reqs[0]["accepted"].get<bool>()) << reqs[0].dump();
  EXPECT_EQ(reqs[0]["operation"], "AssumeRole");
  EXPECT_EQ(reqs[0]["access_key_id"], kFakeAkid);
  EXPECT_EQ(reqs[0]["data"]["ExternalId"], "ext-42");
  EXPECT_EQ(reqs[0]["data"]["DurationSeconds"], 1800);
  EXPECT_EQ(reqs[0]["data"]["IssuedAccessKeyId"], r->access_key_id);

  // The issued session credentials themselves work (GetCallerIdentity signed with them).
  common::http::Request call;
  call.method = "POST";
  call.url = fake_->endpoint() + "/";
  call.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  call.body = "Action=GetCallerIdentity&Version=2011-06-15";
  common::aws::SigV4Signer signer;
  common::aws::SigningParams sp;
  sp.region = "us-east-1";
  sp.service = "sts";
  sp.time = clock.wall_now();
  ASSERT_TRUE(signer.sign(call, *r, sp).ok());
  std::optional<common::Result<common::http::Response>> resp;
  http.send(call, [&](common::Result<common::http::Response> x) { resp.emplace(std::move(x)); });
  ASSERT_TRUE(tests::run_until(io, [&] { return resp.has_value(); }));
  ASSERT_TRUE(resp->ok());
  EXPECT_EQ((*resp)->status, 200) << (*resp)->body;
}

TEST_F(FakeAwsCredentials, AssumeRoleWithUnknownSourceKeyIsRejected) {
  dir.write("credentials", "[base]\naws_access_key_id = AKIDUNKNOWN0000\naws_secret_access_key = nope\n");
  dir.write("config", "[default]\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = base\n");
  common::aws::CredentialsChainOptions o;
  o.sts = sts();
  auto chain = common::aws::DefaultCredentialsChain::create({io, http, clock, env, nullptr}, o);
  auto r = tests::get_credentials(io, **chain);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("InvalidClientTokenId"), std::string::npos) << r.error().to_string();
}

TEST_F(FakeAwsCredentials, ContainerCredentialsWithAuthorizationTokenAndTokenFile) {
  fake_->config(R"({"container_auth_token": "Bearer secret-container-token"})");
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fake_->endpoint() + "/_fake/container-creds");
  common::aws::CredentialsChainOptions o;
  auto chain = common::aws::DefaultCredentialsChain::create({io, http, clock, env, nullptr}, o);
  ASSERT_TRUE(chain.ok());

  // Without the token: 401, and the chain reports it instead of moving on.
  auto refused = tests::get_credentials(io, **chain);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().to_string().find("http 401"), std::string::npos) << refused.error().to_string();

  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer secret-container-token");
  chain = common::aws::DefaultCredentialsChain::create({io, http, clock, env, nullptr}, o);
  auto r = tests::get_credentials(io, **chain);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*chain)->answered_by(), "container");
  EXPECT_EQ(r->source, "container");
  EXPECT_FALSE(r->session_token.empty());

  // The token file wins over the variable and is re-read on every fetch.
  dir.write("auth", "Bearer secret-container-token\n");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir.file("auth"));
  auto opts = common::aws::container_credentials_from_environment(env);
  ASSERT_TRUE(opts.ok() && opts->has_value());
  common::aws::ContainerCredentialsProvider direct(http, **opts);
  EXPECT_TRUE(tests::get_credentials(io, direct).ok());
  dir.write("auth", "Bearer rotated-away");
  EXPECT_FALSE(tests::get_credentials(io, direct).ok());
}

TEST(ContainerCredentialsEnvironment, RelativeUriAndPlainHttpRules) {
  common::MapEnvironment env{{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}};
  auto rel = common::aws::container_credentials_from_environment(env);
  ASSERT_TRUE(rel.ok() && rel->has_value());
  EXPECT_EQ((*rel)->url, "http://169.254.170.2/v2/credentials/abc");

  common::MapEnvironment remote{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example.com/creds"}};
  auto bad = common::aws::container_credentials_from_environment(remote);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kConfig);
  common::MapEnvironment tls{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x"}};
  EXPECT_TRUE(common::aws::container_credentials_from_environment(tls).ok());
  common::MapEnvironment pod{{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"}};
  EXPECT_TRUE(common::aws::container_credentials_from_environment(pod).ok());
  common::MapEnvironment none;
  auto nothing = common::aws::container_credentials_from_environment(none);
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
}

TEST_F(FakeAwsCredentials, ImdsRoleCredentialsThroughTheChainWithIMDSv2) {
  fake_->config(R"({"imds_role": "agent-role"})");
  common::aws::ImdsOptions io_opts;
  io_opts.endpoint = fake_->endpoint();
  common::aws::ImdsClient imds(http, clock, io_opts);
  auto chain = common::aws::DefaultCredentialsChain::create({io, http, clock, env, &imds}, {});
  ASSERT_TRUE(chain.ok());
  auto r = tests::get_credentials(io, **chain);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->source, "imds role agent-role");
  EXPECT_EQ((*chain)->answered_by(), "imds role agent-role");
  auto reqs = requests("imds");
  ASSERT_GE(reqs.size(), 3u);  // token, role name, role credentials
  EXPECT_EQ(reqs[0]["path"], "/latest/api/token");
  for (std::size_t i = 1; i < reqs.size(); ++i) {
    EXPECT_TRUE(reqs[i]["data"]["token_used"].get<bool>()) << reqs[i].dump();
    EXPECT_TRUE(reqs[i]["accepted"].get<bool>()) << reqs[i].dump();
  }
}

TEST_F(FakeAwsCredentials, ImdsCredentialsRotatingMidRunArePickedUpBeforeExpiry) {
  fake_->config(R"({"imds_role": "agent-role", "imds_credential_ttl_seconds": 3600})");
  tests::ManualClock mclock(std::chrono::time_point_cast<common::WallTime::duration>(std::chrono::system_clock::now()));
  common::aws::ImdsOptions io_opts;
  io_opts.endpoint = fake_->endpoint();
  common::aws::ImdsClient imds(http, mclock, io_opts);
  auto inner = std::make_shared<common::aws::ImdsCredentialsProvider>(imds);
  common::aws::CachingProvider provider(inner, mclock);

  auto first = tests::get_credentials(io, provider);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_TRUE(first->expiration.has_value());
  EXPECT_EQ(provider.fetches(), 1u);

  // EC2 rotates the role credentials (the new ones live longer); ours are not due yet, so the cache keeps them.
  fake_->config(R"({"imds_credential_ttl_seconds": 7200})");
  auto rotated = nlohmann::json::parse(fake_->call("POST", "/_fake/credentials", R"({"rotate_imds": true})"));
  const std::string new_akid = rotated["rotated"]["imds"]["AccessKeyId"];
  ASSERT_NE(new_akid, first->access_key_id);
  EXPECT_EQ(tests::get_credentials(io, provider)->access_key_id, first->access_key_id);
  EXPECT_EQ(provider.fetches(), 1u);

  // Four minutes before our copy expires: served from cache while one refresh fetches the new keys.
  mclock.set_wall(*first->expiration - 4min);
  EXPECT_EQ(tests::get_credentials(io, provider)->access_key_id, first->access_key_id);
  EXPECT_EQ(provider.fetches(), 2u);
  ASSERT_TRUE(tests::run_until(io, [&] {
    std::optional<std::string> id;
    provider.get([&](common::Result<common::aws::Credentials> r) { id = r.ok() ? r->access_key_id : ""; });
    return id == new_akid;
  }));
  EXPECT_EQ(provider.fetches(), 2u);
}

}  // namespace
