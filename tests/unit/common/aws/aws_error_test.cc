#include "common/aws/aws_error.h"

#include <gtest/gtest.h>

#include "common/aws/retry.h"

namespace {

using common::aws::parse_aws_error;
using common::http::Response;

Response make(long status, std::string body, std::vector<common::http::Header> headers = {}) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

// aws-wire.md §2.5 (CloudWatch query protocol).
TEST(AwsErrorTest, QueryProtocolThrottling) {
  auto e = parse_aws_error(make(400,
                                "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error>"
                                "<Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                                "<RequestId>2f85f68d-980b-11e7-a296-21716fd2d2e3</RequestId></ErrorResponse>"));
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "Throttling");
  EXPECT_EQ(e.message, "Rate exceeded");
  EXPECT_EQ(e.request_id, "2f85f68d-980b-11e7-a296-21716fd2d2e3");
  EXPECT_TRUE(e.throttling);
  EXPECT_TRUE(e.retryable);
  EXPECT_FALSE(e.clock_skew);
  EXPECT_FALSE(e.expired_credentials);
  EXPECT_EQ(e.to_string(), "http 400 Throttling: Rate exceeded (request id 2f85f68d-980b-11e7-a296-21716fd2d2e3)");
}

TEST(AwsErrorTest, QueryProtocolInvalidParameterIsFinal) {
  auto e = parse_aws_error(make(400,
                                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>"
                                "<Message>The value &lt;NaN&gt; for &quot;Value&quot; &amp; more&#33;</Message>"
                                "</Error><RequestId>r1</RequestId></ErrorResponse>"));
  EXPECT_EQ(e.code, "InvalidParameterValue");
  EXPECT_EQ(e.message, "The value <NaN> for \"Value\" & more!");
  EXPECT_FALSE(e.retryable);
  EXPECT_FALSE(e.throttling);
}

// SNS (§3.1): Throttled 429, AuthorizationError 403.
TEST(AwsErrorTest, SnsCodes) {
  auto throttled = parse_aws_error(make(429, "<ErrorResponse><Error><Code>Throttled</Code></Error></ErrorResponse>"));
  EXPECT_TRUE(throttled.throttling);
  EXPECT_TRUE(throttled.retryable);
  auto auth = parse_aws_error(
      make(403, "<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code></Error></ErrorResponse>"));
  EXPECT_FALSE(auth.retryable);
  auto internal = parse_aws_error(make(500, "<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>"));
  EXPECT_TRUE(internal.retryable);
  EXPECT_FALSE(internal.throttling);
}

// S3 REST-XML (sinks §2.4/§2.5): request id inside <Error>; skew code.
TEST(AwsErrorTest, S3RestXml) {
  auto e = parse_aws_error(make(403,
                                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code>"
                                "<Message>The difference between the request time and the current time is too "
                                "large.</Message><RequestTime>20260601T120512Z</RequestTime><ServerTime>2026-06-"
                                "01T12:25:13Z</ServerTime><MaxAllowedSkewMilliseconds>900000</"
                                "MaxAllowedSkewMilliseconds><RequestId>4442587FB7D0A2F9</RequestId><HostId>abc=</"
                                "HostId></Error>"));
  EXPECT_EQ(e.code, "RequestTimeTooSkewed");
  EXPECT_EQ(e.request_id, "4442587FB7D0A2F9");
  EXPECT_TRUE(e.clock_skew);
  EXPECT_FALSE(e.retryable);  // only after the offset is fixed (RetryPolicy: corrected)
  EXPECT_EQ(common::aws::xml_tag_text(
                "<Error><ServerTime>2026-06-01T12:25:13Z</ServerTime></Error>", "ServerTime"),
            "2026-06-01T12:25:13Z");

  auto slow = parse_aws_error(make(503, "<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>"));
  EXPECT_TRUE(slow.throttling);
  EXPECT_TRUE(slow.retryable);
  auto expired = parse_aws_error(make(400, "<Error><Code>ExpiredToken</Code></Error>"));
  EXPECT_TRUE(expired.expired_credentials);
  EXPECT_FALSE(expired.retryable);
  auto denied = parse_aws_error(make(403, "<Error><Code>AccessDenied</Code></Error>",
                                     {{"x-amz-request-id", "REQ9"}}));
  EXPECT_FALSE(denied.retryable);
  EXPECT_EQ(denied.request_id, "REQ9");
}

// Logs (awsJson1_1, sinks §1.8).
TEST(AwsErrorTest, JsonProtocol) {
  auto e = parse_aws_error(make(400,
                                R"({"__type":"ResourceNotFoundException","message":"The specified log stream does not exist."})",
                                {{"x-amzn-RequestId", "abc-123"}}));
  EXPECT_EQ(e.code, "ResourceNotFoundException");
  EXPECT_EQ(e.message, "The specified log stream does not exist.");
  EXPECT_EQ(e.request_id, "abc-123");
  EXPECT_FALSE(e.retryable);

  auto hashed = parse_aws_error(
      make(400, R"({"__type":"com.amazonaws.logs#ThrottlingException:http://internal.amazon.com/","Message":"Rate exceeded"})"));
  EXPECT_EQ(hashed.code, "ThrottlingException");
  EXPECT_EQ(hashed.message, "Rate exceeded");
  EXPECT_TRUE(hashed.throttling);

  auto unrecognized = parse_aws_error(make(400, R"({"__type":"UnrecognizedClientException","message":"bad token"})"));
  EXPECT_TRUE(unrecognized.expired_credentials);

  auto unavailable = parse_aws_error(make(500, R"({"__type":"ServiceUnavailableException"})"));
  EXPECT_TRUE(unavailable.retryable);
}

// rest-json (CloudTrail Data §4.2): code in X-Amzn-ErrorType, body {"message":...}.
TEST(AwsErrorTest, RestJsonErrorTypeHeader) {
  auto e = parse_aws_error(make(400, R"({"message":"Channel not found"})",
                                {{"X-Amzn-ErrorType", "ChannelNotFound:http://internal.amazon.com/"}}));
  EXPECT_EQ(e.code, "ChannelNotFound");
  EXPECT_EQ(e.message, "Channel not found");
  EXPECT_FALSE(e.retryable);
}

// awsQueryCompatible JSON (§2.1): x-amzn-query-error carries the query code.
TEST(AwsErrorTest, QueryErrorHeaderWins) {
  auto e = parse_aws_error(make(400, R"({"__type":"com.amazonaws.cloudwatch#ThrottlingException","message":"x"})",
                                {{"x-amzn-query-error", "Throttling;Sender"}}));
  EXPECT_EQ(e.code, "Throttling");
  EXPECT_TRUE(e.throttling);
}

TEST(AwsErrorTest, StatusOnlyAndGarbage) {
  auto gw = parse_aws_error(make(502, "<html><body>Bad Gateway</body></html>"));
  EXPECT_TRUE(gw.code.empty());
  EXPECT_TRUE(gw.retryable);
  auto empty503 = parse_aws_error(make(503, ""));
  EXPECT_TRUE(empty503.retryable);
  auto too_many = parse_aws_error(make(429, "not json"));
  EXPECT_TRUE(too_many.throttling);
  EXPECT_TRUE(too_many.retryable);
  auto not_impl = parse_aws_error(make(501, ""));
  EXPECT_FALSE(not_impl.retryable);
  auto bad_json = parse_aws_error(make(400, "{\"__type\": "));
  EXPECT_TRUE(bad_json.code.empty());
  EXPECT_FALSE(bad_json.retryable);
  auto truncated = parse_aws_error(make(400, "<ErrorResponse><Error><Code>Throttl"));
  EXPECT_TRUE(truncated.code.empty());
}

TEST(AwsErrorTest, PossibleSkewNeedsLargeDateGap) {
  const auto server = *common::aws::parse_http_date("Sun, 30 Aug 2015 12:36:05 GMT");
  Response r = make(403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>",
                    {{"Date", "Sun, 30 Aug 2015 12:36:05 GMT"}});
  EXPECT_FALSE(parse_aws_error(r).clock_skew);                                        // no local time
  EXPECT_FALSE(parse_aws_error(r, server + std::chrono::minutes(3)).clock_skew);      // small gap
  EXPECT_TRUE(parse_aws_error(r, server + std::chrono::minutes(6)).clock_skew);       // local ahead
  EXPECT_TRUE(parse_aws_error(r, server - std::chrono::minutes(10)).clock_skew);      // local behind
  EXPECT_TRUE(parse_aws_error(make(400, "<ErrorResponse><Error><Code>RequestExpired</Code></Error></ErrorResponse>"))
                  .clock_skew);
}

TEST(AwsErrorTest, XmlTagTextTolerance) {
  using common::aws::xml_tag_text;
  EXPECT_EQ(xml_tag_text("<a:Code xmlns:a=\"x\">C1</a:Code>", "Code"), "C1");
  EXPECT_EQ(xml_tag_text("<Codes>no</Codes><Code>yes</Code>", "Code"), "yes");
  EXPECT_EQ(xml_tag_text("<Code/>", "Code"), "");
  EXPECT_EQ(xml_tag_text("<Code><![CDATA[a<b]]></Code>", "Code"), "a<b");
  EXPECT_EQ(xml_tag_text("<M>&#x263A;&#65;&bogus;</M>", "M"), "\xe2\x98\xba" "A&bogus;");
  EXPECT_FALSE(xml_tag_text("<Code>open", "Code").has_value());
  EXPECT_FALSE(xml_tag_text("", "Code").has_value());
  EXPECT_FALSE(xml_tag_text("<", "Code").has_value());
}

}  // namespace
