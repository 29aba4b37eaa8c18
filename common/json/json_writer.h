// JsonWriter: compact JSON appended straight to a std::string, for the hot rendering paths
// (one trail record per audit event). Building an nlohmann tree and dumping it costs ~6x more:
// a heap node per value, then a second walk to serialise it.
//
// The bytes are exactly what nlohmann::json::dump(-1, ' ', false, error_handler_t::replace) writes
// for the same values in the same order: `"`, `\` and control characters escaped as nlohmann does
// (\b \f \n \r \t, else \u00xx lowercase), everything else as is (no \u escapes for non-ASCII), and
// each maximal ill-formed UTF-8 subsequence replaced by one U+FFFD. Unit tests and the
// json_writer fuzz target hold it to that.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace common {

// Appends s as a JSON string literal (quotes included).
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  // The member name of the next value.
  JsonWriter& key(std::string_view name) {
    separate();
    append_json_string(out_, name);
    out_.push_back(':');
    need_comma_ = false;
    return *this;
  }

  JsonWriter& value(std::string_view s) {
    separate();
    append_json_string(out_, s);
    need_comma_ = true;
    return *this;
  }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b) {
    separate();
    out_.append(b ? "true" : "false");
    need_comma_ = true;
    return *this;
  }
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
  JsonWriter& value(T n) {
    separate();
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, res.ptr);
    need_comma_ = true;
    return *this;
  }
  // A value that is already JSON text (a nested document rendered elsewhere).
  JsonWriter& raw(std::string_view json) {
    separate();
    out_.append(json);
    need_comma_ = true;
    return *this;
  }

  std::string& out() { return out_; }

 private:
  void separate() {
    if (need_comma_) out_.push_back(',');
  }
  JsonWriter& open(char c) {
    separate();
    out_.push_back(c);
    need_comma_ = false;
    return *this;
  }
  JsonWriter& close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    return *this;
  }

  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace common
