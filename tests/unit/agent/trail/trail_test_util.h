// Shared helpers for the trail suites: real events from the shared audit corpus, a fixed host.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/parsers/audit_assembler.h"
#include "agent/pipeline/trail_mapper.h"
#include "tests/support/example_host.h"

namespace tests {

inline std::string corpus_path(const std::string& relative) {
  const char* dir = std::getenv("TRAILWATCH_SOURCE_DIR");
  const std::string root = (dir != nullptr && *dir != '\0') ? dir : ".";
  return root + "/../shared/testdata/audit/" + relative;
}

inline std::vector<agent::AuditEvent> events_from_text(const std::string& text) {
  agent::AuditAssembler assembler;
  std::istringstream in(text);
  std::string line;
  const common::SteadyTime now{std::chrono::seconds(1)};
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    (void)assembler.add_line(line, now);
  }
  assembler.flush_all();
  return assembler.drain();
}

inline std::vector<agent::AuditEvent> corpus_events(const std::string& relative) {
  std::ifstream in(corpus_path(relative), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing corpus file " << corpus_path(relative);
  std::ostringstream text;
  text << in.rdbuf();
  return events_from_text(text.str());
}

// The event with this serial (fails the test when absent).
inline agent::AuditEvent corpus_event(const std::string& relative, uint64_t serial) {
  for (auto& e : corpus_events(relative))
    if (e.serial() == serial) return e;
  ADD_FAILURE() << "no event " << serial << " in " << relative;
  return {};
}

inline agent::HostContext test_host() { return example_host(); }

inline agent::TrailRecord map_corpus(const std::string& relative, uint64_t serial,
                                     const agent::TrailMapperOptions& options = {}) {
  return agent::map_event(corpus_event(relative, serial), test_host(), options);
}

}  // namespace tests
