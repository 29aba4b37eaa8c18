// Locates the repository's test data from TRAILWATCH_SOURCE_DIR (set by CTest); falls back to the
// working directory, which CTest sets to the repository root.
#pragma once

#include <cstdlib>
#include <string>

namespace tests {

inline std::string source_dir() {
  const char* dir = std::getenv("TRAILWATCH_SOURCE_DIR");
  return (dir != nullptr && *dir != '\0') ? std::string(dir) : std::string(".");
}

inline std::string config_data(const std::string& relative) {
  return source_dir() + "/tests/data/config/" + relative;
}

}  // namespace tests
