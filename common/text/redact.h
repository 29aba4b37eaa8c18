// Keeping secrets out of what trailwatch prints. A URL may carry a user name and password
// ("http://user:secret@proxy:3128"); every URL that reaches a log line, an error message or a
// status line goes through redact_url_userinfo first, so the password is never printed.
#pragma once

#include <string>
#include <string_view>

namespace common {

// True when `url` has a userinfo part ("user@" or "user:password@" before the host).
// A URL without "scheme://" is read as starting with its authority ("user:pw@host:port/path").
bool url_has_userinfo(std::string_view url);

// `url` with its userinfo replaced by "***": "http://u:p@h:1/x" -> "http://***@h:1/x". Anything
// else is returned unchanged.
std::string redact_url_userinfo(std::string_view url);

}  // namespace common
