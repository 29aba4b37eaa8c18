#include "common/aws/imds_client.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/aws/credentials_util.h"

namespace common::aws {

struct ImdsClient::State {};

namespace {

constexpr std::string_view kTokenPath = "/latest/api/token";
constexpr std::string_view kRolePath = "/latest/meta-data/iam/security-credentials/";
constexpr std::size_t kMaxImdsResponseBytes = 256 * 1024;

std::string ms_string(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

bool no_answer(const Error& e) { return e.code() == ErrorCode::kTimeout || e.code() == ErrorCode::kNetwork; }

std::string json_string(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string first_line(std::string_view body) {
  while (!body.empty() && (body.front() == '\n' || body.front() == '\r' || body.front() == ' ')) body.remove_prefix(1);
  const std::size_t end = body.find_first_of("\r\n");
  return std::string(body.substr(0, end));
}

}  // namespace

Result<InstanceIdentity> parse_instance_identity(std::string_view json) {
  try {
    const auto doc = nlohmann::json::parse(json);
    if (!doc.is_object()) return Error(ErrorCode::kParse, "instance identity document is not a JSON object");
    InstanceIdentity id;
    id.instance_id = json_string(doc, "instanceId");
    id.region = json_string(doc, "region");
    id.availability_zone = json_string(doc, "availabilityZone");
    id.instance_type = json_string(doc, "instanceType");
    id.image_id = json_string(doc, "imageId");
    id.account_id = json_string(doc, "accountId");
    id.private_ip = json_string(doc, "privateIp");
    if (id.instance_id.empty() || id.region.empty()) {
      return Error(ErrorCode::kParse, "instance identity document lacks instanceId or region");
    }
    return id;
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::kParse, std::string("instance identity document: ") + e.what());
  }
}

Result<Credentials> parse_imds_credentials(std::string_view json) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception&) {
    // The parser's message may quote the document, which holds the secret: say only where it broke.
    return Error(ErrorCode::kParse, "role credentials document is not valid JSON");
  }
  if (!doc.is_object()) return Error(ErrorCode::kParse, "role credentials document is not a JSON object");
  const std::string code = json_string(doc, "Code");
  if (!code.empty() && code != "Success") {
    return Error(ErrorCode::kRemote, "IMDS role credentials: Code " + code + ": " + json_string(doc, "Message"));
  }
  Credentials c;
  c.access_key_id = json_string(doc, "AccessKeyId");
  c.secret_access_key = json_string(doc, "SecretAccessKey");
  c.session_token = json_string(doc, "Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Error(ErrorCode::kParse, "role credentials document lacks AccessKeyId or SecretAccessKey");
  }
  const std::string exp = json_string(doc, "Expiration");
  if (!exp.empty()) {
    auto t = parse_aws_timestamp(exp);
    if (!t.ok()) return t.error().wrap("role credentials Expiration");
    c.expiration = *t;
  }
  return c;
}

ImdsClient::ImdsClient(http::HttpClient& http, const Clock& clock, ImdsOptions options)
    : http_(http), clock_(clock), options_(std::move(options)), state_(std::make_shared<State>()) {
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') options_.endpoint.pop_back();
  if (options_.token_ttl < std::chrono::seconds(1) || options_.token_ttl > kImdsMaxTokenTtl) {
    options_.token_ttl = kImdsMaxTokenTtl;
  }
}

ImdsClient::~ImdsClient() = default;

std::optional<Error> ImdsClient::unavailable() const {
  if (!options_.enabled) return Error(ErrorCode::kUnavailable, "IMDS is disabled by configuration");
  if (unavailable_ && clock_.steady_now() < unavailable_until_) return unavailable_;
  return std::nullopt;
}

http::Request ImdsClient::make_request(std::string method, const std::string& path) const {
  http::Request req;
  req.method = std::move(method);
  req.url = options_.endpoint + path;
  req.connect_timeout = options_.attempt_timeout;
  req.total_timeout = options_.attempt_timeout;
  req.max_response_bytes = kMaxImdsResponseBytes;
  return req;
}

