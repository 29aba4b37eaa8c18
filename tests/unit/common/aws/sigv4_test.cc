// SigV4: every case of the AWS test suite in shared/testdata/sigv4, plus the spec's worked examples.
#include "common/aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using common::aws::Credentials;
using common::aws::SigningDebug;
using common::aws::SigningParams;
using common::aws::SigV4Signer;
using common::http::Request;

constexpr const char* kSuiteAkid = "AKIDEXAMPLE";
constexpr const char* kSuiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kSuiteDate = "20150830T123600Z";

common::WallTime parse_amz_date(const std::string& s) {
  std::tm tm{};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(6, 2));
  tm.tm_hour = std::stoi(s.substr(9, 2));
  tm.tm_min = std::stoi(s.substr(11, 2));
  tm.tm_sec = std::stoi(s.substr(13, 2));
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::filesystem::path suite_dir() {
  const char* src = std::getenv("TRAILWATCH_SOURCE_DIR");
  std::filesystem::path root = src ? src : ".";
  return root / ".." / "shared" / "testdata" / "sigv4";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses a suite .req file. Returns the request (URL built from the Host header, which is then
// dropped so the signer must derive host from the URL) and any session token header found.
struct ParsedReq {
  Request request;
  std::string token;
};

ParsedReq parse_req(const std::string& text) {
  ParsedReq out;
  std::size_t pos = 0;
  auto next_line = [&](std::string& line) {
    if (pos > text.size()) return false;
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    line = text.substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string line;
  next_line(line);
  std::size_t sp = line.find(' ');
  std::size_t proto = line.rfind(" HTTP/");
  out.request.method = line.substr(0, sp);
  std::string target = line.substr(sp + 1, proto - sp - 1);
  std::string host;
  std::vector<common::http::Header> headers;
  while (next_line(line)) {
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {  // folded continuation of the previous header
      headers.back().value += "\n" + line;
      continue;
    }
    std::size_t colon = line.find(':');
    headers.push_back({line.substr(0, colon), line.substr(colon + 1)});
  }
  if (pos <= text.size()) out.request.body = text.substr(pos);
  for (auto& h : headers) {
    std::string lname = h.name;
    std::transform(lname.begin(), lname.end(), lname.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lname == "host") {
      host = h.value;
    } else if (lname == "x-amz-date") {
      EXPECT_EQ(h.value, kSuiteDate);  // the signer adds it from SigningParams::time
    } else if (lname == "x-amz-security-token") {
      out.token = h.value;  // comes from the credentials
    } else {
      out.request.headers.push_back(h);
    }
  }
  out.request.url = "https://" + host + target;
  return out;
}

struct VectorCase {
  std::string name;
  std::string req, creq, sts, authz;
};

std::vector<VectorCase> load_suite() {
  std::vector<VectorCase> cases;
  for (const auto& entry : std::filesystem::directory_iterator(suite_dir())) {
    if (!entry.is_directory()) continue;
    std::string name = entry.path().filename().string();
    auto file = [&](const char* ext) { return read_file(entry.path() / (name + ext)); };
    cases.push_back({name, file(".req"), file(".creq"), file(".sts"), file(".authz")});
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return cases;
}

// The long token printed in post-sts-header-before.req; post-sts-header-after uses the same one
// but its .req omits it because the token is added after signing.
std::string sts_suite_token() {
  return parse_req(read_file(suite_dir() / "post-sts-header-before" / "post-sts-header-before.req")).token;
}

SigningDebug sign_case(ParsedReq parsed, const std::string& name) {
  Credentials creds{kSuiteAkid, kSuiteSecret, parsed.token, std::nullopt, "test"};
  SigningParams params{"us-east-1", "service", parse_amz_date(kSuiteDate)};
  if (name == "get-vanilla-with-session-token") {
    creds.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  }
  if (name == "post-sts-header-after") {
    creds.session_token = sts_suite_token();
    params.session_token_after_signing = true;
  }
  SigV4Signer signer;
  SigningDebug debug;
  auto st = signer.sign(parsed.request, creds, params, &debug);
  EXPECT_TRUE(st.ok()) << name << ": " << (st.ok() ? "" : st.error().to_string());
  // The Authorization header on the request is the one reported.
  bool found = false;
  for (const auto& h : parsed.request.headers) {
    if (h.name == "Authorization") {
      EXPECT_EQ(h.value, debug.authorization) << name;
      found = true;
    }
  }
  EXPECT_TRUE(found) << name;
  return debug;
}

void remove_named(Request& r, const std::string& name) {
  r.headers.erase(std::remove_if(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.name == name; }),
                  r.headers.end());
}

TEST(SigV4SuiteTest, SuiteIsPresentAndComplete) {
  auto cases = load_suite();
  EXPECT_EQ(cases.size(), 33u) << "expected all 33 vectors in " << suite_dir();
  for (const auto& c : cases) {
    EXPECT_FALSE(c.req.empty()) << c.name;
    EXPECT_FALSE(c.creq.empty()) << c.name;
    EXPECT_FALSE(c.sts.empty()) << c.name;
    EXPECT_FALSE(c.authz.empty()) << c.name;
  }
}

// Every vector: canonical request, string to sign and Authorization, byte for byte.
//
// Known-bad vector data (see shared/testdata/sigv4/README.md), handled explicitly, not skipped:
//  - post-x-www-form-urlencoded: .creq signs content-length (as our signer does: every header
//    present is signed), but .sts/.authz were produced WITHOUT content-length. We check .creq with
//    the request as given, and .sts/.authz with Content-Length removed from the request.
//  - post-x-www-form-urlencoded-parameters: same, and its .sts/signature also correspond to
//    Content-Type "application/x-www-form-urlencoded; charset=utf8" (not utf-8); its .authz
//    text is internally inconsistent (SignedHeaders names content-length, the Signature was
//    computed without it), so for this case the Signature= part and the .sts are compared, and
//    SignedHeaders is checked against the .creq.
TEST(SigV4SuiteTest, EveryVectorMatchesByteForByte) {
  int checked = 0;
  for (const auto& c : load_suite()) {
    SCOPED_TRACE(c.name);
    ParsedReq parsed = parse_req(c.req);
    SigningDebug as_given = sign_case(parsed, c.name);
    EXPECT_EQ(as_given.canonical_request, c.creq);

    SigningDebug for_sts = as_given;
    if (c.name == "post-x-www-form-urlencoded" || c.name == "post-x-www-form-urlencoded-parameters") {
      ParsedReq fixed = parsed;
      remove_named(fixed.request, "Content-Length");
      if (c.name == "post-x-www-form-urlencoded-parameters") {
        for (auto& h : fixed.request.headers) {
          if (h.name == "Content-Type") h.value = "application/x-www-form-urlencoded; charset=utf8";
        }
      }
      for_sts = sign_case(fixed, c.name);
    }
    EXPECT_EQ(for_sts.string_to_sign, c.sts);
    if (c.name == "post-x-www-form-urlencoded-parameters") {
      auto sig = [](const std::string& a) { return a.substr(a.find("Signature=")); };
      auto names = [](const std::string& a) {
        auto b = a.find("SignedHeaders=") + 14;
        return a.substr(b, a.find(',', b) - b);
      };
      EXPECT_EQ(sig(for_sts.authorization), sig(c.authz));
      EXPECT_EQ(names(as_given.authorization), names(c.authz));
    } else {
      EXPECT_EQ(for_sts.authorization, c.authz);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 33);
}

TEST(SigV4Test, SigningKeyCheckVector) {
  auto key = common::aws::derive_signing_key(kSuiteSecret, "20120215", "us-east-1", "iam");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : key) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  EXPECT_EQ(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4Test, Sha256OfEmptyBody) {
  EXPECT_EQ(common::aws::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SigV4Test, UriEncode) {
  using common::aws::uri_encode;
  EXPECT_EQ(uri_encode("a b/c~d", true), "a%20b%2Fc~d");
  EXPECT_EQ(uri_encode("a b/c~d", false), "a%20b/c~d");
  EXPECT_EQ(uri_encode("2015-08-30T12:36:00Z", true), "2015-08-30T12%3A36%3A00Z");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4+*", true), "%E1%88%B4%2B%2A");
}

const char* kPutMetricDataBody =
    "Action=PutMetricData&Version=2010-08-01&Namespace=EC2Agent&MetricData.member.1.MetricName=CPUUtilization&"
    "MetricData.member.1.Dimensions.member.1.Name=InstanceId&MetricData.member.1.Dimensions.member.1.Value=i-"
    "0123456789abcdef0&MetricData.member.1.Timestamp=2015-08-30T12%3A36%3A00Z&MetricData.member.1.Value=12.5&"
    "MetricData.member.1.Unit=Percent";

// aws-wire.md §1.7 worked example.
TEST(SigV4Test, PutMetricDataWorkedExample) {
  Request req;
  req.method = "POST";
  req.url = "https://monitoring.us-east-1.amazonaws.com/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"User-Agent", "trailwatch/0.1"}};  // not signed
  req.body = kPutMetricDataBody;
  EXPECT_EQ(common::aws::sha256_hex(req.body), "a44bde83893a3e7c39bfd04ca8d83968335403b734248d71fb257eefc8bfd632");
  SigV4Signer signer;
  SigningDebug debug;
  ASSERT_TRUE(signer
                  .sign(req, {kSuiteAkid, kSuiteSecret, "", std::nullopt, "test"},
                        {"us-east-1", "monitoring", parse_amz_date(kSuiteDate)}, &debug)
                  .ok());
  EXPECT_EQ(debug.string_to_sign.substr(debug.string_to_sign.rfind('\n') + 1),
            "de79df22f5ababa589c81f484b20e79393ae66681ff9b978888e2d56296575f9");
  EXPECT_EQ(debug.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/monitoring/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=509aad174b2e7610ab81d2852e26b0299b5a06793bce1db08c91cee23605ad93");
  EXPECT_EQ(debug.canonical_request.find(kSuiteSecret), std::string::npos);
}

// aws-wire.md §4.4: query values with ':' and '/' encoded on the wire and in the canonical query.
TEST(SigV4Test, PutAuditEventsWorkedExample) {
  Request req;
  req.method = "POST";
  req.url =
      "https://cloudtrail-data.us-east-1.amazonaws.com/PutAuditEvents?channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-"
      "1%3A123456789012%3Achannel%2F01234567-89ab-cdef-0123-456789abcdef";
  req.headers = {{"Content-Type", "application/json"}};
  req.body =
      R"({"auditEvents":[{"id":"ip-10-0-0-1-4567","eventData":"{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"LinuxUser\",\"principalId\":\"uid=0\"},\"eventSource\":\"auditd.ec2agent\",\"eventName\":\"USER_LOGIN\",\"eventTime\":\"2015-08-30T12:35:59Z\",\"UID\":\"1440938159.123:4567\",\"recipientAccountId\":\"123456789012\"}","eventDataChecksum":"kVWh2XkCKmi3XaOeJcrA2k/iVB7jFQlpT+KAVKVRyGQ="}]})";
  SigV4Signer signer;
  SigningDebug debug;
  ASSERT_TRUE(signer
                  .sign(req, {kSuiteAkid, kSuiteSecret, "", std::nullopt, "test"},
                        {"us-east-1", "cloudtrail-data", parse_amz_date(kSuiteDate)}, &debug)
                  .ok());
  // The spec labels 48c0... "canonical-request hash"; it is the payload hash, i.e. the canonical
  // request's last line (verified: SHA-256 of the body). The Authorization below is what matters.
  EXPECT_EQ(debug.canonical_request.substr(debug.canonical_request.rfind('\n') + 1),
            "48c0215d54ff022fa314929aafb5214183ba5ee82021189e339d4c22b5d69840");
  EXPECT_EQ(debug.canonical_request.substr(0, debug.canonical_request.find("\nhost:")),
            "POST\n/PutAuditEvents\nchannelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Achannel%2F"
            "01234567-89ab-cdef-0123-456789abcdef\ncontent-type:application/json");
  EXPECT_EQ(debug.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/cloudtrail-data/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=7a39be6c086f0b9e31adbe791fafffd720afc3355984a86d900ee0ea37e274e3");
}

constexpr const char* kDocAkid = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kDocSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// aws-wire-trail-sinks.md §1.8 PutLogEvents example.
TEST(SigV4Test, PutLogEventsWorkedExample) {
  Request req;
  req.method = "POST";
  req.url = "https://logs.us-east-1.amazonaws.com/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "Logs_20140328.PutLogEvents"}};
  req.body =
      R"({"logGroupName":"/ec2/auditd-trail","logStreamName":"i-0123456789abcdef0","logEvents":[{"timestamp":1780315200123,"message":"{\"eventVersion\":\"1.11\",\"eventTime\":\"2026-06-01T12:00:00Z\",\"eventSource\":\"auditd.linux\",\"eventName\":\"execve\",\"eventID\":\"77ecc2a1-4d15-59d3-925d-3d8c7256b829\"}"}]})";
  ASSERT_EQ(req.body.size(), 306u);
  SigV4Signer signer;
  SigningDebug debug;
  ASSERT_TRUE(signer
                  .sign(req, {kDocAkid, kDocSecret, "", std::nullopt, "test"},
                        {"us-east-1", "logs", parse_amz_date("20260601T120512Z")}, &debug)
                  .ok());
  EXPECT_EQ(debug.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260601/us-east-1/logs/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=2a28bc76f0fa28ed3690221529b0a3abb83469359899c6ea6b996cd6a48bce89");
}

// AWS S3 documentation vector (PUT /test$file.text), cited by aws-wire-trail-sinks.md.
TEST(SigV4Test, S3DocumentationPutObjectVector) {
  Request req;
  req.method = "PUT";
  req.url = "https://examplebucket.s3.amazonaws.com/test$file.text";
  req.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  req.body = "Welcome to Amazon S3.";
  SigV4Signer signer;
  SigningDebug debug;
  SigningParams params{"us-east-1", "s3", parse_amz_date("20130524T000000Z")};
  params.s3_path_rules = true;
  ASSERT_TRUE(signer.sign(req, {kDocAkid, kDocSecret, "", std::nullopt, "test"}, params, &debug).ok());
  EXPECT_NE(debug.canonical_request.find("\n/test%24file.text\n"), std::string::npos) << debug.canonical_request;
  EXPECT_EQ(debug.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  // Signing the already-encoded form of the same key gives the same signature (encoded once).
  req.url = "https://examplebucket.s3.amazonaws.com/test%24file.text";
  SigningDebug again;
  ASSERT_TRUE(signer.sign(req, {kDocAkid, kDocSecret, "", std::nullopt, "test"}, params, &again).ok());
  EXPECT_EQ(again.authorization, debug.authorization);
}

// aws-wire-trail-sinks.md §2.5: S3 PutObject of a CloudTrail-format file. The body enters only
// through x-amz-content-sha256, so the precomputed hash stands in for the 442 gzip bytes.
TEST(SigV4Test, S3PutObjectSinksSpecExample) {
  Request req;
  req.method = "PUT";
  req.url =
      "https://amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com/AWSLogs/111122223333/CloudTrail/us-east-1/2026/06/01/"
      "111122223333_CloudTrail_us-east-1_20260601T1205Z_k3J9xQ2mV7pL0aZt.json.gz";
  req.headers = {{"Content-Type", "application/json"},
                 {"Content-Encoding", "gzip"},
                 {"Content-Length", "442"},
                 {"Content-MD5", "609yyQS7dE4PI+HEjIJ5qQ=="},
                 {"If-None-Match", "*"},
                 {"x-amz-acl", "bucket-owner-full-control"},
                 {"x-amz-checksum-sha256", "P9antcwJEGkaxY9R+7ZwnOlJJ+k9cUtoYW2xoi9DjD4="},
                 {"x-amz-server-side-encryption", "aws:kms"},
                 {"x-amz-server-side-encryption-aws-kms-key-id",
                  "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}};
  SigningParams params{"us-east-1", "s3", parse_amz_date("20260601T120512Z")};
  params.s3_path_rules = true;
  params.precomputed_payload_hash = "3fd6a7b5cc0910691ac58f51fbb6709ce94927e93d714b68616db1a22f438c3e";
  SigV4Signer signer;
  SigningDebug debug;
  ASSERT_TRUE(signer.sign(req, {kDocAkid, kDocSecret, "", std::nullopt, "test"}, params, &debug).ok());
  EXPECT_EQ(debug.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260601/us-east-1/s3/aws4_request, "
            "SignedHeaders=content-encoding;content-length;content-md5;content-type;host;if-none-match;x-amz-acl;"
            "x-amz-checksum-sha256;x-amz-content-sha256;x-amz-date;x-amz-server-side-encryption;"
            "x-amz-server-side-encryption-aws-kms-key-id, "
            "Signature=ea15707045d80d855135741ffff4e26f74ae6599599902c6514a5e10b37c5e2b");
  bool sent = false;
  for (const auto& h : req.headers) {
    if (h.name == "x-amz-content-sha256") sent = h.value == params.precomputed_payload_hash;
  }
  EXPECT_TRUE(sent);
  params.precomputed_payload_hash = "ABC";
  EXPECT_FALSE(signer.sign(req, {kDocAkid, kDocSecret, "", std::nullopt, "test"}, params).ok());
}

// aws-wire-trail-sinks.md §3.6 PutAuditEvents example.
TEST(SigV4Test, PutAuditEventsSinksSpecExample) {
  Request req;
  req.method = "POST";
  req.url =
      "https://cloudtrail-data.us-east-1.amazonaws.com/PutAuditEvents?channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-"
      "1%3A111122223333%3Achannel%2F01234567-89ab-cdef-0123-456789abcdef";
  req.headers = {{"Content-Type", "application/json"}};
  req.body =
      R"({"auditEvents":[{"id":"77ecc2a1-4d15-59d3-925d-3d8c7256b829","eventData":"{\"version\":\"1.0\",\"userIdentity\":{\"type\":\"LinuxUser\",\"principalId\":\"auid:1000\"},\"eventSource\":\"auditd.linux\",\"eventName\":\"execve\",\"eventTime\":\"2026-06-01T12:00:00Z\",\"UID\":\"1780315200.123:4711\",\"recipientAccountId\":\"111122223333\"}","eventDataChecksum":"VwUgpymRAxiJLPyz2/6rid443hfF2MTHAxSh3GuEm6o="}]})";
  SigV4Signer signer;
  SigningDebug debug;
  ASSERT_TRUE(signer
                  .sign(req, {kDocAkid, kDocSecret, "", std::nullopt, "test"},
                        {"us-east-1", "cloudtrail-data", parse_amz_date("20260601T120512Z")}, &debug)
                  .ok());
  EXPECT_EQ(debug.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260601/us-east-1/cloudtrail-data/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=7e5a299e42db408af869e4150d0e8f61b2fb0c20e6e0e9468651b673dcd11233");
}

SigningDebug sign_simple(Request req, SigningParams params = {"us-east-1", "service", parse_amz_date(kSuiteDate)}) {
  SigV4Signer signer;
  SigningDebug debug;
  auto st = signer.sign(req, {kSuiteAkid, kSuiteSecret, "", std::nullopt, "test"}, params, &debug);
  EXPECT_TRUE(st.ok());
  return debug;
}

std::string canonical_line(const SigningDebug& d, int index) {
  std::istringstream in(d.canonical_request);
  std::string line;
  for (int i = 0; i <= index; ++i) std::getline(in, line);
  return line;
}

TEST(SigV4Test, HostPortOnlyWhenNonDefault) {
  Request req;
  req.url = "https://example.amazonaws.com:443/";
  EXPECT_EQ(canonical_line(sign_simple(req), 3), "host:example.amazonaws.com");
  req.url = "http://example.amazonaws.com:80/";
  EXPECT_EQ(canonical_line(sign_simple(req), 3), "host:example.amazonaws.com");
  req.url = "http://127.0.0.1:8443/";
  EXPECT_EQ(canonical_line(sign_simple(req), 3), "host:127.0.0.1:8443");
  req.url = "https://[::1]:9000";
  auto d = sign_simple(req);
  EXPECT_EQ(canonical_line(d, 1), "/");
  EXPECT_EQ(canonical_line(d, 3), "host:[::1]:9000");
}

TEST(SigV4Test, S3PathIsNotNormalized) {
  Request req;
  req.method = "PUT";
  req.url = "https://b.s3.us-east-1.amazonaws.com//a/./b/../c d";
  SigningParams params{"us-east-1", "s3", parse_amz_date(kSuiteDate)};
  EXPECT_EQ(canonical_line(sign_simple(req, params), 1), "/a/c%20d");  // non-S3 rules
  params.s3_path_rules = true;
  EXPECT_EQ(canonical_line(sign_simple(req, params), 1), "//a/./b/../c%20d");
}

TEST(SigV4Test, NonS3PathIsEncodedTwice) {
  Request req;
  req.url = "https://example.amazonaws.com/a%2Fb";
  EXPECT_EQ(canonical_line(sign_simple(req), 1), "/a%252Fb");
}

TEST(SigV4Test, QueryDecodedThenEncodedAndValuelessKey) {
  Request req;
  req.url = "https://example.amazonaws.com/?b=x%2Fy&a&c=d/e&&a=1";
  EXPECT_EQ(canonical_line(sign_simple(req), 2), "a=&a=1&b=x%2Fy&c=d%2Fe");
}

TEST(SigV4Test, UnsignedHeadersAreSentButNotSigned) {
  Request req;
  req.method = "POST";
  req.url = "https://example.amazonaws.com/";
  req.headers = {{"User-Agent", "tw"}, {"Expect", ""}, {"Connection", "keep-alive"}, {"Transfer-Encoding", "x"},
                 {"Content-Encoding", "gzip"}, {"X-Amz-Target", "T.Op"}};
  auto d = sign_simple(req);
  EXPECT_NE(d.authorization.find("SignedHeaders=content-encoding;host;x-amz-date;x-amz-target,"), std::string::npos)
      << d.authorization;
}

TEST(SigV4Test, ResigningReplacesDateTokenAndAuthorization) {
  Request req;
  req.url = "https://example.amazonaws.com/";
  SigV4Signer signer;
  Credentials creds{kSuiteAkid, kSuiteSecret, "tok1", std::nullopt, "test"};
  ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "service", parse_amz_date(kSuiteDate)}).ok());
  creds.session_token.clear();  // refreshed to long-term keys: the stale token must go
  SigningDebug d;
  ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "service", parse_amz_date("20150830T123700Z")}, &d).ok());
  int dates = 0, auths = 0, tokens = 0;
  for (const auto& h : req.headers) {
    dates += h.name == "X-Amz-Date";
    auths += h.name == "Authorization";
    tokens += h.name == "X-Amz-Security-Token";
    if (h.name == "X-Amz-Date") {
      EXPECT_EQ(h.value, "20150830T123700Z");
    }
  }
  EXPECT_EQ(dates, 1);
  EXPECT_EQ(auths, 1);
  EXPECT_EQ(tokens, 0);
  EXPECT_EQ(d.authorization.find("x-amz-security-token"), std::string::npos);
}

