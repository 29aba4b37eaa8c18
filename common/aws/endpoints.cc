#include "common/aws/endpoints.h"

#include <algorithm>

#include "common/aws/sigv4.h"
#include "common/text/redact.h"

namespace common::aws {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool is_lower_alpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct PartitionInfo {
  std::string_view name;
  std::string_view dns_suffix;
  std::string_view dualstack_suffix;  // empty: dual-stack not offered
};

// From botocore endpoints.json / the rule sets' partitions (aws-wire.md §1.7).
PartitionInfo partition_info(std::string_view partition) {
  if (partition == "aws-cn") return {"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn"};
  if (partition == "aws-us-gov") return {"aws-us-gov", "amazonaws.com", "api.aws"};
  if (partition == "aws-eusc") return {"aws-eusc", "amazonaws.eu", ""};  // dual-stack suffix unconfirmed
  if (partition == "aws-iso") return {"aws-iso", "c2s.ic.gov", ""};
  if (partition == "aws-iso-b") return {"aws-iso-b", "sc2s.sgov.gov", ""};
  if (partition == "aws-iso-e") return {"aws-iso-e", "cloud.adc-e.uk", ""};
  if (partition == "aws-iso-f") return {"aws-iso-f", "csp.hci.ic.gov", ""};
  return {"aws", "amazonaws.com", "api.aws"};
}

std::string_view host_prefix(Service s) {
  switch (s) {
    case Service::kCloudWatch: return "monitoring";
    case Service::kCloudWatchLogs: return "logs";
    case Service::kCloudTrailData: return "cloudtrail-data";
    case Service::kS3: return "s3";
    case Service::kSns: return "sns";
    case Service::kSts: return "sts";
    case Service::kSsm: return "ssm";  // ssm[-fips].<region>.amazonaws.com
  }
  return "";
}

common::Result<std::string> normalize_override(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return common::Error(common::ErrorCode::kInvalidArgument,
                         "endpoint override \"" + common::redact_url_userinfo(url) + "\": " + std::string(why));
  };
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad("expected scheme://host[:port]");
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = url.substr(scheme_end + 3);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return bad("no host");
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return bad("must be scheme://host[:port] without path, query or userinfo");
  }
  return std::string(scheme) + "://" + std::string(rest);
}

// Commercial + China + GovCloud regions. Names as the AWS console shows them (botocore
// endpoints.json "description", newer regions from the AWS regions page).
const std::vector<RegionInfo> kRegions = {
    {"af-south-1", "Africa (Cape Town)"},
    {"ap-east-1", "Asia Pacific (Hong Kong)"},
    {"ap-east-2", "Asia Pacific (Taipei)"},
    {"ap-northeast-1", "Asia Pacific (Tokyo)"},
    {"ap-northeast-2", "Asia Pacific (Seoul)"},
    {"ap-northeast-3", "Asia Pacific (Osaka)"},
    {"ap-south-1", "Asia Pacific (Mumbai)"},
    {"ap-south-2", "Asia Pacific (Hyderabad)"},
    {"ap-southeast-1", "Asia Pacific (Singapore)"},
    {"ap-southeast-2", "Asia Pacific (Sydney)"},
    {"ap-southeast-3", "Asia Pacific (Jakarta)"},
    {"ap-southeast-4", "Asia Pacific (Melbourne)"},
    {"ap-southeast-5", "Asia Pacific (Malaysia)"},
    {"ap-southeast-6", "Asia Pacific (New Zealand)"},
    {"ap-southeast-7", "Asia Pacific (Thailand)"},
    {"ca-central-1", "Canada (Central)"},
    {"ca-west-1", "Canada West (Calgary)"},
    {"cn-north-1", "China (Beijing)"},
    {"cn-northwest-1", "China (Ningxia)"},
    {"eu-central-1", "Europe (Frankfurt)"},
    {"eu-central-2", "Europe (Zurich)"},
    {"eu-north-1", "Europe (Stockholm)"},
    {"eu-south-1", "Europe (Milan)"},
    {"eu-south-2", "Europe (Spain)"},
    {"eu-west-1", "Europe (Ireland)"},
    {"eu-west-2", "Europe (London)"},
    {"eu-west-3", "Europe (Paris)"},
    {"il-central-1", "Israel (Tel Aviv)"},
    {"me-central-1", "Middle East (UAE)"},
    {"me-south-1", "Middle East (Bahrain)"},
    {"mx-central-1", "Mexico (Central)"},
    {"sa-east-1", "South America (Sao Paulo)"},
    {"us-east-1", "US East (N. Virginia)"},
    {"us-east-2", "US East (Ohio)"},
    {"us-gov-east-1", "AWS GovCloud (US-East)"},
    {"us-gov-west-1", "AWS GovCloud (US-West)"},
    {"us-west-1", "US West (N. California)"},
    {"us-west-2", "US West (Oregon)"},
};

}  // namespace

std::string_view signing_name(Service service) { return host_prefix(service); }

bool is_valid_region(std::string_view region) {
  // <letters>(-<letters>)+-<digits>
  std::size_t i = 0;
  int letter_groups = 0;
  while (true) {
    std::size_t start = i;
    while (i < region.size() && is_lower_alpha(region[i])) ++i;
    if (i == start) break;
    if (region.substr(start, i - start) == "fips") return false;  // pseudo-region: use the fips option
    ++letter_groups;
    if (i >= region.size() || region[i] != '-') return false;
    ++i;
  }
  if (letter_groups < 2) return false;
  std::size_t digits_start = i;
  while (i < region.size() && is_digit(region[i])) ++i;
  return i > digits_start && i == region.size() && region.size() <= 63;
}

