// Endpoint resolution for the services trailwatch calls, from the partition rules in
// shared/spec/aws-wire.md §1.7 and aws-wire-trail-sinks.md §2 (S3). Rule sets only build names;
// whether a variant exists in a region is not checked, so every endpoint can be overridden.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace common::aws {

enum class Service { kCloudWatch, kCloudWatchLogs, kCloudTrailData, kS3, kSns, kSts, kSsm };

// SigV4 signing name: monitoring, logs, cloudtrail-data, s3, sns, sts, ssm.
std::string_view signing_name(Service service);

struct EndpointOptions {
  bool fips = false;
  bool dualstack = false;
  std::string override_url{};  // scheme://host[:port]; wins over everything when set
};

struct Endpoint {
  std::string url{};             // scheme://host[:port], no path, no trailing slash
  std::string signing_region{};  // always the region given
  std::string signing_name{};
  std::string partition{};       // "aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso*"
  bool overridden = false;       // url came from EndpointOptions::override_url
};

// Errors (kInvalidArgument): malformed region ("US-EAST-1", "us-east1", "", "us-east-1-fips"),
// malformed override URL, or a variant the partition does not offer (dual-stack in ISO/EUSC).
[[nodiscard]] common::Result<Endpoint> resolve_endpoint(Service service, std::string_view region,
                                                        const EndpointOptions& options = {});

// S3 object URL on an S3 endpoint (aws-wire-trail-sinks.md §2.1): virtual-hosted
// (https://<bucket>.s3.<region>.amazonaws.com/<key>) unless force_path_style, the endpoint is an
// override (Endpoint::overridden: custom endpoints rarely have wildcard DNS/TLS), or the bucket
// has dots and the scheme is https (the wildcard certificate does not match); then path-style
// (<endpoint>/<bucket>/<key>). The key is URI-encoded with '/' kept, matching SigV4's S3 path
// rules. Errors: bucket name not 3-63 of [a-z0-9.-] starting and ending alphanumeric; empty key.
[[nodiscard]] common::Result<std::string> s3_object_url(const Endpoint& s3_endpoint, std::string_view bucket,
                                                        std::string_view key,
                                                        bool force_path_style = false);

// True for "<letters>(-<letters>)+-<digits>", the shape of every AWS region name.
bool is_valid_region(std::string_view region);

// "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, "aws-eusc" for eusc-*, "aws-iso"/"aws-iso-b"/
// "aws-iso-e"/"aws-iso-f" for us-iso-*, us-isob-*, eu-isoe-*, us-isof-*, else "aws".
std::string partition_of(std::string_view region);

// Console display name, as CloudWatch alarm notifications print it ("US East (N. Virginia)");
// nullopt for unknown regions. Covers commercial, China and GovCloud regions.
std::optional<std::string_view> region_display_name(std::string_view region);

struct RegionInfo {
  std::string_view code;
  std::string_view display_name;
};
// The table behind region_display_name, sorted by code.
const std::vector<RegionInfo>& known_regions();

}  // namespace common::aws