TEST(SigV4Test, S3AddsContentSha256AndKeepsUnsignedPayload) {
  Request req;
  req.method = "PUT";
  req.url = "https://b.s3.us-east-1.amazonaws.com/k";
  req.body = "abc";
  SigningParams params{"us-east-1", "s3", parse_amz_date(kSuiteDate)};
  params.s3_path_rules = true;
  auto d = sign_simple(req, params);
  const std::string abc_hash = common::aws::sha256_hex("abc");
  EXPECT_EQ(d.canonical_request.substr(d.canonical_request.rfind('\n') + 1), abc_hash);
  EXPECT_NE(d.canonical_request.find("x-amz-content-sha256:" + abc_hash + "\n"), std::string::npos);

  req.headers = {{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}};
  d = sign_simple(req, params);
  EXPECT_EQ(d.canonical_request.substr(d.canonical_request.rfind('\n') + 1), "UNSIGNED-PAYLOAD");
}

TEST(SigV4Test, KeyCacheIsHitAndBounded) {
  SigV4Signer signer;
  Credentials creds{kSuiteAkid, kSuiteSecret, "", std::nullopt, "test"};
  Request req;
  req.url = "https://example.amazonaws.com/";
  auto t = parse_amz_date(kSuiteDate);
  ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "service", t}).ok());
  ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "service", t + std::chrono::hours(1)}).ok());
  EXPECT_EQ(signer.key_derivations(), 1u);  // same day, same scope
  ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "service", t + std::chrono::hours(24)}).ok());
  EXPECT_EQ(signer.key_derivations(), 2u);  // new day
  creds.secret_access_key = "other";
  ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "service", t}).ok());
  EXPECT_EQ(signer.key_derivations(), 3u);  // rotated secret never reuses the old key
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "svc" + std::to_string(i), t}).ok());
  }
  EXPECT_EQ(signer.key_derivations(), 23u);
  // The first scope was evicted long ago (capacity 8): signing it again derives again.
  creds.secret_access_key = kSuiteSecret;
  ASSERT_TRUE(signer.sign(req, creds, {"us-east-1", "service", t}).ok());
  EXPECT_EQ(signer.key_derivations(), 24u);
}

