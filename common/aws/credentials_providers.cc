#include "common/aws/credentials_providers.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/aws/aws_error.h"
#include "common/aws/credentials_process.h"
#include "common/aws/credentials_util.h"
#include "common/clock/time_format.h"

namespace common::aws {
namespace {

constexpr std::size_t kMaxStsResponseBytes = 64 * 1024;
constexpr std::size_t kMaxContainerResponseBytes = 64 * 1024;
// source_profile chains deeper than this are refused (and catch cycles).
constexpr int kMaxProfileDepth = 5;

Result<std::string> read_small_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kIo, std::string(what) + " " + path + ": cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

ErrorCode code_for(const AwsError& e) {
  if (e.throttling) return ErrorCode::kThrottled;
  if (e.retryable) return ErrorCode::kUnavailable;
  return ErrorCode::kRemote;
}

void post_sts(http::HttpClient& http, const Clock& clock, const StsOptions& sts, std::string body,
              const Credentials* signer_creds, std::string what, CredentialsHandler done) {
  auto endpoint = resolve_endpoint(Service::kSts, sts.region, sts.endpoint);
  if (!endpoint.ok()) {
    done(endpoint.error().wrap(what));
    return;
  }
  http::Request req;
  req.method = "POST";
  req.url = endpoint->url + "/";
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  req.body = std::move(body);
  req.total_timeout = sts.timeout;
  req.connect_timeout = std::min(sts.timeout, req.connect_timeout);
  req.max_response_bytes = kMaxStsResponseBytes;
  if (signer_creds != nullptr) {
    SigV4Signer signer;
    SigningParams p;
    p.region = endpoint->signing_region;
    p.service = endpoint->signing_name;
    p.time = clock.wall_now();
    if (auto s = signer.sign(req, *signer_creds, p); !s.ok()) {
      done(s.error().wrap(what));
      return;
    }
  }
  http.send(std::move(req), [what = std::move(what), done = std::move(done)](Result<http::Response> r) {
    if (!r.ok()) {
      done(r.error().wrap(what));
      return;
    }
    if (r->status != 200) {
      const AwsError e = parse_aws_error(*r);
      done(Error(code_for(e), what + ": " + e.to_string()));
      return;
    }
    auto creds = parse_sts_credentials(r->body);
    if (!creds.ok()) {
      done(creds.error().wrap(what));
      return;
    }
    done(std::move(creds));
  });
}

std::string role_query(const AssumeRoleParams& params, const Clock& clock) {
  std::string q = "&RoleArn=" + form_value(params.role_arn) + "&RoleSessionName=" +
                  form_value(params.session_name.empty() ? default_role_session_name(clock) : params.session_name);
  q += "&DurationSeconds=" + std::to_string(params.duration.count());
  return q;
}

}  // namespace

std::string default_role_session_name(const Clock& clock) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(clock.wall_now().time_since_epoch()).count();
  return "trailwatch-" + std::to_string(secs);
}

// ---- environment ---------------------------------------------------------------------------------

