// Signing one realistic PutMetricData request (20 datums with value/count lists, ~44 KB form
// body) next to the bare OpenSSL work signing needs: SHA-256 of the body, SHA-256 of a buffer the
// size of the canonical request, and the HMACs (4 key-derivation + 1 signature when the key cache
// is cold, 1 when it is hot). The ratio signer/baseline is the overhead of canonicalisation,
// string building and the cache.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstring>
#include <string>

#include "common/aws/sigv4.h"

namespace {

constexpr const char* kAkid = "AKIDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::string make_body() {
  std::string b = "Action=PutMetricData&Version=2010-08-01&Namespace=EC2Agent";
  for (int m = 1; m <= 20; ++m) {
    const std::string p = "&MetricData.member." + std::to_string(m) + ".";
    b += p + "MetricName=proc." + (m % 2 ? "cpu.busy" : "net.rx_bytes") + std::to_string(m);
    b += p + "Dimensions.member.1.Name=InstanceId" + p + "Dimensions.member.1.Value=i-0123456789abcdef0";
    b += p + "Dimensions.member.2.Name=AutoScalingGroupName" + p + "Dimensions.member.2.Value=web-asg-prod";
    b += p + "Dimensions.member.3.Name=Interface" + p + "Dimensions.member.3.Value=eth" + std::to_string(m % 4);
    b += p + "Timestamp=2015-08-30T12%3A36%3A00Z";
    for (int k = 1; k <= 20; ++k) {
      b += p + "Values.member." + std::to_string(k) + "=" + std::to_string(12.5 + m * 1.37 + k * 0.113);
      b += p + "Counts.member." + std::to_string(k) + "=" + std::to_string(1 + (m * k) % 7);
    }
    b += p + "Unit=" + (m % 2 ? "Percent" : "Bytes/Second") + p + "StorageResolution=1";
  }
  return b;
}

common::http::Request make_request() {
  common::http::Request req;
  req.method = "POST";
  req.url = "https://monitoring.us-east-1.amazonaws.com/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"User-Agent", "trailwatch/0.1.0"}};
  req.body = make_body();
  return req;
}

const common::aws::Credentials kCreds{kAkid, kSecret, "", std::nullopt, "bench"};

common::aws::SigningParams params() {
  return {"us-east-1", "monitoring", std::chrono::system_clock::from_time_t(1440938160)};
}

std::size_t canonical_request_size() {
  auto req = make_request();
  common::aws::SigV4Signer signer;
  common::aws::SigningDebug debug;
  if (!signer.sign(req, kCreds, params(), &debug).ok()) std::abort();
  return debug.canonical_request.size();
}

const EVP_MD* md() {
  static EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return m;
}

void baseline(benchmark::State& state, int hmacs) {
  const std::string body = make_body();
  const std::string creq(canonical_request_size(), 'c');
  const std::string sts(150, 's');  // string to sign: 4 short lines
  for (auto _ : state) {
    std::array<unsigned char, 32> h{};
    unsigned int len = 0;
    EVP_Digest(body.data(), body.size(), h.data(), &len, md(), nullptr);
    benchmark::DoNotOptimize(h);
    EVP_Digest(creq.data(), creq.size(), h.data(), &len, md(), nullptr);
    benchmark::DoNotOptimize(h);
    std::array<unsigned char, 32> key{};
    std::memcpy(key.data(), kSecret, 32);
    for (int i = 0; i < hmacs; ++i) {
      HMAC(md(), key.data(), 32, reinterpret_cast<const unsigned char*>(sts.data()), i + 1 < hmacs ? 12 : sts.size(),
           key.data(), &len);
    }
    benchmark::DoNotOptimize(key);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
  state.counters["creq_bytes"] = static_cast<double>(creq.size());
}

void BM_BaselineCold5Hmac(benchmark::State& state) { baseline(state, 5); }
void BM_BaselineHot1Hmac(benchmark::State& state) { baseline(state, 1); }

void BM_SignCold(benchmark::State& state) {
  auto req = make_request();
  common::aws::SigV4Signer signer;
  const auto p = params();
  for (auto _ : state) {
    signer.clear_key_cache();
    auto st = signer.sign(req, kCreds, p);
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * req.body.size()));
}

void BM_SignHot(benchmark::State& state) {
  auto req = make_request();
  common::aws::SigV4Signer signer;
  const auto p = params();
  if (!signer.sign(req, kCreds, p).ok()) std::abort();
  for (auto _ : state) {
    auto st = signer.sign(req, kCreds, p);  // re-signing the same request, as a retry does
    benchmark::DoNotOptimize(st);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * req.body.size()));
  state.counters["key_derivations"] = static_cast<double>(signer.key_derivations());
}

BENCHMARK(BM_BaselineCold5Hmac);
BENCHMARK(BM_SignCold);
BENCHMARK(BM_BaselineHot1Hmac);
BENCHMARK(BM_SignHot);

}  // namespace

BENCHMARK_MAIN();
