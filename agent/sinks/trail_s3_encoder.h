// S3 trail files in CloudTrail's own layout, so the standard Athena CloudTrail table reads them:
//   [<prefix>/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
//       <account>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<16 alphanumerics>.json.gz
// body = one gzip member of {"Records":[<CloudTrail record>,...]}. Date/time = delivery time (UTC).
// Pure; the sink PUTs S3TrailObject::body at key with S3TrailObject::headers.
// Wire format: shared spec aws-wire-trail-sinks.md sections 2 and 3.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/config/agent_config.h"
#include "agent/pipeline/trail_record.h"
#include "common/clock/clock.h"

namespace agent {

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (single PUT <= 5 GB)
inline constexpr uint64_t kS3MaxPutObjectBytes = 5ull * 1024 * 1024 * 1024;
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html
inline constexpr std::size_t kCloudTrailUniqueStringLength = 16;
inline constexpr std::chrono::minutes kCloudTrailDeliveryInterval{5};  // CloudTrail's own cadence

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The object key. `prefix` may be empty; its leading/trailing '/' are ignored.
std::string cloudtrail_object_key(std::string_view prefix, std::string_view account_id, std::string_view region,
                                  common::WallTime delivery_time, std::string_view unique);

// 16 characters of [A-Za-z0-9] derived from SHA-256 of `seed` (deterministic: a rebuilt object
// keeps its key, so a retried PUT with If-None-Match: * cannot duplicate it).
std::string cloudtrail_unique_string(std::string_view seed);

// Content-Type, Content-Encoding and the SSE headers: none | AES256 |
// aws:kms (+ x-amz-server-side-encryption-aws-kms-key-id when a key id is given).
HttpHeaders s3_trail_headers(S3Encryption sse, std::string_view kms_key_id);

// Content-MD5 value: base64 of the body's raw MD5 (sinks spec 2.3). S3 checks it (400 BadDigest on
// a mismatch), and buckets with Object Lock retention refuse a PutObject without it or an
// x-amz-checksum-* header.
std::string s3_content_md5(std::string_view body);

// gzip of {"Records":[r0,r1,...]} where each element is already-rendered record JSON.
std::string encode_cloudtrail_file(const std::vector<std::string>& record_json);

struct S3TrailObject {
  std::string key;
  std::string body;  // gzip
  HttpHeaders headers;  // s3_trail_headers() + Content-MD5 of body
  std::size_t record_count = 0;
  std::size_t uncompressed_bytes = 0;
  std::vector<std::string> event_ids;  // of the records inside, in order
};

struct S3TrailOptions {
  std::string prefix;
  std::string account_id;
  std::string region;
  std::chrono::milliseconds interval{kCloudTrailDeliveryInterval};
  uint64_t max_object_size = 64ull * 1024 * 1024;  // of the uncompressed JSON
  S3Encryption sse = S3Encryption::kNone;
  std::string kms_key_id;
  std::string unique_seed;  // host identity (instance id / boot id), mixed into the unique string
};

// From a trail sink's config + the host.
S3TrailOptions s3_trail_options(const TrailSink& sink, const HostContext& host);
// The account of an s3 sink's keys: its account_id, else the IMDS identity's; "" when neither is known.
std::string_view s3_account_id(const TrailSink& sink, const HostContext& host);

// Collects records into files: a file is finished when the next record would make it exceed
// max_object_size (uncompressed), or when `interval` has passed since its first record
// (roll_due). A record bigger than max_object_size gets a file of its own; nothing is dropped.
class S3TrailFileBuilder {
 public:
  explicit S3TrailFileBuilder(S3TrailOptions options);

  // Adds a record; returns the file it completed, if the record did not fit in the open one.
  std::optional<S3TrailObject> add(const TrailRecord& record, common::WallTime now);
  // Finishes the open file when its interval has passed.
  std::optional<S3TrailObject> roll_due(common::WallTime now);
  // Finishes the open file if it has records (shutdown).
  std::optional<S3TrailObject> flush(common::WallTime now);

  // When the open file is due (first record + interval); nullopt when empty.
  std::optional<common::WallTime> deadline() const noexcept;
  std::size_t pending_records() const noexcept { return records_.size(); }
  std::size_t pending_bytes() const noexcept { return bytes_; }

 private:
  S3TrailObject finish(common::WallTime now);

  S3TrailOptions options_;
  std::vector<std::string> records_;
  std::vector<std::string> event_ids_;
  std::size_t bytes_ = 0;  // uncompressed size of {"Records":[...]} so far
  common::WallTime opened_{};
  uint64_t sequence_ = 0;
};

}  // namespace agent