void ImdsClient::mark_unavailable(Error error) {
  unavailable_ = std::move(error);
  unavailable_until_ = clock_.steady_now() + options_.unavailable_cache;
  mode_ = Mode::kUnknown;
  token_.clear();
}

void ImdsClient::get(std::string path, Handler<std::string> done) {
  if (auto e = unavailable()) {
    done(std::move(*e));
    return;
  }
  with_token([this, path = std::move(path), done = std::move(done)](Result<std::optional<std::string>> tok) mutable {
    if (!tok.ok()) {
      done(std::move(tok).error());
      return;
    }
    get_attempt(std::move(path), 0, false, std::move(done));
  });
}

void ImdsClient::with_token(TokenHandler done) {
  if (mode_ == Mode::kV1) {
    done(std::optional<std::string>());
    return;
  }
  if (mode_ == Mode::kV2 && !token_.empty() && clock_.steady_now() < token_refresh_at_) {
    done(std::optional<std::string>(token_));
    return;
  }
  token_waiters_.push_back(std::move(done));
  if (token_in_flight_) return;
  token_in_flight_ = true;
  fetch_token(0);
}

void ImdsClient::fetch_token(int attempt) {
  http::Request req = make_request("PUT", std::string(kTokenPath));
  req.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(options_.token_ttl.count())});
  std::weak_ptr<State> alive = state_;
  http_.send(std::move(req), [this, alive, attempt](Result<http::Response> r) {
    if (alive.expired()) return;
    if (!r.ok()) {
      const Error& e = r.error();
      if (e.code() == ErrorCode::kTimeout) {
        probe_hop_limit(e);
        return;
      }
      if (e.code() == ErrorCode::kNetwork) {
        Error err = e.wrap(ErrorCode::kUnavailable, "no IMDS at " + options_.endpoint + " (not running on EC2?)");
        mark_unavailable(err);
        token_done(err);
        return;
      }
      token_done(e.wrap("IMDS session token request"));
      return;
    }
    const http::Response& resp = *r;
    if (resp.status == 200 && !resp.body.empty()) {
      token_ = resp.body;
      mode_ = Mode::kV2;
      std::chrono::seconds ttl = options_.token_ttl;
      if (auto echoed = resp.header("X-aws-ec2-metadata-token-ttl-seconds")) {
        try {
          const long v = std::stol(std::string(*echoed));
          if (v > 0 && v <= kImdsMaxTokenTtl.count()) ttl = std::chrono::seconds(v);
        } catch (const std::exception&) {
        }
      }
      const auto margin = ttl > 2 * kImdsTokenRefreshMargin ? kImdsTokenRefreshMargin : ttl / 2;
      token_refresh_at_ = clock_.steady_now() + ttl - margin;
      token_done(std::optional<std::string>(token_));
      return;
    }
    if (resp.status == 403 || resp.status == 404 || resp.status == 405) {
      if (options_.allow_imdsv1) {
        spdlog::info("IMDS at {} refused a session token (http {}); using IMDSv1 as allowed by configuration",
                     options_.endpoint, resp.status);
        mode_ = Mode::kV1;
        token_done(std::optional<std::string>());
        return;
      }
      Error err(ErrorCode::kUnavailable,
                "IMDS at " + options_.endpoint + " refused a session token (http " + std::to_string(resp.status) +
                    ") and IMDSv1 is not allowed (set aws.imds.allow_imdsv1 to use it)");
      mark_unavailable(err);
      token_done(err);
      return;
    }
    if ((resp.status >= 500 || resp.status == 429) && attempt < options_.retries) {
      fetch_token(attempt + 1);
      return;
    }
    token_done(Error(resp.status == 400 ? ErrorCode::kInvalidArgument : ErrorCode::kUnavailable,
                     "IMDS session token request: http " + std::to_string(resp.status)));
  });
}

