// SSM Parameter Store GetParameter (JSON 1.1), the one call `--config ssm:NAME` needs: the request,
// the response and its errors, as pure functions; the agent sends it through AwsClient like any other
// call (SigV4 service "ssm", endpoint ssm[-fips].<region>.amazonaws.com or aws.endpoints.ssm).
//
//   POST /  Content-Type: application/x-amz-json-1.1  X-Amz-Target: AmazonSSM.GetParameter
//   {"Name":"/trailwatch/fleet","WithDecryption":true}
//   -> {"Parameter":{"Name":..,"Type":"String|StringList|SecureString","Value":..,"Version":3,
//                    "ARN":..,"LastModifiedDate":1.7e9,"DataType":"text"}}
//   errors: {"__type":"ParameterNotFound","message":..} (AwsError parses them)
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/aws/aws_client.h"
#include "common/aws/endpoints.h"
#include "common/result/result.h"

namespace common::aws {

inline constexpr std::string_view kSsmGetParameterTarget = "AmazonSSM.GetParameter";
inline constexpr std::string_view kSsmContentType = "application/x-amz-json-1.1";
// Value sizes: 4 KB standard tier, 8 KB advanced tier.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
inline constexpr std::size_t kSsmStandardValueLimit = 4096;
inline constexpr std::size_t kSsmAdvancedValueLimit = 8192;
// Names: at most 2048 characters including the ARN prefix; a-zA-Z0-9_.-/ only.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
inline constexpr std::size_t kSsmMaxNameLength = 2048;

struct SsmParameter {
  std::string name;
  std::string type;  // String, StringList, SecureString
  std::string value;
  std::int64_t version = 0;
  std::string arn;
  std::optional<double> last_modified;  // epoch seconds
};

// "" when `name` is a parameter name or ARN GetParameter accepts, else what is wrong with it.
// Accepted: "/a/b", "a_b.c-d", "arn:aws:ssm:us-east-1:123456789012:parameter/a/b", with an optional
// ":<version>" or ":<label>" selector after a name.
std::string ssm_parameter_name_problem(std::string_view name);

// The region of a parameter ARN (arn:<partition>:ssm:<region>:<account>:parameter/...), else "".
std::string ssm_region_from_arn(std::string_view name);

// {"Name":name,"WithDecryption":true}
std::string encode_get_parameter_request(std::string_view name, bool with_decryption = true);

// The AwsCall for GetParameter on `endpoint` (already resolved for Service::kSsm).
AwsCall get_parameter_call(const Endpoint& endpoint, std::string_view name, bool with_decryption = true);

// Parses a 2xx GetParameter body; errors (kRemote) name what is missing.
common::Result<SsmParameter> parse_get_parameter_response(std::string_view body);

// A file name for the cached copy of parameter `name`: its characters outside [A-Za-z0-9._-] become
// '_' (leading '_' and '.' dropped), cut to 80 characters, plus "-" and 8 hex digits of SHA-256(name)
// so that "/a/b" and "/a_b" never share a file: "/trailwatch/fleet" -> "trailwatch_fleet-<8 hex>.yaml".
std::string ssm_cache_file_name(std::string_view name);

}  // namespace common::aws
