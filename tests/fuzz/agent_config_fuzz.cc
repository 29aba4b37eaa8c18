// agent::load_config_text over arbitrary YAML with a MapEnvironment. The first byte, when it is
// not printable, picks which AWS_* variables are set. Checks: a config comes back exactly when
// there are no errors, every diagnostic has a message and a sane position, and (without static
// secrets, which the dump redacts) dump_effective_config() loads back, with the same
// environment, to an equal config with no errors (round trip).
#include <string>
#include <string_view>

#include "agent/config/agent_config.h"
#include "common/config/environment.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

void check_diagnostics(const agent::ConfigLoad& load) {
  FUZZ_CHECK(load.config.has_value() == load.errors.empty());
  for (const auto& list : {&load.errors, &load.warnings}) {
    for (const common::ConfigDiagnostic& d : *list) {
      FUZZ_CHECK(!d.message.empty());
      FUZZ_CHECK(d.line >= 0 && d.column >= 0);
      FUZZ_CHECK(!d.to_string().empty());
    }
  }
}

common::MapEnvironment environment_for(unsigned knobs) {
  common::MapEnvironment env;
  if ((knobs & 0x01) != 0) env.set("AWS_REGION", "eu-west-1");
  if ((knobs & 0x02) != 0) env.set("AWS_DEFAULT_REGION", "us-east-2");
  if ((knobs & 0x04) != 0) env.set("AWS_PROFILE", "fuzz");
  if ((knobs & 0x08) != 0) env.set("AWS_EC2_METADATA_DISABLED", (knobs & 0x40) != 0 ? "true" : "maybe");
  if ((knobs & 0x10) != 0) env.set("AWS_ENDPOINT_URL", (knobs & 0x40) != 0 ? "http://127.0.0.1:4566" : "not a url");
  if ((knobs & 0x20) != 0) env.set("AWS_USE_FIPS_ENDPOINT", "true");
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml = tests::fuzz::as_text(data, size);
  unsigned knobs = 0;
  if (!yaml.empty() && (static_cast<unsigned char>(yaml.front()) < 0x09)) {
    knobs = static_cast<unsigned char>(yaml.front()) * 0x11u;  // spread the few values over the bits
    yaml.remove_prefix(1);
  }
  const common::MapEnvironment env = environment_for(knobs);
  const agent::ConfigLoad load = agent::load_config_text(yaml, "fuzz.yaml", env);
  check_diagnostics(load);
  if (!load.config) return 0;

  const agent::AgentConfig& config = *load.config;
  if (config.aws.credentials.has_value()) return 0;
  const std::string dumped = agent::dump_effective_config(config);
  const agent::ConfigLoad again = agent::load_config_text(dumped, "fuzz.yaml", env);
  check_diagnostics(again);
  if (!again.config) {
    for (const auto& e : again.errors) std::fprintf(stderr, "reload: %s\n", e.to_string().c_str());
    std::fprintf(stderr, "dumped config:\n%s\n", dumped.c_str());
  }
  FUZZ_CHECK(again.config.has_value());
  FUZZ_CHECK(*again.config == config);
  return 0;
}