void ImdsClient::probe_hop_limit(Error put_error) {
  // The PUT timed out. Either nothing is there (not EC2) or the PUT's reply is dropped on the way: its IP
  // TTL is the instance's hop limit (default 1), so inside a bridged container it never arrives while
  // GETs (TTL 64) do. A quick GET tells the two apart.
  http::Request req = make_request("GET", "/latest/meta-data/");
  req.connect_timeout = std::min(options_.attempt_timeout, kImdsHopProbeTimeout);
  req.total_timeout = req.connect_timeout;
  std::weak_ptr<State> alive = state_;
  http_.send(std::move(req), [this, alive, put_error = std::move(put_error)](Result<http::Response> r) {
    if (alive.expired()) return;
    if (!r.ok()) {
      Error err = put_error.wrap(ErrorCode::kUnavailable,
                                 "no IMDS at " + options_.endpoint + ": the session token request timed out after " +
                                     ms_string(options_.attempt_timeout) + " (not running on EC2?)");
      mark_unavailable(err);
      token_done(err);
      return;
    }
    hop_warning_ = "IMDS at " + options_.endpoint + " answers GET (http " + std::to_string(r->status) +
                   ") but the IMDSv2 token PUT timed out after " + ms_string(options_.attempt_timeout) +
                   ": the PUT response is being dropped, most likely by the IMDS hop limit (the agent runs in a "
                   "container behind one more network hop). Fix: aws ec2 modify-instance-metadata-options "
                   "--instance-id <id> --http-put-response-hop-limit 2";
    spdlog::warn("{}", hop_warning_);
    if (r->status == 200 && options_.allow_imdsv1) {
      mode_ = Mode::kV1;
      token_done(std::optional<std::string>());
      return;
    }
    Error err(ErrorCode::kUnavailable, hop_warning_);
    mark_unavailable(err);
    token_done(err);
  });
}

void ImdsClient::token_done(Result<std::optional<std::string>> result) {
  std::vector<TokenHandler> waiters;
  waiters.swap(token_waiters_);
  token_in_flight_ = false;
  for (auto& w : waiters) w(result);
}

void ImdsClient::get_attempt(std::string path, int attempt, bool retried_401, Handler<std::string> done) {
  http::Request req = make_request("GET", path);
  const bool v2 = mode_ == Mode::kV2;
  if (v2) req.headers.push_back({"X-aws-ec2-metadata-token", token_});
  std::weak_ptr<State> alive = state_;
  http_.send(std::move(req), [this, alive, path, attempt, retried_401, v2, done = std::move(done)](
                                 Result<http::Response> r) mutable {
    if (alive.expired()) return;
    auto retry = [&] {
      if (attempt >= options_.retries) return false;
      get_attempt(std::move(path), attempt + 1, retried_401, std::move(done));
      return true;
    };
    if (!r.ok()) {
      if (no_answer(r.error()) && retry()) return;
      done(r.error().wrap("IMDS GET " + path));
      return;
    }
    const long status = r->status;
    if (status == 200) {
      done(std::move(r->body));
      return;
    }
    if (status == 401 && v2 && !retried_401) {
      token_.clear();  // expired or revoked: fetch a new one and try once more
      with_token([this, path, attempt, done = std::move(done)](Result<std::optional<std::string>> tok) mutable {
        if (!tok.ok()) {
          done(std::move(tok).error());
          return;
        }
        get_attempt(std::move(path), attempt, true, std::move(done));
      });
      return;
    }
    if ((status >= 500 || status == 429) && retry()) return;
    if (status == 404) {
      done(Error(ErrorCode::kNotFound, "IMDS GET " + path + ": not found (http 404)"));
      return;
    }
    if (status == 401) {
      done(Error(ErrorCode::kPermissionDenied,
                 "IMDS GET " + path + ": http 401" + (v2 ? "" : " (the instance requires IMDSv2)")));
      return;
    }
    done(Error(status >= 500 || status == 429 ? ErrorCode::kUnavailable : ErrorCode::kRemote,
               "IMDS GET " + path + ": http " + std::to_string(status)));
  });
}