void EnvironmentCredentialsProvider::get(CredentialsHandler done) {
  auto id = env_.get("AWS_ACCESS_KEY_ID");
  auto secret = env_.get("AWS_SECRET_ACCESS_KEY");
  if (!id || id->empty() || !secret || secret->empty()) {
    if ((id && !id->empty()) != (secret && !secret->empty())) {
      done(Error(ErrorCode::kConfig, "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set"));
      return;
    }
    done(Error(ErrorCode::kNotFound, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"));
    return;
  }
  Credentials c;
  c.access_key_id = *id;
  c.secret_access_key = *secret;
  c.session_token = env_.get("AWS_SESSION_TOKEN").value_or("");
  c.source = "env";
  done(std::move(c));
}

// ---- STS -----------------------------------------------------------------------------------------

Result<Credentials> parse_sts_credentials(std::string_view xml) {
  const std::size_t at = xml.find("<Credentials>");
  if (at == std::string_view::npos) return Error(ErrorCode::kParse, "STS response has no <Credentials>");
  const std::string_view block = xml.substr(at);
  Credentials c;
  c.access_key_id = xml_tag_text(block, "AccessKeyId").value_or("");
  c.secret_access_key = xml_tag_text(block, "SecretAccessKey").value_or("");
  c.session_token = xml_tag_text(block, "SessionToken").value_or("");
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return Error(ErrorCode::kParse, "STS response lacks AccessKeyId, SecretAccessKey or SessionToken");
  }
  const auto exp = xml_tag_text(block, "Expiration");
  if (!exp) return Error(ErrorCode::kParse, "STS response lacks Expiration");
  auto t = parse_aws_timestamp(*exp);
  if (!t.ok()) return t.error().wrap("STS Expiration");
  c.expiration = *t;
  return c;
}

void sts_assume_role(http::HttpClient& http, const Clock& clock, const StsOptions& sts, const Credentials& source,
                     const AssumeRoleParams& params, CredentialsHandler done) {
  std::string body = "Action=AssumeRole&Version=2011-06-15" + role_query(params, clock);
  if (!params.external_id.empty()) body += "&ExternalId=" + form_value(params.external_id);
  post_sts(http, clock, sts, std::move(body), &source, "STS AssumeRole " + params.role_arn,
           [done = std::move(done), role = params.role_arn](Result<Credentials> r) {
             if (r.ok()) r->source = "assume role " + role;
             done(std::move(r));
           });
}

void sts_assume_role_with_web_identity(http::HttpClient& http, const Clock& clock, const StsOptions& sts,
                                       const std::string& web_identity_token, const AssumeRoleParams& params,
                                       CredentialsHandler done) {
  std::string body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15" + role_query(params, clock) +
                     "&WebIdentityToken=" + form_value(web_identity_token);
  post_sts(http, clock, sts, std::move(body), nullptr, "STS AssumeRoleWithWebIdentity " + params.role_arn,
           [done = std::move(done), role = params.role_arn](Result<Credentials> r) {
             if (r.ok()) r->source = "web identity " + role;
             done(std::move(r));
           });
}

AssumeRoleCredentialsProvider::AssumeRoleCredentialsProvider(http::HttpClient& http, const Clock& clock,
                                                             std::shared_ptr<CredentialsProvider> source,
                                                             AssumeRoleParams params, StsOptions sts)
    : http_(http), clock_(clock), source_(std::move(source)), params_(std::move(params)), sts_(std::move(sts)) {}

std::string AssumeRoleCredentialsProvider::name() const {
  return "assume role " + params_.role_arn + " via " + source_->name();
}

void AssumeRoleCredentialsProvider::get(CredentialsHandler done) {
  source_->get([this, done = std::move(done)](Result<Credentials> src) mutable {
    if (!src.ok()) {
      done(src.error().wrap("source credentials for assuming " + params_.role_arn));
      return;
    }
    sts_assume_role(http_, clock_, sts_, *src, params_, std::move(done));
  });
}

// ---- web identity --------------------------------------------------------------------------------

std::optional<WebIdentityOptions> web_identity_from_environment(const Environment& env, StsOptions sts) {
  auto file = env.get("AWS_WEB_IDENTITY_TOKEN_FILE");
  auto role = env.get("AWS_ROLE_ARN");
  if (!file || file->empty() || !role || role->empty()) return std::nullopt;
  WebIdentityOptions o;
  o.token_file = *file;
  o.role.role_arn = *role;
  o.role.session_name = env.get("AWS_ROLE_SESSION_NAME").value_or("");
  o.sts = std::move(sts);
  return o;
}

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(http::HttpClient& http, const Clock& clock,
                                                               WebIdentityOptions options)
    : http_(http), clock_(clock), options_(std::move(options)) {}

void WebIdentityCredentialsProvider::get(CredentialsHandler done) {
  auto token = read_small_file(options_.token_file, "web identity token file");
  if (!token.ok()) {
    done(std::move(token).error());
    return;
  }
  if (token->empty()) {
    done(Error(ErrorCode::kConfig, "web identity token file " + options_.token_file + " is empty"));
    return;
  }
  sts_assume_role_with_web_identity(http_, clock_, options_.sts, *token, options_.role, std::move(done));
}

// ---- container -----------------------------------------------------------------------------------

namespace {

// Host part of scheme://host[:port]/... (brackets kept for IPv6).
std::string url_host(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

bool allowed_plain_http_host(const std::string& host) {
  if (host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]" ||
      host == "[::1]") {
    return true;
  }
  return host.rfind("127.", 0) == 0;
}

}  // namespace

Result<std::optional<ContainerCredentialsOptions>> container_credentials_from_environment(const Environment& env) {
  ContainerCredentialsOptions o;
  if (auto rel = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel && !rel->empty()) {
    o.url = std::string(kContainerCredentialsHost) + (rel->front() == '/' ? "" : "/") + *rel;
  } else if (auto full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"); full && !full->empty()) {
    const bool https = full->rfind("https://", 0) == 0;
    const bool http = full->rfind("http://", 0) == 0;
    if (!https && !http) {
      return Error(ErrorCode::kConfig, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http(s) URL");
    }
    if (http && !allowed_plain_http_host(url_host(*full))) {
      return Error(ErrorCode::kConfig, "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is only allowed to loopback, "
                                       "169.254.170.2, 169.254.170.23 or [fd00:ec2::23], not " + url_host(*full));
    }
    o.url = *full;
  } else {
    return std::optional<ContainerCredentialsOptions>();
  }
  o.auth_token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN").value_or("");
  o.auth_token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").value_or("");
  return std::optional<ContainerCredentialsOptions>(std::move(o));
}

ContainerCredentialsProvider::ContainerCredentialsProvider(http::HttpClient& http, ContainerCredentialsOptions options)
    : http_(http), options_(std::move(options)) {}

void ContainerCredentialsProvider::get(CredentialsHandler done) { attempt(1, std::move(done)); }

void ContainerCredentialsProvider::attempt(int n, CredentialsHandler done) {
  http::Request req;
  req.url = options_.url;
  req.connect_timeout = options_.timeout;
  req.total_timeout = options_.timeout;
  req.max_response_bytes = kMaxContainerResponseBytes;
  std::string token = options_.auth_token;
  if (!options_.auth_token_file.empty()) {
    auto t = read_small_file(options_.auth_token_file, "container authorization token file");
    if (!t.ok()) {
      done(std::move(t).error());
      return;
    }
    token = std::move(*t);
  }
  if (!token.empty()) req.headers.push_back({"Authorization", token});
  http_.send(std::move(req), [this, n, done = std::move(done)](Result<http::Response> r) mutable {
    const bool transient = !r.ok() || r->status >= 500 || r->status == 429;
    if (transient && n < options_.attempts) {
      attempt(n + 1, std::move(done));
      return;
    }
    if (!r.ok()) {
      done(r.error().wrap("container credentials"));
      return;
    }
    if (r->status != 200) {
      done(Error(r->status == 401 || r->status == 403 ? ErrorCode::kPermissionDenied : ErrorCode::kRemote,
                 "container credentials: http " + std::to_string(r->status)));
      return;
    }
    auto creds = parse_imds_credentials(r->body);  // same field names (no Code)
    if (!creds.ok()) {
      done(creds.error().wrap("container credentials"));
      return;
    }
    creds->source = "container";
    done(std::move(creds));
  });
}

// ---- IMDS ----------------------------------------------------------------------------------------

void ImdsCredentialsProvider::get(CredentialsHandler done) {
  imds_.role_credentials([this, done = std::move(done)](Result<Credentials> r) {
    if (r.ok()) {
      constexpr std::string_view kPrefix = "imds role ";
      if (r->source.rfind(kPrefix, 0) == 0) role_ = r->source.substr(kPrefix.size());
    }
    done(std::move(r));
  });
}

// ---- shared files --------------------------------------------------------------------------------

ProfileCredentialsProvider::ProfileCredentialsProvider(ProfileProviderDeps deps, ProfileProviderOptions options)
    : deps_(deps), options_(std::move(options)) {
  const SharedConfigPaths defaults = shared_config_paths(deps_.env);
  if (options_.paths.credentials_file.empty()) options_.paths.credentials_file = defaults.credentials_file;
  if (options_.paths.config_file.empty()) options_.paths.config_file = defaults.config_file;
  profile_ = selected_profile(deps_.env, options_.profile);
}

bool ProfileCredentialsProvider::files_changed() const {
  return !loaded_ || shared_config_changed(*loaded_, options_.paths);
}

void ProfileCredentialsProvider::get(CredentialsHandler done) {
  if (files_changed()) {
    auto cfg = load_shared_config(options_.paths);
    if (!cfg.ok()) {
      done(cfg.error().wrap("loading AWS shared config for profile " + profile_));
      return;
    }
    loaded_ = std::move(*cfg);
  }
  resolve(profile_, 0, std::move(done));
}

void ProfileCredentialsProvider::resolve(const std::string& profile, int depth, CredentialsHandler done) {
  const IniSection* section = loaded_->profile(profile);
  if (section == nullptr) {
    done(Error(depth == 0 ? ErrorCode::kNotFound : ErrorCode::kConfig,
               "profile " + profile + " is not defined in " + options_.paths.credentials_file + " or " +
                   options_.paths.config_file));
    return;
  }
  auto value = [section](const char* key) -> std::string {
    auto it = section->find(key);
    return it == section->end() ? std::string() : it->second;
  };
  const std::string where = "profile " + profile;
  const std::string key_id = value("aws_access_key_id");
  const std::string secret = value("aws_secret_access_key");
  auto static_keys = [&]() -> Result<Credentials> {
    if (key_id.empty() || secret.empty()) {
      return Error(ErrorCode::kConfig, where + ": needs both aws_access_key_id and aws_secret_access_key");
    }
    Credentials c;
    c.access_key_id = key_id;
    c.secret_access_key = secret;
    c.session_token = value("aws_session_token");
    c.source = where;
    return c;
  };

  const std::string role_arn = value("role_arn");
  if (!role_arn.empty()) {
    if (depth >= kMaxProfileDepth) {
      done(Error(ErrorCode::kConfig, where + ": source_profile chain is longer than " +
                                         std::to_string(kMaxProfileDepth) + " (a cycle?)"));
      return;
    }
    AssumeRoleParams params;
    params.role_arn = role_arn;
    params.session_name = value("role_session_name");
    params.external_id = value("external_id");
    if (const std::string d = value("duration_seconds"); !d.empty()) {
      try {
        params.duration = std::chrono::seconds(std::stol(d));
      } catch (const std::exception&) {
        done(Error(ErrorCode::kConfig, where + ": duration_seconds is not a number"));
        return;
      }
      if (params.duration < kStsMinDuration || params.duration > kStsMaxDuration) {
        done(Error(ErrorCode::kConfig, where + ": duration_seconds must be 900..43200"));
        return;
      }
    }
    StsOptions sts = options_.sts;
    if (const std::string r = value("region"); !r.empty()) sts.region = r;
    auto assume = [this, sts, params, where, done](Result<Credentials> src) mutable {
      if (!src.ok()) {
        done(src.error().wrap(where + ": source credentials"));
        return;
      }
      sts_assume_role(deps_.http, deps_.clock, sts, *src, params, [where, done](Result<Credentials> r) {
        if (r.ok()) r->source = where + " (assumed " + r->source.substr(std::string("assume role ").size()) + ")";
        done(std::move(r));
      });
    };
    const std::string source_profile = value("source_profile");
    const std::string credential_source = value("credential_source");
    if (!source_profile.empty() && !credential_source.empty()) {
      done(Error(ErrorCode::kConfig, where + ": set only one of source_profile and credential_source"));
      return;
    }
    if (!source_profile.empty()) {
      if (source_profile == profile) {  // the profile's own keys are the source
        assume(static_keys());
        return;
      }
      resolve(source_profile, depth + 1, std::move(assume));
      return;
    }
    if (credential_source == "Environment") {
      EnvironmentCredentialsProvider env(deps_.env);
      env.get(std::move(assume));
      return;
    }
    if (credential_source == "Ec2InstanceMetadata") {
      if (deps_.imds == nullptr) {
        done(Error(ErrorCode::kUnavailable, where + ": credential_source Ec2InstanceMetadata but IMDS is disabled"));
        return;
      }
      deps_.imds->role_credentials(std::move(assume));
      return;
    }
    if (credential_source == "EcsContainer") {
      auto opts = container_credentials_from_environment(deps_.env);
      if (!opts.ok() || !opts->has_value()) {
        done(Error(ErrorCode::kConfig, where + ": credential_source EcsContainer but no container credentials "
                                               "variables are set"));
        return;
      }
      auto provider = std::make_shared<ContainerCredentialsProvider>(deps_.http, std::move(**opts));
      provider->get([provider, assume = std::move(assume)](Result<Credentials> r) mutable { assume(std::move(r)); });
      return;
    }
    if (credential_source.empty()) {
      done(Error(ErrorCode::kConfig, where + ": role_arn needs source_profile or credential_source"));
    } else {
      done(Error(ErrorCode::kConfig, where + ": credential_source must be Environment, Ec2InstanceMetadata or "
                                             "EcsContainer, got \"" + credential_source + "\""));
    }
    return;
  }
  if (!key_id.empty() || !secret.empty()) {
    done(static_keys());
    return;
  }
  if (const std::string process = value("credential_process"); !process.empty()) {
    run_credential_process(deps_.io, process, options_.process_timeout, [where, done](Result<Credentials> r) {
      if (!r.ok()) {
        done(r.error().wrap(where + ": credential_process"));
        return;
      }
      r->source = where + " (credential_process)";
      done(std::move(r));
    });
    return;
  }
  done(Error(depth == 0 ? ErrorCode::kNotFound : ErrorCode::kConfig,
             where + " has no credentials (aws_access_key_id, credential_process or role_arn)"));
}

// ---- caching -------------------------------------------------------------------------------------

CachingProvider::CachingProvider(std::shared_ptr<CredentialsProvider> inner, const Clock& clock, CachingOptions options)
    : inner_(std::move(inner)), clock_(clock), options_(std::move(options)) {}

bool CachingProvider::usable(const Credentials& c) const {
  return !c.expiration || *c.expiration - clock_.wall_now() > options_.min_validity;
}

void CachingProvider::get(CredentialsHandler done) {
  if (cached_ && options_.source_changed && options_.source_changed()) cached_.reset();
  if (cached_ && usable(*cached_)) {
    const bool fresh = !cached_->expiration || *cached_->expiration - clock_.wall_now() > options_.refresh_before;
    if (!fresh && !in_flight_ && clock_.steady_now() >= no_refresh_until_) start_fetch();
    done(*cached_);
    return;
  }
  waiters_.push_back(std::move(done));
  if (!in_flight_) start_fetch();
}

void CachingProvider::invalidate() {
  cached_.reset();
  ++generation_;
  no_refresh_until_ = {};
  inner_->invalidate();
}

void CachingProvider::start_fetch() {
  in_flight_ = true;
  ++fetches_;
  std::weak_ptr<int> alive = alive_;
  const std::uint64_t generation = generation_;
  inner_->get([this, alive, generation](Result<Credentials> r) {
    if (alive.expired()) return;
    if (r.ok() && generation != generation_) {
      // invalidate() ran while this fetch was in flight: these may be the rejected keys. Fetch again.
      in_flight_ = false;
      if (!waiters_.empty()) start_fetch();
      return;
    }
    fetch_done(std::move(r));
  });
}

void CachingProvider::fetch_done(Result<Credentials> result) {
  in_flight_ = false;
  std::vector<CredentialsHandler> waiters;
  waiters.swap(waiters_);
  if (result.ok() && !usable(*result)) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(*result->expiration - clock_.wall_now());
    result = Error(ErrorCode::kUnavailable, inner_->name() + " returned credentials that expire in " +
                                                std::to_string(left.count()) + " s (at " +
                                                format_iso8601(*result->expiration, false) + ")");
  }
  if (result.ok()) {
    if (cached_ && cached_->access_key_id != result->access_key_id) {
      spdlog::info("credentials from {} rotated: now {}", inner_->name(), describe_key(*result));
    }
    cached_ = *result;
    no_refresh_until_ = {};
  } else {
    no_refresh_until_ = clock_.steady_now() + options_.retry_after_failure;
    if (cached_ && cached_->expiration && usable(*cached_)) {
      spdlog::warn("refreshing credentials from {} failed; keeping the current ones (valid until {}): {}",
                   inner_->name(), format_iso8601(*cached_->expiration, false), result.error().to_string());
      for (auto& w : waiters) w(*cached_);
      return;
    }
    cached_.reset();
  }
  for (auto& w : waiters) w(result);
}

}  // namespace common::aws
