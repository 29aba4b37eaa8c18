// UTF-8 as RFC 3629 section 4 defines it (no overlong forms, no surrogates, nothing above
// U+10FFFF): one decoder for the JSON writer's escaping, the CloudWatch Logs message repair and
// every "cut at N bytes" of a text field.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace common::utf8 {

// Length (1-4) of the well-formed sequence starting at s[i] (s[i] >= 0x80 or not: ASCII is 1), or
// 0 when it is ill-formed, with *bad set to the length of its maximal ill-formed subpart (>= 1):
// the lead byte and the continuation bytes still acceptable before the first that is not.
std::size_t sequence_length(std::string_view s, std::size_t i, std::size_t* bad) noexcept;

bool is_valid(std::string_view s) noexcept;

// s with each maximal ill-formed subpart replaced by U+FFFD (what nlohmann's dump(replace) and
// common::JsonWriter write for it).
std::string repaired(std::string_view s);

// The longest prefix of s of at most max bytes that does not end inside a UTF-8 sequence.
std::string prefix(std::string_view s, std::size_t max);

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace common::utf8
