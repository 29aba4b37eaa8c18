#include "common/config/yaml_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

namespace {

using common::ConfigDiagnostic;
using common::ConfigDocument;
using std::chrono::milliseconds;

std::string all(const std::vector<ConfigDiagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

TEST(ConfigDiagnostic, FormatsPositionKeyAndMessage) {
  ConfigDiagnostic d{"config.yaml", 12, 5, "metrics.interval", "expected a duration like \"10s\", got \"ten\""};
  EXPECT_EQ(d.to_string(), "config.yaml:12:5: metrics.interval: expected a duration like \"10s\", got \"ten\"");
  ConfigDiagnostic no_key{"config.yaml", 3, 1, "", "YAML syntax error: x"};
  EXPECT_EQ(no_key.to_string(), "config.yaml:3:1: YAML syntax error: x");
  ConfigDiagnostic control_in_key{"c.yaml", 2, 3, std::string("agent.a\0b\x1b", 10), "unknown key"};
  EXPECT_EQ(control_in_key.to_string(), "c.yaml:2:3: agent.a\\x00b\\x1b: unknown key");
  ConfigDiagnostic no_position{"/etc/x.yaml", 0, 0, "", "cannot open config file: No such file or directory"};
  EXPECT_EQ(no_position.to_string(), "/etc/x.yaml: cannot open config file: No such file or directory");
}

TEST(EditDistance, CountsEditsAndSuggestsOnlyCloseWords) {
  EXPECT_EQ(common::edit_distance("interval", "interval"), 0u);
  EXPECT_EQ(common::edit_distance("intervl", "interval"), 1u);
  EXPECT_EQ(common::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(common::edit_distance("", "abc"), 3u);
  EXPECT_EQ(common::closest_match("intervl", {"enabled", "interval", "flush_interval"}), "interval");
  EXPECT_EQ(common::closest_match("Namespace", {"namespace", "output"}), "namespace");
  EXPECT_EQ(common::closest_match("banana", {"enabled", "interval"}), "");
}

constexpr const char* kSample = R"(metrics:
  enabled: yes
  interval: ten
  count: 7
  ratio: 0.5
  size: 64MiB
  output: cloudwach
  network:
    exclude: [lo, {a: b}, docker0]
  dimensions:
    Team: infra
    Cost: 12
  intervl: 5s
)";

TEST(ConfigNode, TypedGettersReportErrorsWithPositionAndPath) {
  ConfigDocument doc = ConfigDocument::from_text(kSample, "config.yaml");
  ASSERT_TRUE(doc.parsed());
  common::ConfigNode metrics = doc.root().section("metrics");
  EXPECT_TRUE(metrics.present());
  EXPECT_EQ(metrics.line(), 2);
  EXPECT_EQ(metrics.column(), 3);
  EXPECT_TRUE(metrics.get_bool("enabled", false));
  EXPECT_EQ(metrics.get_duration("interval", milliseconds(60'000), milliseconds(1'000), milliseconds(3'600'000)),
            milliseconds(60'000));
  EXPECT_EQ(metrics.get_int("count", 1, 0, 5), 1);
  EXPECT_DOUBLE_EQ(metrics.get_double("ratio", 0, 0, 1), 0.5);
  EXPECT_EQ(metrics.get_size("size", 0, 0, 1ull << 40), 64ull << 20);
  EXPECT_EQ(metrics.get_enum("output", "local", {"local", "cloudwatch"}), "local");
  EXPECT_EQ(metrics.section("network").get_string_list("exclude", {"lo"}), std::vector<std::string>{"lo"});
  auto dims = metrics.get_string_map("dimensions", {});
  EXPECT_EQ(dims, (std::map<std::string, std::string>{{"Team", "infra"}, {"Cost", "12"}}));
  metrics.expect_keys({"enabled", "interval", "count", "ratio", "size", "output", "network", "dimensions"});

  const auto& e = doc.errors();
  ASSERT_EQ(e.size(), 5u) << all(e);
  EXPECT_EQ(e[0].to_string(), "config.yaml:3:13: metrics.interval: expected a duration like \"10s\", got \"ten\"");
  EXPECT_EQ(e[1].to_string(), "config.yaml:4:10: metrics.count: 7 is out of range; expected 0 to 5");
  EXPECT_EQ(e[2].to_string(),
            "config.yaml:7:11: metrics.output: expected one of local, cloudwatch; got \"cloudwach\" "
            "(did you mean \"cloudwatch\"?)");
  EXPECT_EQ(e[3].to_string(), "config.yaml:9:19: metrics.network.exclude[1]: expected a string, got a map");
  EXPECT_EQ(e[4].to_string(),
            "config.yaml:13:3: metrics.intervl: unknown key; did you mean \"interval\"? allowed keys: enabled, "
            "interval, count, ratio, size, output, network, dimensions");
}

TEST(ConfigNode, AbsentAndNullValuesGiveDefaults) {
  ConfigDocument doc = ConfigDocument::from_text("agent:\n  hostname:\n  region: ~\nmetrics:\n", "c.yaml");
  ASSERT_TRUE(doc.parsed());
  auto agent = doc.root().section("agent");
  EXPECT_EQ(agent.get_string("hostname", "dflt"), "dflt");
  EXPECT_EQ(agent.get_string("region", "r"), "r");
  EXPECT_FALSE(agent.has("hostname"));
  auto metrics = doc.root().section("metrics");
  EXPECT_FALSE(metrics.present());
  EXPECT_EQ(metrics.get_duration("interval", milliseconds(5), milliseconds(0), milliseconds(10)), milliseconds(5));
  auto missing = doc.root().section("nope").section("deeper");
  EXPECT_EQ(missing.path(), "nope.deeper");
  EXPECT_TRUE(missing.get_bool("x", true));
  EXPECT_FALSE(doc.has_errors()) << all(doc.errors());
}

TEST(ConfigNode, RequireReportsAtTheSectionPosition) {
  ConfigDocument doc = ConfigDocument::from_text("alarms:\n  - name: high-cpu\n    metric: cpu\n", "a.yaml");
  auto alarms = doc.root().child("alarms").items();
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_TRUE(alarms[0].require("name"));
  EXPECT_FALSE(alarms[0].require("comparison"));
  ASSERT_EQ(doc.errors().size(), 1u);
  EXPECT_EQ(doc.errors()[0].to_string(), "a.yaml:2:5: alarms[0].comparison: missing required key");
}

TEST(ConfigNode, TypeMismatchesNameWhatWasFound) {
  ConfigDocument doc = ConfigDocument::from_text(
      "a: [1, 2]\nb: {x: 1}\nc: maybe\nd: 1.5\ne: abc\nf: scalar\ng: -5MiB\nh: 2.5\n", "t.yaml");
  auto root = doc.root();
  EXPECT_EQ(root.get_string("a", "x"), "x");
  EXPECT_FALSE(root.section("f").present());
  EXPECT_TRUE(root.get_bool("c", true));
  EXPECT_EQ(root.get_int("d", 3, 0, 10), 3);
  EXPECT_DOUBLE_EQ(root.get_double("e", 1.0, 0, 10), 1.0);
  EXPECT_EQ(root.get_string_list("b", {}), std::vector<std::string>{});
  EXPECT_EQ(root.get_size("g", 1, 0, 100), 1u);
  EXPECT_DOUBLE_EQ(root.get_double("h", 1.0, 0, 2), 1.0);
  const auto& e = doc.errors();
  ASSERT_EQ(e.size(), 8u) << all(e);
  EXPECT_EQ(e[0].to_string(), "t.yaml:1:4: a: expected a string, got a list");
  EXPECT_EQ(e[1].to_string(), "t.yaml:6:4: f: expected a map, got \"scalar\"");
  EXPECT_EQ(e[2].to_string(), "t.yaml:3:4: c: expected true or false, got \"maybe\"");
  EXPECT_EQ(e[3].to_string(), "t.yaml:4:4: d: expected an integer, got \"1.5\"");
  EXPECT_EQ(e[4].to_string(), "t.yaml:5:4: e: expected a number, got \"abc\"");
  EXPECT_EQ(e[5].to_string(), "t.yaml:2:4: b: expected a list of strings, got a map");
  EXPECT_EQ(e[6].to_string(), "t.yaml:7:4: g: a size cannot be negative, got \"-5MiB\"");
  EXPECT_EQ(e[7].to_string(), "t.yaml:8:4: h: 2.5 is out of range; expected 0 to 2");
}

TEST(ConfigNode, DurationAndSizeRangesAreFormattedInUnits) {
  ConfigDocument doc = ConfigDocument::from_text("interval: 0s\nsize: 512B\n", "r.yaml");
  auto root = doc.root();
  (void)root.get_duration("interval", milliseconds(60'000), milliseconds(1'000), milliseconds(3'600'000));
  (void)root.get_size("size", 1, 1024, 16ull << 20);
  ASSERT_EQ(doc.errors().size(), 2u);
  EXPECT_EQ(doc.errors()[0].to_string(), "r.yaml:1:11: interval: 0s is out of range; expected 1s to 1h");
  EXPECT_EQ(doc.errors()[1].to_string(), "r.yaml:2:7: size: 512B is out of range; expected 1KiB to 16MiB");
}

TEST(ConfigNode, ExpectKeysReportsDuplicatesAndUnknownWithoutSuggestion) {
  ConfigDocument doc = ConfigDocument::from_text("a: 1\nb: 2\na: 3\nzzzzzz: 4\n", "d.yaml");
  doc.root().expect_keys({"a", "b"});
  ASSERT_EQ(doc.errors().size(), 2u) << all(doc.errors());
  EXPECT_EQ(doc.errors()[0].to_string(), "d.yaml:3:1: a: duplicate key (first given at line 1)");
  EXPECT_EQ(doc.errors()[1].to_string(), "d.yaml:4:1: zzzzzz: unknown key; allowed keys: a, b");
}

TEST(ConfigDocument, SyntaxErrorBecomesDiagnosticWithOneBasedMark) {
  ConfigDocument doc = ConfigDocument::from_text("metrics:\n  interval: 10s\n  bad: [1, 2\n", "s.yaml");
  EXPECT_FALSE(doc.parsed());
  ASSERT_EQ(doc.errors().size(), 1u);
  const auto& d = doc.errors()[0];
  EXPECT_EQ(d.file, "s.yaml");
  EXPECT_GE(d.line, 3);
  EXPECT_NE(d.message.find("YAML syntax error"), std::string::npos);
  EXPECT_FALSE(doc.root().present());
}

TEST(ConfigDocument, EmptyAndNonMapDocumentsAreErrors) {
  for (const char* text : {"", "   \n", "# only a comment\n"}) {
    ConfigDocument doc = ConfigDocument::from_text(text, "e.yaml");
    ASSERT_EQ(doc.errors().size(), 1u) << text;
    EXPECT_EQ(doc.errors()[0].to_string(), "e.yaml:1:1: file is empty; see config/local.yaml for a minimal example");
  }
  ConfigDocument list = ConfigDocument::from_text("- a\n- b\n", "l.yaml");
  ASSERT_EQ(list.errors().size(), 1u);
  EXPECT_EQ(list.errors()[0].to_string(), "l.yaml:1:1: expected a map of sections at the top level, got a list");
}

TEST(ConfigDocument, MissingFileNamesPathAndStrerror) {
  ConfigDocument doc = ConfigDocument::from_file("/nonexistent-dir/trailwatch.yaml");
  ASSERT_EQ(doc.errors().size(), 1u);
  EXPECT_EQ(doc.errors()[0].to_string(),
            "/nonexistent-dir/trailwatch.yaml: cannot open config file: No such file or directory");
}

TEST(ConfigDocument, ReadsFileFromDisk) {
  const auto dir = std::filesystem::temp_directory_path() / ("tw-reader-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "c.yaml").string();
  std::ofstream(path) << "agent:\n  log_level: debug\n";
  ConfigDocument doc = ConfigDocument::from_file(path);
  EXPECT_FALSE(doc.has_errors()) << all(doc.errors());
  EXPECT_EQ(doc.root().section("agent").get_string("log_level", "info"), "debug");
  EXPECT_EQ(doc.file(), path);
  std::filesystem::remove_all(dir);
}

// Bytes that cannot be in a YAML file are refused at their position before yaml-cpp sees them (it
// would stop at a raw NUL, or pass ill-formed UTF-8 on to the AWS requests).
struct UnprintableCase {
  const char* name;
  std::string text;
  int line;
  int column;
  const char* message;  // a substring
};

TEST(ConfigDocument, ControlCharactersAndBadUtf8AreErrorsAtTheirPosition) {
  const UnprintableCase cases[] = {
      {"raw NUL", std::string("agent:\n  state_dir: /tmp/x\0y\n", 29), 2, 20, "control character (byte 0x00)"},
      {"escape char", "metrics:\n  namespace: a\x1b[31m\n", 2, 15, "control character (byte 0x1b)"},
      {"DEL", "a: \x7f\n", 1, 4, "control character (byte 0x7f)"},
      {"binary file", std::string("\x7f" "ELF\x02\x01\x01\0\0", 9), 1, 1, "is this the right file?"},
      {"Latin-1 byte", "# caf\xe9\nagent: {}\n", 1, 6, "byte 0xe9 is not UTF-8"},
      {"overlong slash", "a: \xc0\xaf\n", 1, 4, "byte 0xc0 is not UTF-8"},
      {"surrogate", "a: \xed\xa0\x80\n", 1, 4, "byte 0xed is not UTF-8"},
      {"cut sequence", "a: \xe2\x82", 1, 4, "byte 0xe2 is not UTF-8"},
  };
  for (const UnprintableCase& c : cases) {
    ConfigDocument doc = ConfigDocument::from_text(c.text, "u.yaml");
    EXPECT_FALSE(doc.parsed()) << c.name;
    ASSERT_EQ(doc.errors().size(), 1u) << c.name << "\n" << all(doc.errors());
    EXPECT_EQ(doc.errors()[0].line, c.line) << c.name;
    EXPECT_EQ(doc.errors()[0].column, c.column) << c.name;
    EXPECT_NE(doc.errors()[0].message.find(c.message), std::string::npos) << c.name << ": " << doc.errors()[0].message;
  }
  // Tabs, CR LF line ends, a byte-order mark and well-formed UTF-8 are fine.
  for (const char* ok : {"a: 1\r\nb: \"\t\"\r\n", "\xef\xbb\xbf" "a: 1\n", "name: \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n"}) {
    ConfigDocument doc = ConfigDocument::from_text(ok, "ok.yaml");
    EXPECT_TRUE(doc.parsed()) << ok << "\n" << all(doc.errors());
  }
}

// Shapes that hurt parsers: each gives a bounded answer, never a crash or a hang.
TEST(ConfigDocument, DeepNestingIsASyntaxErrorAndAliasesAreNotExpanded) {
  std::string deep = "a: ";
  for (int i = 0; i < 100'000; ++i) deep += '[';
  ConfigDocument nested = ConfigDocument::from_text(deep, "n.yaml");
  EXPECT_FALSE(nested.parsed());
  ASSERT_EQ(nested.errors().size(), 1u) << all(nested.errors());
  EXPECT_NE(nested.errors()[0].message.find("YAML syntax error"), std::string::npos) << nested.errors()[0].message;

  // "Billion laughs": nine levels of aliases, 10^9 leaves if expanded. yaml-cpp shares aliased nodes
  // and the reader never walks a value it does not know, so this is one unknown key, read at once.
  std::string laughs = "agent: {}\nlol0: &l0 [lol]\n";
  for (int i = 1; i <= 9; ++i) {
    laughs += "lol" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", *l" : "*l") + std::to_string(i - 1);
    laughs += "]\n";
  }
  ConfigDocument bomb = ConfigDocument::from_text(laughs, "b.yaml");
  ASSERT_TRUE(bomb.parsed()) << all(bomb.errors());
  bomb.root().expect_keys({"agent"});
  EXPECT_EQ(bomb.errors().size(), 10u) << all(bomb.errors());  // lol0 .. lol9, each an unknown key
}

TEST(ConfigDocument, FileModeIsRecordedAndAFileOthersMayWriteIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() / ("tw-mode-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "c.yaml").string();
  std::ofstream(path) << "agent: {}\n";
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ConfigDocument ok = ConfigDocument::from_file(path);
  EXPECT_FALSE(ok.has_errors()) << all(ok.errors());
  EXPECT_EQ(ok.file_mode(), 0640u);
  EXPECT_EQ(ConfigDocument::from_text("a: 1\n", "t.yaml").file_mode(), std::nullopt);

  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  ConfigDocument writable = ConfigDocument::from_file(path);
  EXPECT_FALSE(writable.parsed());
  ASSERT_EQ(writable.errors().size(), 1u) << all(writable.errors());
  EXPECT_EQ(writable.errors()[0].to_string(),
            path + ": config file is writable by every user on this host (mode 0666), so anyone could change what "
                   "trailwatch reads and sends; run chmod o-w " + path);

  // Through a symbolic link: the target's mode counts.
  const auto link = (dir / "link.yaml").string();
  std::filesystem::create_symlink(path, link);
  EXPECT_TRUE(ConfigDocument::from_file(link).has_errors());
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ConfigDocument via_link = ConfigDocument::from_file(link);
  EXPECT_FALSE(via_link.has_errors()) << all(via_link.errors());
  EXPECT_EQ(via_link.file_mode(), 0600u);
  std::filesystem::remove_all(dir);
}

TEST(FormatFileMode, FourOctalDigits) {
  EXPECT_EQ(common::format_file_mode(0644), "0644");
  EXPECT_EQ(common::format_file_mode(0), "0000");
  EXPECT_EQ(common::format_file_mode(04755), "4755");
}

TEST(ConfigDocument, PositionlessDiagnosticsFromEnvironment) {
  ConfigDocument doc = ConfigDocument::from_text("a: 1\n", "x.yaml");
  doc.add_error("aws.endpoints.s3", "from AWS_ENDPOINT_URL_S3: bad");
  doc.add_warning("aws.credentials", "careful");
  EXPECT_EQ(doc.errors()[0].to_string(), "x.yaml: aws.endpoints.s3: from AWS_ENDPOINT_URL_S3: bad");
  EXPECT_EQ(doc.warnings()[0].to_string(), "x.yaml: aws.credentials: careful");
}

}  // namespace
