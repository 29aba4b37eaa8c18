// common::aws::parse_aws_error with the input as the response body. The first byte picks the HTTP
// status and which headers are present (x-amzn-errortype, x-amzn-query-error, request ids, Date),
// and whether a local time is passed (to exercise the clock-skew path). Also runs xml_tag_text for
// a few tags. Checks the classification rules: the status is carried over, 429 and throttling
// codes are throttling, throttling is retryable, a code from the x-amzn-query-error header wins,
// codes and request ids have no surrounding blanks, and to_string() starts with "http <status>".
#include <chrono>
#include <string>

#include "common/aws/aws_error.h"
#include "common/http/http_types.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr long kStatuses[] = {400, 403, 404, 429, 500, 503};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = tests::fuzz::as_text(data, size);
  unsigned knobs = 0;
  if (!body.empty()) {
    knobs = static_cast<unsigned char>(body.front());
    body.remove_prefix(1);
  }
  common::http::Response response;
  response.status = kStatuses[knobs % 6];
  response.body = std::string(body);
  if ((knobs & 0x08) != 0) response.headers.push_back({"X-Amzn-ErrorType", "ThrottlingException:http://internal/"});
  if ((knobs & 0x10) != 0) response.headers.push_back({"x-amzn-query-error", "AWS.SimpleQueueService.Throttled;Sender"});
  if ((knobs & 0x20) != 0) response.headers.push_back({"x-amzn-RequestId", " 7f3a-req "});
  if ((knobs & 0x40) != 0) response.headers.push_back({"Date", "Wed, 21 Oct 2015 07:28:00 GMT"});
  std::optional<common::WallTime> local_now;
  if ((knobs & 0x80) != 0) local_now = common::WallTime(std::chrono::seconds(1445412480 + 3600));

  const common::aws::AwsError e = common::aws::parse_aws_error(response, local_now);
  FUZZ_CHECK(e.http_status == response.status);
  if (e.http_status == 429 || common::aws::is_throttling_code(e.code)) FUZZ_CHECK(e.throttling);
  if (e.throttling) FUZZ_CHECK(e.retryable);
  if (common::aws::is_clock_skew_code(e.code)) FUZZ_CHECK(e.clock_skew);
  if (common::aws::is_expired_credentials_code(e.code)) FUZZ_CHECK(e.expired_credentials);
  if ((knobs & 0x10) != 0) FUZZ_CHECK(e.code == "AWS.SimpleQueueService.Throttled");
  if (!e.code.empty()) FUZZ_CHECK(!is_blank(e.code.front()) && !is_blank(e.code.back()));
  if (!e.request_id.empty()) FUZZ_CHECK(!is_blank(e.request_id.front()) && !is_blank(e.request_id.back()));
  const std::string printed = e.to_string();
  FUZZ_CHECK(printed.rfind("http " + std::to_string(e.http_status), 0) == 0);

  for (std::string_view tag : {"Code", "Message", "RequestId", "a"}) {
    if (auto text = common::aws::xml_tag_text(body, tag)) FUZZ_CHECK(text->size() <= body.size());
  }
  return 0;
}
