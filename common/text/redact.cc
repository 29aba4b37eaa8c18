#include "common/text/redact.h"

namespace common {
namespace {

struct Authority {
  std::size_t begin = 0;                   // first byte after "scheme://" (0 without a scheme)
  std::size_t at = std::string_view::npos;  // the '@' that ends the userinfo, if any
};

Authority authority_of(std::string_view url) {
  Authority a;
  const std::size_t scheme_end = url.find("://");
  a.begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t end = url.find_first_of("/?#", a.begin);
  const std::string_view authority = url.substr(a.begin, end == std::string_view::npos ? end : end - a.begin);
  // The last '@' ends the userinfo: a password may itself hold an unescaped '@'.
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) a.at = a.begin + at;
  return a;
}

}  // namespace

bool url_has_userinfo(std::string_view url) { return authority_of(url).at != std::string_view::npos; }

std::string redact_url_userinfo(std::string_view url) {
  const Authority a = authority_of(url);
  if (a.at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, a.begin));
  out += "***";
  out.append(url.substr(a.at));
  return out;
}

}  // namespace common
