// A small reader over yaml-cpp for configuration files. It remembers where every value came from
// (file, 1-based line and column, key path such as "metrics.network.exclude[1]"), converts values
// to typed results with ranges, and collects every problem instead of stopping at the first one:
//
//   config.yaml:12:5: metrics.interval: expected a duration like "10s", got "ten"
//
// Usage:
//   ConfigDocument doc = ConfigDocument::from_file(path);
//   ConfigNode root = doc.root();
//   root.expect_keys({"metrics"});
//   ConfigNode metrics = root.section("metrics");
//   auto interval = metrics.get_duration("interval", 60s, 1s, 1h);
//   if (doc.has_errors()) ... doc.errors()
//
// Absent keys and keys with a null value ("key:" or "key: ~") read as "not set" and give the default.
// No yaml-cpp exception escapes this API.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common {

struct ConfigDiagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when there is no position (missing file, environment variable)
  int column = 0;  // 1-based; 0 when there is no position
  std::string key_path;  // "metrics.network.exclude[1]"; empty for file-level problems
  std::string message;

  // "file:line:col: key.path: message"; the position and key path are left out when unknown.
  std::string to_string() const;

  bool operator==(const ConfigDiagnostic&) const = default;
};

// Edit distance (insert, delete, substitute) between two strings; used for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate to `word` when it is plausibly a typo of it, else empty.
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

namespace detail {
struct DiagnosticSink {
  std::string file;
  std::vector<ConfigDiagnostic> errors;
  std::vector<ConfigDiagnostic> warnings;
};
}  // namespace detail

// A cursor on one YAML value: a map, a list, a scalar, or absent. Cheap to copy; all copies report
// into the document they came from.
class ConfigNode {
 public:
  // True when the value exists and is not null.
  bool present() const { return present_; }
  bool is_map() const;
  bool is_list() const;
  bool is_scalar() const;
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  int column() const { return column_; }

  // The path a child key would have: "metrics" + "interval" -> "metrics.interval".
  std::string child_path(std::string_view key) const;

  // Map lookup; an absent child keeps this node's position (used to report missing keys).
  ConfigNode child(std::string_view key) const;
  // True when `key` is present with a non-null value.
  bool has(std::string_view key) const { return child(key).present(); }

  // A child that must be a map when present (a type error is reported otherwise; the result is then
  // absent so its getters give defaults).
  ConfigNode section(std::string_view key) const;
  // The elements of a list ("key[0]", "key[1]", ...); reports a type error if present and not a list.
  std::vector<ConfigNode> items() const;
  // The entries of a map in file order; reports a type error if present and not a map.
  std::vector<std::pair<std::string, ConfigNode>> entries() const;

  // Conversions of this value. nullopt when absent (silently) or invalid (with a diagnostic).
  std::optional<std::string> as_string() const;
  std::optional<bool> as_bool() const;  // true/false, yes/no, on/off (any case)
  std::optional<int64_t> as_int(int64_t min, int64_t max) const;
  std::optional<double> as_double(double min, double max) const;
  std::optional<std::chrono::milliseconds> as_duration(std::chrono::milliseconds min,
                                                       std::chrono::milliseconds max) const;
  std::optional<uint64_t> as_size(uint64_t min, uint64_t max) const;
  std::optional<std::string> as_enum(const std::vector<std::string_view>& allowed) const;
  std::optional<std::vector<std::string>> as_string_list() const;
  std::optional<std::map<std::string, std::string>> as_string_map() const;

  // Keyed getters: the child's value, or `fallback` when it is absent or invalid (invalid values
  // are reported, so a document with errors should not be used).
  std::string get_string(std::string_view key, std::string fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  int64_t get_int(std::string_view key, int64_t fallback, int64_t min, int64_t max) const;
  double get_double(std::string_view key, double fallback, double min, double max) const;
  std::chrono::milliseconds get_duration(std::string_view key, std::chrono::milliseconds fallback,
                                         std::chrono::milliseconds min, std::chrono::milliseconds max) const;
  uint64_t get_size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) const;
  std::string get_enum(std::string_view key, std::string fallback,
                       const std::vector<std::string_view>& allowed) const;
  std::vector<std::string> get_string_list(std::string_view key, std::vector<std::string> fallback) const;
  std::map<std::string, std::string> get_string_map(std::string_view key,
                                                    std::map<std::string, std::string> fallback) const;

  // Reports "missing required key" at this node's position unless `key` is present; returns has(key).
  bool require(std::string_view key) const;

  // Reports every key of this map that is not in `allowed` (with a "did you mean" suggestion and the
  // list of allowed keys) and every key given twice. Does nothing when the node is absent.
  void expect_keys(const std::vector<std::string_view>& allowed) const;

  // Adds a diagnostic at this node's position and path.
  void error(std::string message) const;
  void warning(std::string message) const;

 private:
  friend class ConfigDocument;
  ConfigNode(std::shared_ptr<detail::DiagnosticSink> sink, YAML::Node node, bool present, std::string path,
             int line, int column)
      : sink_(std::move(sink)), node_(std::move(node)), present_(present), path_(std::move(path)),
        line_(line), column_(column) {}

  ConfigNode make_child(const YAML::Node& node, std::string path) const;
  ConfigNode absent_child(std::string path) const;
  std::optional<std::string> scalar_or_error(std::string_view what) const;
  void type_error(std::string_view expected) const;

  std::shared_ptr<detail::DiagnosticSink> sink_;
  YAML::Node node_;
  bool present_ = false;
  std::string path_;
  int line_ = 0;
  int column_ = 0;
};

// One parsed configuration file and the diagnostics collected while reading it.
class ConfigDocument {
 public:
  // Parses `text`. A YAML syntax error, an empty document, a control character (other than tab, CR
  // and LF) or a byte that is not UTF-8 becomes an error at its position and leaves root() absent.
  static ConfigDocument from_text(std::string_view text, std::string display_name);
  // Reads and parses `path` (through a symbolic link); a missing or unreadable file is an error
  // naming the path and strerror, and so is a file that others may write (anyone on the host could
  // change what the agent does: the fix, chmod o-w, is in the message).
  static ConfigDocument from_file(const std::string& path);

  // The top-level map (absent if the document did not parse or is not a map).
  ConfigNode root() const { return root_; }
  bool parsed() const { return parsed_; }
  const std::string& file() const { return sink_->file; }
  // The permission bits (st_mode & 07777) of the file read by from_file; nullopt for from_text.
  std::optional<unsigned> file_mode() const { return file_mode_; }

  bool has_errors() const { return !sink_->errors.empty(); }
  const std::vector<ConfigDiagnostic>& errors() const { return sink_->errors; }
  const std::vector<ConfigDiagnostic>& warnings() const { return sink_->warnings; }
  // Diagnostics without a position in the file (for example from environment variables).
  void add_error(std::string key_path, std::string message);
  void add_warning(std::string key_path, std::string message);

 private:
  explicit ConfigDocument(std::shared_ptr<detail::DiagnosticSink> sink);

  std::shared_ptr<detail::DiagnosticSink> sink_;
  ConfigNode root_;
  bool parsed_ = false;
  std::optional<unsigned> file_mode_;
};

// "0644": permission bits as chmod takes them.
std::string format_file_mode(unsigned mode);

}  // namespace common
