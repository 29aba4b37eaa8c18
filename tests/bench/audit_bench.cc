// audit_bench: auditd log -> events, in memory.
//
//   BM_ParseOnly:        parse_audit_line over every line.
//   BM_ParseAndAssemble: AuditAssembler::add_line over every line, then flush_all + drain.
//   BM_ParseAssembleRender: the same, then every event mapped to a trail record (map_event) and
//                        rendered as the CloudTrail JSON record the sinks send: the whole CPU path of
//                        one audit line from the log to the bytes of a request.
//   BM_Libauparse:       the system's libauparse (dlopen "libauparse.so.0", AUSOURCE_BUFFER) reading
//                        the same bytes, visiting every record and every field's raw string: the
//                        baseline. Skipped when the library is not installed.
//
// Input: every *.log of shared/testdata/audit (newline added where a file lacks one),
// concatenated until the buffer holds at least 16 MB. Counters: bytes_per_second (MB/s) and
// events/s (events handed out per second).
// Run from the repo root (or set TRAILWATCH_SOURCE_DIR), Release build:
//   build-audit-rel/tests/bench/audit_bench --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/parsers/audit_assembler.h"
#include "agent/pipeline/trail_mapper.h"
#include "agent/pipeline/trail_record.h"
#include "tests/support/example_host.h"

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kTargetBytes = 16u << 20;

const std::string& corpus() {
  static const std::string data = [] {
    const char* root = std::getenv("TRAILWATCH_SOURCE_DIR");
    const fs::path dir = fs::path(root != nullptr ? root : fs::current_path().string()) / ".." / "shared" / "testdata" / "audit";
    std::vector<fs::path> files;
    if (fs::is_directory(dir)) {
      for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().extension() == ".log") files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    std::string once;
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      once += text.str();
      if (!once.empty() && once.back() != '\n') once.push_back('\n');
    }
    std::string out;
    if (once.empty()) return out;
    while (out.size() < kTargetBytes) out += once;
    return out;
  }();
  return data;
}

template <typename Fn>
void for_each_line(const std::string& text, Fn&& fn) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    fn(std::string_view(text).substr(pos, end - pos), pos, end + 1);
    pos = end + 1;
  }
}

void BM_ParseOnly(benchmark::State& state) {
  const std::string& text = corpus();
  if (text.empty()) {
    state.SkipWithError("audit corpus not found (run from the repo root or set TRAILWATCH_SOURCE_DIR)");
    return;
  }
  std::size_t fields = 0;
  for (auto _ : state) {
    for_each_line(text, [&](std::string_view line, std::size_t, std::size_t) {
      auto record = agent::parse_audit_line(line);
      if (record.ok()) fields += record->field_count();
      benchmark::DoNotOptimize(record);
    });
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["fields"] = static_cast<double>(fields / std::max<std::size_t>(1, state.iterations()));
}
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);

void BM_ParseAndAssemble(benchmark::State& state) {
  const std::string& text = corpus();
  if (text.empty()) {
    state.SkipWithError("audit corpus not found (run from the repo root or set TRAILWATCH_SOURCE_DIR)");
    return;
  }
  uint64_t events = 0;
  for (auto _ : state) {
    agent::AuditAssembler assembler;
    const common::SteadyTime now{};
    for_each_line(text, [&](std::string_view line, std::size_t begin, std::size_t end) {
      benchmark::DoNotOptimize(assembler.add_line(line, now, {begin, end}));
      if (assembler.ready_count() >= 256) events += assembler.drain().size();
    });
    assembler.flush_all();
    events += assembler.drain().size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseAndAssemble)->Unit(benchmark::kMillisecond);

void BM_ParseAssembleRender(benchmark::State& state) {
  const std::string& text = corpus();
  if (text.empty()) {
    state.SkipWithError("audit corpus not found (run from the repo root or set TRAILWATCH_SOURCE_DIR)");
    return;
  }
  const agent::HostContext host = tests::example_host();
  uint64_t events = 0;
  uint64_t rendered_bytes = 0;
  for (auto _ : state) {
    agent::AuditAssembler assembler;
    const common::SteadyTime now{};
    auto render = [&] {
      for (const agent::AuditEvent& event : assembler.drain()) {
        const agent::TrailRecord record = agent::map_event(event, host);
        const std::string json = agent::render_cloudtrail_event(record);
        rendered_bytes += json.size();
        ++events;
      }
    };
    for_each_line(text, [&](std::string_view line, std::size_t begin, std::size_t end) {
      benchmark::DoNotOptimize(assembler.add_line(line, now, {begin, end}));
      if (assembler.ready_count() >= 256) render();
    });
    assembler.flush_all();
    render();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["out_bytes/event"] = static_cast<double>(rendered_bytes) / static_cast<double>(std::max<uint64_t>(1, events));
}
BENCHMARK(BM_ParseAssembleRender)->Unit(benchmark::kMillisecond);

// The few libauparse entry points we call (auparse.h, audit 3.0.9).
struct Libauparse {
  using InitFn = void* (*)(int source, const void* buffer);
  using StateFn = int (*)(void* state);
  using FieldStrFn = const char* (*)(void* state);
  using DestroyFn = void (*)(void* state);
  static constexpr int kSourceBuffer = 3;  // AUSOURCE_BUFFER

  InitFn init = nullptr;
  StateFn next_event = nullptr, first_record = nullptr, next_record = nullptr, first_field = nullptr,
          next_field = nullptr;
  FieldStrFn field_str = nullptr;
  DestroyFn destroy = nullptr;

  static const Libauparse* load() {
    static const Libauparse* lib = []() -> const Libauparse* {
      void* handle = dlopen("libauparse.so.0", RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) return nullptr;
      static Libauparse l;
      auto sym = [&](const char* name) { return dlsym(handle, name); };
      l.init = reinterpret_cast<InitFn>(sym("auparse_init"));
      l.next_event = reinterpret_cast<StateFn>(sym("auparse_next_event"));
      l.first_record = reinterpret_cast<StateFn>(sym("auparse_first_record"));
      l.next_record = reinterpret_cast<StateFn>(sym("auparse_next_record"));
      l.first_field = reinterpret_cast<StateFn>(sym("auparse_first_field"));
      l.next_field = reinterpret_cast<StateFn>(sym("auparse_next_field"));
      l.field_str = reinterpret_cast<FieldStrFn>(sym("auparse_get_field_str"));
      l.destroy = reinterpret_cast<DestroyFn>(sym("auparse_destroy"));
      const bool complete = l.init && l.next_event && l.first_record && l.next_record && l.first_field &&
                            l.next_field && l.field_str && l.destroy;
      return complete ? &l : nullptr;
    }();
    return lib;
  }
};

void BM_Libauparse(benchmark::State& state) {
  const std::string& text = corpus();
  const Libauparse* lib = Libauparse::load();
  if (text.empty() || lib == nullptr) {
    state.SkipWithError("audit corpus or libauparse.so.0 not found");
    return;
  }
  uint64_t events = 0;
  for (auto _ : state) {
    void* au = lib->init(Libauparse::kSourceBuffer, text.c_str());
    if (au == nullptr) {
      state.SkipWithError("auparse_init failed");
      return;
    }
    while (lib->next_event(au) > 0) {
      ++events;
      if (lib->first_record(au) <= 0) continue;
      do {
        if (lib->first_field(au) <= 0) continue;
        do {
          benchmark::DoNotOptimize(lib->field_str(au));
        } while (lib->next_field(au) > 0);
      } while (lib->next_record(au) > 0);
    }
    lib->destroy(au);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Libauparse)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
