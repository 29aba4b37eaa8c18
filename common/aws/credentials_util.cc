#include "common/aws/credentials_util.h"

#include <cctype>
#include <charconv>
#include <ctime>

namespace common::aws {
namespace {

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
  }
  auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return r.ec == std::errc();
}

}  // namespace

Result<WallTime> parse_aws_timestamp(std::string_view text) {
  auto bad = [&] { return Error(ErrorCode::kParse, "not an ISO-8601 UTC timestamp: \"" + std::string(text.substr(0, 40)) + "\""); };
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text.front())) != 0 &&
      text.find_first_not_of("0123456789") == std::string_view::npos) {
    long long epoch = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), epoch);
    // WallTime holds nanoseconds since 1970: at most 9'223'372'036 s (2262-04-11) fit.
    if (r.ec != std::errc() || epoch > 9'223'372'035) return bad();
    return WallTime(std::chrono::seconds(epoch));
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 19 || !read_int(text, 0, 4, y) || text[4] != '-' || !read_int(text, 5, 2, mo) ||
      text[7] != '-' || !read_int(text, 8, 2, d) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !read_int(text, 11, 2, h) || text[13] != ':' || !read_int(text, 14, 2, mi) || text[16] != ':' ||
      !read_int(text, 17, 2, s)) {
    return bad();
  }
  std::size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    long long scale = 100'000'000;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
      frac += std::chrono::nanoseconds((text[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
  }
  const std::string_view zone = text.substr(pos);
  if (zone != "Z" && zone != "z" && zone != "+00:00" && zone != "+0000") return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  if (y < 1678 || y > 2261) return bad();  // what WallTime (nanoseconds) can hold
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t t = ::timegm(&tm);
  return WallTime(std::chrono::seconds(t)) + std::chrono::duration_cast<WallTime::duration>(frac);
}

std::string describe_key(const Credentials& creds) {
  const std::string& id = creds.access_key_id;
  return id.substr(0, 4) + std::string(id.size() > 4 ? id.size() - 4 : 0, '*');
}

std::string form_value(std::string_view value) { return uri_encode(value, true); }

}  // namespace common::aws
