#include "agent/sinks/trail_s3_encoder.h"

#include <openssl/evp.h>

#include <array>
#include <ctime>

#include "common/aws/sigv4.h"
#include "common/http/gzip.h"

namespace agent {
namespace {

constexpr std::string_view kFileOpen = "{\"Records\":[";
constexpr std::string_view kFileClose = "]}";

std::string_view trim_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

std::tm utc(common::WallTime t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string cloudtrail_object_key(std::string_view prefix, std::string_view account_id, std::string_view region,
                                  common::WallTime delivery_time, std::string_view unique) {
  const std::tm tm = utc(delivery_time);
  char date_path[64];
  char stamp[64];
  std::snprintf(date_path, sizeof date_path, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  std::snprintf(stamp, sizeof stamp, "%04d%02d%02dT%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min);
  std::string key;
  const std::string_view p = trim_slashes(prefix);
  if (!p.empty()) key.append(p).append("/");
  key.append("AWSLogs/").append(account_id).append("/CloudTrail/").append(region).append("/");
  key.append(date_path).append("/");
  key.append(account_id).append("_CloudTrail_").append(region).append("_").append(stamp).append("_");
  key.append(unique).append(".json.gz");
  return key;
}

std::string cloudtrail_unique_string(std::string_view seed) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const std::string hex = common::aws::sha256_hex(seed);
  std::string out;
  for (std::size_t i = 0; i < kCloudTrailUniqueStringLength; ++i) {
    const unsigned v = static_cast<unsigned>(std::stoul(hex.substr(i * 4, 4), nullptr, 16));
    out.push_back(kAlphabet[v % kAlphabet.size()]);
  }
  return out;
}

HttpHeaders s3_trail_headers(S3Encryption sse, std::string_view kms_key_id) {
  HttpHeaders h{{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}};
  switch (sse) {
    case S3Encryption::kNone: break;
    case S3Encryption::kAes256: h.emplace_back("x-amz-server-side-encryption", "AES256"); break;
    case S3Encryption::kAwsKms:
      h.emplace_back("x-amz-server-side-encryption", "aws:kms");
      if (!kms_key_id.empty()) h.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", std::string(kms_key_id));
      break;
  }
  return h;
}

std::string s3_content_md5(std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(body.data(), body.size(), digest.data(), &len, EVP_md5(), nullptr) != 1 || len != 16) {
    // Only when OpenSSL runs without MD5 (FIPS mode): send no Content-MD5 rather than a wrong one.
    return {};
  }
  std::array<unsigned char, 4 * ((16 + 2) / 3) + 1> text{};  // EVP_EncodeBlock NUL-terminates
  const int n = EVP_EncodeBlock(text.data(), digest.data(), static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(n));
}

std::string encode_cloudtrail_file(const std::vector<std::string>& record_json) {
  std::string text(kFileOpen);
  for (std::size_t i = 0; i < record_json.size(); ++i) {
    if (i > 0) text.push_back(',');
    text += record_json[i];
  }
  text.append(kFileClose);
  return common::http::gzip_compress(text);
}

std::string_view s3_account_id(const TrailSink& sink, const HostContext& host) {
  return sink.account_id.empty() ? std::string_view(host.account_id) : std::string_view(sink.account_id);
}

S3TrailOptions s3_trail_options(const TrailSink& sink, const HostContext& host) {
  S3TrailOptions o;
  o.prefix = sink.prefix;
  o.account_id = std::string(s3_account_id(sink, host));
  o.region = host.region;
  o.interval = sink.interval;
  o.max_object_size = sink.max_object_size;
  o.sse = sink.sse;
  o.kms_key_id = sink.kms_key_id;
  o.unique_seed = host.boot_id.empty() ? host.instance_id : host.boot_id;
  return o;
}

S3TrailFileBuilder::S3TrailFileBuilder(S3TrailOptions options) : options_(std::move(options)) {
  if (options_.max_object_size == 0 || options_.max_object_size > kS3MaxPutObjectBytes)
    options_.max_object_size = kS3MaxPutObjectBytes;
}

std::optional<S3TrailObject> S3TrailFileBuilder::add(const TrailRecord& record, common::WallTime now) {
  std::string json = render_cloudtrail_event(record, SIZE_MAX, options_.account_id);  // the key's account off EC2
  std::optional<S3TrailObject> done;
  if (!records_.empty() && bytes_ + 1 + json.size() > options_.max_object_size) done = finish(now);
  if (records_.empty()) {
    opened_ = now;
    bytes_ = kFileOpen.size() + kFileClose.size();
  } else {
    bytes_ += 1;  // ','
  }
  bytes_ += json.size();
  records_.push_back(std::move(json));
  event_ids_.push_back(record.event_id);
  return done;
}

std::optional<S3TrailObject> S3TrailFileBuilder::roll_due(common::WallTime now) {
  if (records_.empty() || now < opened_ + options_.interval) return std::nullopt;
  return finish(now);
}

std::optional<S3TrailObject> S3TrailFileBuilder::flush(common::WallTime now) {
  if (records_.empty()) return std::nullopt;
  return finish(now);
}

std::optional<common::WallTime> S3TrailFileBuilder::deadline() const noexcept {
  if (records_.empty()) return std::nullopt;
  return opened_ + options_.interval;
}

S3TrailObject S3TrailFileBuilder::finish(common::WallTime now) {
  S3TrailObject o;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::string seed = options_.unique_seed + "|" + std::to_string(ms) + "|" + std::to_string(sequence_++) + "|" +
                           event_ids_.front() + "|" + std::to_string(records_.size());
  o.key = cloudtrail_object_key(options_.prefix, options_.account_id, options_.region, now,
                                cloudtrail_unique_string(seed));
  o.body = encode_cloudtrail_file(records_);
  o.headers = s3_trail_headers(options_.sse, options_.kms_key_id);
  if (std::string md5 = s3_content_md5(o.body); !md5.empty()) o.headers.emplace_back("Content-MD5", std::move(md5));
  o.record_count = records_.size();
  o.uncompressed_bytes = bytes_;
  o.event_ids = std::move(event_ids_);
  records_.clear();
  event_ids_.clear();
  bytes_ = 0;
  return o;
}

}  // namespace agent
