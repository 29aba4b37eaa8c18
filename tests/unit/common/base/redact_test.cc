#include "common/text/redact.h"

#include <gtest/gtest.h>

namespace {

struct RedactCase {
  const char* url;
  const char* redacted;
  bool has_userinfo;
};

const RedactCase kRedactCases[] = {
    {"http://USER:PASSWORD@host", "http://***@host", true},
    {"https://user:p%40ss@host:8443/path?q=a@b", "https://***@host:8443/path?q=a@b", true},
    {"http://user@host", "http://***@host", true},
    {"http://:secret@host", "http://***@host", true},
    {"http://us:pa@ss@host/x", "http://***@host/x", true},  // an unescaped '@' in the password
    {"user:secret@proxy:3128", "***@proxy:3128", true},      // curl's proxy form without a scheme
    {"http://host/a@b", "http://host/a@b", false},          // '@' in the path is not userinfo
    {"http://host?x=a@b", "http://host?x=a@b", false},
    {"http://host#a@b", "http://host#a@b", false},
    {"https://monitoring.us-east-1.amazonaws.com", "https://monitoring.us-east-1.amazonaws.com", false},
    {"http://127.0.0.1:4566", "http://127.0.0.1:4566", false},
    {"", "", false},
};

TEST(RedactUrlUserinfo, ReplacesUserAndPasswordAndNothingElse) {
  for (const RedactCase& c : kRedactCases) {
    EXPECT_EQ(common::redact_url_userinfo(c.url), c.redacted) << c.url;
    EXPECT_EQ(common::url_has_userinfo(c.url), c.has_userinfo) << c.url;
  }
}

}  // namespace
