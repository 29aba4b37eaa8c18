// AWS Signature Version 4 (header-based, AWS4-HMAC-SHA256) for common::http::Request.
// Spec: shared/spec/aws-wire.md §1 and aws-wire-trail-sinks.md §2.2 (S3);
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//
// Secrets never leave this file: SigningDebug holds only public strings, errors never quote keys,
// and the derived-key cache is keyed by a SHA-256 of the secret, not the secret itself.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock/clock.h"
#include "common/http/http_types.h"
#include "common/result/result.h"

namespace common::aws {

struct Credentials {
  std::string access_key_id{};
  std::string secret_access_key{};
  std::string session_token{};                   // empty for long-term keys
  std::optional<common::WallTime> expiration{};  // nullopt = never expires
  std::string source{};                          // which provider produced them ("env", "imds", ...)
};

struct SigningParams {
  std::string region{};   // signing region, e.g. "us-east-1"
  std::string service{};  // signing name, e.g. "monitoring"
  common::WallTime time{};  // the (skew-corrected) time to sign at; X-Amz-Date is derived from it
  // S3: sign the path as sent (encode once, no dot-segment removal or "//" collapse) and add
  // x-amz-content-sha256.
  bool s3_path_rules = false;
  // Add x-amz-content-sha256 for a non-S3 service too.
  bool sign_body_hash_header = false;
  // Add X-Amz-Security-Token after signing so it is not part of SignedHeaders (suite case
  // post-sts-header-after; a few services want this). Default: the token is signed.
  bool session_token_after_signing = false;
  // Hex SHA-256 of the body when the caller already has it (the AwsClient hashes a call's body once
  // and passes it for every attempt); empty = hash req.body here. (The S3 trail sink sends
  // Content-MD5 for the body's integrity, no x-amz-checksum-sha256.)
  std::string precomputed_payload_hash{};
};

// The intermediate strings, for tests and debugging. Never holds the secret key or a derived key;
// the canonical request does hold the session token, exactly as the request headers do, so treat
// it like the request itself (do not log it).
struct SigningDebug {
  std::string canonical_request;
  std::string string_to_sign;
  std::string authorization;
};

class SigV4Signer {
 public:
  // Max number of cached derived keys (secret/date/region/service); oldest is evicted.
  static constexpr std::size_t kKeyCacheCapacity = 8;

  // Removes any previous Authorization / X-Amz-Date / X-Amz-Security-Token, then adds
  // X-Amz-Date, X-Amz-Security-Token (when creds carry one), x-amz-content-sha256 (S3 or when
  // asked) and Authorization to req.headers. Host is signed from an explicit Host header if the
  // request has one, else from the URL (":port" only when non-default). Every header present is
  // signed except user-agent, expect, transfer-encoding, connection. Thread-safe.
  [[nodiscard]] common::Status sign(common::http::Request& req, const Credentials& creds,
                                    const SigningParams& p, SigningDebug* debug = nullptr);

  // Number of derived-key computations performed (cache misses); for tests and benchmarks.
  std::uint64_t key_derivations() const;
  void clear_key_cache();

 private:
  using Key = std::array<unsigned char, 32>;
  struct CacheEntry {
    Key secret_hash;
    std::string scope;  // yyyymmdd/region/service
    Key signing_key;
    std::uint64_t last_used = 0;
  };
  Key signing_key(std::string_view secret, std::string_view date, std::string_view region,
                  std::string_view service);

  mutable std::mutex mu_;
  std::vector<CacheEntry> cache_;
  std::uint64_t tick_ = 0;
  std::uint64_t derivations_ = 0;
};

// Lowercase hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view data);

// SigV4 UriEncode: every byte except A-Z a-z 0-9 - _ . ~ (and '/' when !encode_slash) becomes
// %XX with uppercase hex; space is %20.
std::string uri_encode(std::string_view in, bool encode_slash);

// The SigV4 key derivation (§1.1 step 3), exposed for the check vector and the benchmark.
std::array<unsigned char, 32> derive_signing_key(std::string_view secret, std::string_view date,
                                                 std::string_view region, std::string_view service);

// HMAC-SHA256, raw 32 bytes.
std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data);

// "YYYYMMDDTHHMMSSZ" (UTC) for a wall time.
std::string format_amz_date(common::WallTime t);

}  // namespace common::aws
