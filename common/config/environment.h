// Environment: read-only access to environment variables, injected so configuration code can be
// tested without touching the real process environment.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace common {

class Environment {
 public:
  virtual ~Environment() = default;
  // The variable's value, or nullopt when it is not set. An empty value is returned as "".
  virtual std::optional<std::string> get(std::string_view name) const = 0;
};

// The real process environment (getenv).
class ProcessEnvironment final : public Environment {
 public:
  std::optional<std::string> get(std::string_view name) const override;
};

// A fixed set of variables, for tests.
class MapEnvironment final : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string, std::less<>> vars) : vars_(std::move(vars)) {}
  MapEnvironment(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}

  void set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }
  std::optional<std::string> get(std::string_view name) const override;

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

}  // namespace common