std::string partition_of(std::string_view region) {
  if (starts_with(region, "cn-")) return "aws-cn";
  if (starts_with(region, "us-gov-")) return "aws-us-gov";
  if (starts_with(region, "us-isob-")) return "aws-iso-b";
  if (starts_with(region, "us-isof-")) return "aws-iso-f";
  if (starts_with(region, "us-iso-")) return "aws-iso";
  if (starts_with(region, "eu-isoe-")) return "aws-iso-e";
  if (starts_with(region, "eusc-")) return "aws-eusc";
  return "aws";
}

common::Result<Endpoint> resolve_endpoint(Service service, std::string_view region, const EndpointOptions& options) {
  if (!is_valid_region(region)) {
    return common::Error(common::ErrorCode::kInvalidArgument,
                         "invalid region \"" + std::string(region) +
                             "\": expected a region code like \"us-east-1\" (use the fips/dualstack options "
                             "instead of pseudo-regions)");
  }
  Endpoint ep;
  ep.signing_region = std::string(region);
  ep.signing_name = std::string(signing_name(service));
  ep.partition = partition_of(region);
  if (!options.override_url.empty()) {
    auto url = normalize_override(options.override_url);
    if (!url.ok()) return std::move(url).error();
    ep.url = std::move(*url);
    ep.overridden = true;
    return ep;
  }

  const PartitionInfo part = partition_info(ep.partition);
  const std::string prefix(host_prefix(service));
  const std::string r(region);
  if (options.dualstack && part.dualstack_suffix.empty()) {
    return common::Error(common::ErrorCode::kInvalidArgument,
                         "dual-stack endpoints are not offered in partition " + ep.partition +
                             "; set an endpoint override");
  }

  std::string host;
  if (service == Service::kS3) {
    // S3 keeps its legacy dual-stack form: s3[-fips].dualstack.<region>.<dnsSuffix>.
    host = prefix + (options.fips ? "-fips" : "") + (options.dualstack ? ".dualstack." : ".") + r + "." +
           std::string(part.dns_suffix);
  } else if (options.dualstack) {
    host = prefix + (options.fips ? "-fips." : ".") + r + "." + std::string(part.dualstack_suffix);
  } else if (options.fips) {
    // GovCloud: the plain hosts of CloudWatch, Logs, SNS and STS are already FIPS endpoints.
    const bool gov_plain = ep.partition == "aws-us-gov" &&
                           (service == Service::kCloudWatch || service == Service::kCloudWatchLogs ||
                            service == Service::kSns || service == Service::kSts);
    host = prefix + (gov_plain ? "." : "-fips.") + r + "." + std::string(part.dns_suffix);
  } else {
    host = prefix + "." + r + "." + std::string(part.dns_suffix);
  }
  ep.url = "https://" + host;
  return ep;
}

common::Result<std::string> s3_object_url(const Endpoint& s3_endpoint, std::string_view bucket, std::string_view key, bool force_path_style) {
  auto alnum = [](char c) { return is_lower_alpha(c) || is_digit(c); };
  const bool bucket_ok = bucket.size() >= 3 && bucket.size() <= 63 && alnum(bucket.front()) && alnum(bucket.back()) &&
                         std::all_of(bucket.begin(), bucket.end(),
                                     [&](char c) { return alnum(c) || c == '.' || c == '-'; });
  if (!bucket_ok) {
    return common::Error(common::ErrorCode::kInvalidArgument,
                         "invalid S3 bucket name \"" + std::string(bucket) + "\": 3-63 of a-z 0-9 . -");
  }
  while (!key.empty() && key.front() == '/') key.remove_prefix(1);
  if (key.empty()) return common::Error(common::ErrorCode::kInvalidArgument, "empty S3 object key");
  auto scheme_end = s3_endpoint.url.find("://");
  if (scheme_end == std::string::npos) {
    return common::Error(common::ErrorCode::kInvalidArgument, "S3 endpoint url has no scheme: " + s3_endpoint.url);
  }
  const std::string scheme = s3_endpoint.url.substr(0, scheme_end);
  const std::string host = s3_endpoint.url.substr(scheme_end + 3);
  const std::string encoded_key = uri_encode(key, /*encode_slash=*/false);
  const bool dotted_tls = scheme == "https" && bucket.find('.') != std::string_view::npos;
  if (force_path_style || s3_endpoint.overridden || dotted_tls) {
    return s3_endpoint.url + "/" + std::string(bucket) + "/" + encoded_key;
  }
  return scheme + "://" + std::string(bucket) + "." + host + "/" + encoded_key;
}

std::optional<std::string_view> region_display_name(std::string_view region) {
  auto it = std::lower_bound(kRegions.begin(), kRegions.end(), region,
                             [](const RegionInfo& info, std::string_view r) { return info.code < r; });
  if (it == kRegions.end() || it->code != region) return std::nullopt;
  return it->display_name;
}

const std::vector<RegionInfo>& known_regions() { return kRegions; }

}  // namespace common::aws
