// CredentialsProvider: where signed requests get their keys. Asynchronous because the real sources
// (IMDS, STS, the container endpoint) are HTTP calls on the event loop.
#pragma once

#include <functional>
#include <string>

#include "common/aws/sigv4.h"
#include "common/result/result.h"

namespace common::aws {

using CredentialsHandler = std::function<void(common::Result<Credentials>)>;

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Calls done exactly once on the loop thread (inline when cached). Never hands out credentials that
  // expire within a minute; concurrent callers during a refresh share one fetch.
  virtual void get(CredentialsHandler done) = 0;
  // The service said the credentials are expired or unknown: drop the cache so the next get() refetches.
  virtual void invalidate() {}
  // Short name for logs: "env", "profile default", "imds role my-role".
  virtual std::string name() const = 0;
};

// Fixed keys (config file, tests).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials creds, std::string name = "static")
      : creds_(std::move(creds)), name_(std::move(name)) {}
  void get(CredentialsHandler done) override { done(creds_); }
  std::string name() const override { return name_; }

 private:
  Credentials creds_;
  std::string name_;
};

}  // namespace common::aws