void ImdsClient::role_name(Handler<std::string> done) {
  get(std::string(kRolePath), [done = std::move(done)](Result<std::string> r) {
    if (!r.ok()) {
      if (r.error().code() == ErrorCode::kNotFound) {
        done(Error(ErrorCode::kNotFound, "the instance has no IAM instance profile (role)"));
      } else {
        done(std::move(r).error());
      }
      return;
    }
    std::string name = first_line(*r);
    if (name.empty()) {
      done(Error(ErrorCode::kNotFound, "the instance has no IAM instance profile (role)"));
      return;
    }
    done(std::move(name));
  });
}

void ImdsClient::role_credentials(Handler<Credentials> done) {
  std::weak_ptr<State> alive = state_;
  role_name([this, alive, done = std::move(done)](Result<std::string> role) mutable {
    if (alive.expired()) return;
    if (!role.ok()) {
      done(std::move(role).error());
      return;
    }
    const std::string name = *role;
    get(std::string(kRolePath) + name, [name, done = std::move(done)](Result<std::string> body) {
      if (!body.ok()) {
        done(body.error().wrap("IMDS role " + name + " credentials"));
        return;
      }
      auto creds = parse_imds_credentials(*body);
      if (!creds.ok()) {
        done(creds.error().wrap("IMDS role " + name));
        return;
      }
      creds->source = "imds role " + name;
      done(std::move(creds));
    });
  });
}

void ImdsClient::instance_identity(Handler<InstanceIdentity> done) {
  std::weak_ptr<State> alive = state_;
  get("/latest/dynamic/instance-identity/document", [this, alive, done = std::move(done)](Result<std::string> body) mutable {
    if (alive.expired()) return;
    if (!body.ok()) {
      done(std::move(body).error());
      return;
    }
    auto id = parse_instance_identity(*body);
    if (!id.ok()) {
      done(std::move(id).error());
      return;
    }
    get("/latest/meta-data/hostname", [id = std::move(*id), done = std::move(done)](Result<std::string> host) mutable {
      if (host.ok()) id.hostname = first_line(*host);  // optional: some instances have no hostname
      done(std::move(id));
    });
  });
}

namespace {

struct TagWalk {
  std::vector<std::string> keys;
  std::size_t next = 0;
  std::vector<std::pair<std::string, std::string>> tags;
  std::function<void(Result<std::vector<std::pair<std::string, std::string>>>)> done;
};

void next_tag(ImdsClient& client, const std::weak_ptr<void>& alive, const std::shared_ptr<TagWalk>& walk) {
  if (alive.expired()) return;
  if (walk->next >= walk->keys.size()) {
    walk->done(std::move(walk->tags));
    return;
  }
  const std::string key = walk->keys[walk->next++];
  client.get("/latest/meta-data/tags/instance/" + key, [&client, alive, walk, key](Result<std::string> value) {
    if (!value.ok()) {
      walk->done(value.error().wrap("instance tag " + key));
      return;
    }
    walk->tags.emplace_back(key, std::move(*value));
    next_tag(client, alive, walk);
  });
}

}  // namespace

void ImdsClient::instance_tags(Handler<std::vector<std::pair<std::string, std::string>>> done) {
  std::weak_ptr<void> alive = state_;
  get("/latest/meta-data/tags/instance", [this, alive, done = std::move(done)](Result<std::string> list) mutable {
    if (alive.expired()) return;
    if (!list.ok()) {
      if (list.error().code() == ErrorCode::kNotFound) {
        done(Error(ErrorCode::kNotFound,
                   "instance tags are not available in IMDS (enable \"Allow tags in instance metadata\")"));
      } else {
        done(std::move(list).error());
      }
      return;
    }
    auto walk = std::make_shared<TagWalk>();
    walk->done = std::move(done);
    std::string_view rest = *list;
    while (!rest.empty()) {
      const std::size_t nl = rest.find('\n');
      std::string key(rest.substr(0, nl));
      if (!key.empty() && key.back() == '\r') key.pop_back();
      if (!key.empty()) walk->keys.push_back(std::move(key));
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    }
    next_tag(*this, alive, walk);
  });
}

}  // namespace common::aws
