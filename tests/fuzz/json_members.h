// String members of a JSON document read independently of the parser under test.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tests::fuzz {

struct JsonDoc {
  nlohmann::json doc;
  explicit JsonDoc(std::string_view text) : doc(nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false)) {}
  std::string member(const char* key) const {
    if (!doc.is_object()) return {};
    const auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  }
};

}  // namespace tests::fuzz
