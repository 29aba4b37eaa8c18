// Small helpers shared by the /proc parsers: line and token splitting, strict integers.
// Internal to agent/parsers; views point into the caller's text, nothing allocates.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

namespace agent::proc_text {

inline bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Pops the next line (without its '\n') off `rest`. Returns false when `rest` is empty.
inline bool next_line(std::string_view& rest, std::string_view& line) {
  if (rest.empty()) return false;
  const std::size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) {
    line = rest;
    rest = {};
  } else {
    line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
  }
  return true;
}

inline std::string_view trim_left(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_blank(s[i])) ++i;
  return s.substr(i);
}

inline std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Pops the next blank-separated token off `rest`; empty when none is left.
inline std::string_view next_token(std::string_view& rest) {
  rest = trim_left(rest);
  std::size_t end = 0;
  while (end < rest.size() && !is_blank(rest[end])) ++end;
  const std::string_view token = rest.substr(0, end);
  rest.remove_prefix(end);
  return token;
}

// The whole token must be a base-10 unsigned integer that fits in 64 bits.
inline bool parse_u64(std::string_view token, uint64_t& out) {
  if (token.empty()) return false;
  const char* first = token.data();
  const char* last = first + token.size();
  const auto [ptr, ec] = std::from_chars(first, last, out, 10);
  return ec == std::errc() && ptr == last;
}

}  // namespace agent::proc_text
