// JsonWriter and append_json_string must write exactly what nlohmann::json::dump(-1, ' ', false,
// replace) writes: the hot trail renderer uses them, the rest of the code and the tests use
// nlohmann, and the two must agree byte for byte.
#include "common/json/json_writer.h"
#include "common/text/utf8.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

namespace {

std::string nlohmann_dump(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ours(std::string_view s) {
  std::string out;
  common::append_json_string(out, s);
  return out;
}

TEST(JsonString, EscapesLikeNlohmann) {
  EXPECT_EQ(ours(""), "\"\"");
  EXPECT_EQ(ours("plain /path"), "\"plain /path\"");
  EXPECT_EQ(ours("q\"b\\"), "\"q\\\"b\\\\\"");
  EXPECT_EQ(ours(std::string("\b\f\n\r\t\x01\x1d\x1f\x7f", 9)), "\"\\b\\f\\n\\r\\t\\u0001\\u001d\\u001f\x7f\"");
  EXPECT_EQ(ours(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(ours("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST(JsonString, EachMaximalIllFormedSubpartBecomesOneReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(ours("\xFF"), "\"" + fffd + "\"");
  EXPECT_EQ(ours("a\xE2\x82" "A"), "\"a" + fffd + "A\"");    // truncated 3-byte sequence, then ASCII re-read
  EXPECT_EQ(ours("\xC0\x80"), "\"" + fffd + fffd + "\"");    // overlong lead, then a lone continuation
  EXPECT_EQ(ours("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");  // surrogate: ED then two continuations
  EXPECT_EQ(ours("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // above U+10FFFF
  EXPECT_EQ(ours("end\xF0\x9F\x98"), "\"end" + fffd + "\"");  // incomplete at the end: one
  for (const std::string s : {"\xFF", "a\xE2\x82" "A", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "end\xF0\x9F\x98"}) {
    EXPECT_EQ(ours(s), nlohmann_dump(s)) << s;
  }
}

TEST(JsonString, AgreesWithNlohmannOnRandomBytes) {
  // Bytes drawn mostly from the UTF-8 boundaries (leads, continuations, the ranges E0/ED/F0/F4
  // restrict), so every branch of the decoder is hit many times.
  const unsigned char alphabet[] = {0x00, 0x08, 0x0A, 0x1F, 0x20, 0x22, 0x41, 0x5C, 0x7F, 0x80, 0x8F, 0x90,
                                    0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                    0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  std::mt19937 rng(20261203);
  std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 1);
  std::uniform_int_distribution<int> length(0, 12);
  for (int n = 0; n < 50000; ++n) {
    std::string s;
    const int len = length(rng);
    for (int k = 0; k < len; ++k) s.push_back(static_cast<char>(alphabet[pick(rng)]));
    ASSERT_EQ(ours(s), nlohmann_dump(s)) << "case " << n;
    // The repair the CloudWatch Logs encoder applies is the same replacement, and yields valid UTF-8.
    const std::string fixed = common::utf8::repaired(s);
    ASSERT_TRUE(common::utf8::is_valid(fixed)) << "case " << n;
    ASSERT_EQ(common::utf8::is_valid(s), fixed == s) << "case " << n;
    ASSERT_EQ(ours(fixed), ours(s)) << "case " << n;
  }
}

TEST(JsonWriter, WritesWhatNlohmannWritesForTheSameDocument) {
  std::string out;
  common::JsonWriter w(out);
  w.begin_object()
      .key("s").value("x\ny")
      .key("i").value(int64_t{-42})
      .key("u").value(uint32_t{4294967295u})
      .key("b").value(false)
      .key("a").begin_array().value("one").begin_object().key("k").value(true).end_object().end_array()
      .key("e").begin_object().end_object()
      .key("r").raw("[1,2]")
      .end_object();
  nlohmann::ordered_json j;
  j["s"] = "x\ny";
  j["i"] = -42;
  j["u"] = 4294967295u;
  j["b"] = false;
  j["a"] = nlohmann::ordered_json::array({"one", nlohmann::ordered_json{{"k", true}}});
  j["e"] = nlohmann::ordered_json::object();
  j["r"] = nlohmann::ordered_json::array({1, 2});
  EXPECT_EQ(out, j.dump());
}

}  // namespace