TEST(SigV4Test, RejectsBadInputsWithoutLeakingSecret) {
  SigV4Signer signer;
  Request req;
  req.url = "https://example.amazonaws.com/";
  auto t = parse_amz_date(kSuiteDate);
  EXPECT_FALSE(signer.sign(req, {"", kSuiteSecret, "", std::nullopt, ""}, {"us-east-1", "s", t}).ok());
  EXPECT_FALSE(signer.sign(req, {kSuiteAkid, "", "", std::nullopt, ""}, {"us-east-1", "s", t}).ok());
  EXPECT_FALSE(signer.sign(req, {kSuiteAkid, kSuiteSecret, "", std::nullopt, ""}, {"", "s", t}).ok());
  EXPECT_FALSE(signer.sign(req, {kSuiteAkid, kSuiteSecret, "", std::nullopt, ""}, {"us-east-1", "a/b", t}).ok());
  for (const char* url : {"example.amazonaws.com/", "ftp://x/", "https:///", "https://u@h/", "https://h:8x/",
                          "https://[::1/"}) {
    req.url = url;
    auto st = signer.sign(req, {kSuiteAkid, kSuiteSecret, "", std::nullopt, ""}, {"us-east-1", "s", t});
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().to_string().find(kSuiteSecret), std::string::npos);
  }
}

}  // namespace
