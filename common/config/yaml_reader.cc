#include "common/config/yaml_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/config/units.h"
#include "common/text/utf8.h"

namespace common {
namespace {

// Configuration files are small; anything bigger is almost certainly the wrong file.
constexpr size_t kMaxConfigFileBytes = 4 * 1024 * 1024;

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out.append(text);
  out += '"';
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

std::string join(const std::vector<std::string_view>& words, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out.append(separator);
    out.append(words[i]);
  }
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quoted(node.Scalar());
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// The first byte of `text` that cannot be in a YAML file, as an error at its line and column: a
// control character other than tab, LF and CR (YAML 1.2 c-printable; a NUL here is usually a binary
// file given by mistake) or a byte that is not well-formed UTF-8. nullopt when there is none.
std::optional<ConfigDiagnostic> find_unprintable(std::string_view text, const std::string& file) {
  static constexpr char kHex[] = "0123456789abcdef";
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto u = static_cast<unsigned char>(text[i]);
    const std::string byte = std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xF];
    const int column = static_cast<int>(i - line_start) + 1;
    if (u == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    if ((u < 0x20 && u != '\t' && u != '\r') || u == 0x7f) {
      return ConfigDiagnostic{file, line, column, "",
                              "control character (" + byte + ") in the file; a config file is YAML text (is this "
                              "the right file?)"};
    }
    if (u < 0x80) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t n = utf8::sequence_length(text, i, &bad);
    if (n == 0) {
      return ConfigDiagnostic{file, line, column, "",
                              byte + " is not UTF-8; YAML files are UTF-8 (save the file as UTF-8)"};
    }
    i += n;
  }
  return std::nullopt;
}

std::string format_double(double value) {
  if (value == std::numeric_limits<double>::infinity()) return "infinity";
  if (value == -std::numeric_limits<double>::infinity()) return "-infinity";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec != std::errc()) return "?";
  return std::string(buffer, end);
}

}  // namespace

std::string ConfigDiagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line) + ':' + std::to_string(column);
  }
  out += ": ";
  if (!key_path.empty()) {
    // A key may hold any byte ("a\0b": 1); the terminal gets \x00, not the byte.
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : key_path) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        out += std::string("\\x") + kHex[u >> 4] + kHex[u & 0xF];
      } else {
        out += c;
      }
    }
    out += ": ";
  }
  out += message;
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1);
  std::vector<size_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  const std::string word_lower = lower(word);
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : candidates) {
    const size_t distance = edit_distance(word_lower, lower(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  // A typo changes a few characters, never most of the word.
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, (word.size() + 1) / 3));
  if (best_distance > limit) return "";
  return best;
}

// ---- ConfigNode ------------------------------------------------------------------------------------

bool ConfigNode::is_map() const { return present_ && node_.IsMap(); }
bool ConfigNode::is_list() const { return present_ && node_.IsSequence(); }
bool ConfigNode::is_scalar() const { return present_ && node_.IsScalar(); }

std::string ConfigNode::child_path(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

ConfigNode ConfigNode::make_child(const YAML::Node& node, std::string path) const {
  const bool present = node.IsDefined() && !node.IsNull();
  int line = line_;
  int column = column_;
  const YAML::Mark mark = node.Mark();
  if (!mark.is_null()) {
    line = mark.line + 1;
    column = mark.column + 1;
  }
  return ConfigNode(sink_, node, present, std::move(path), line, column);
}

ConfigNode ConfigNode::absent_child(std::string path) const {
  return ConfigNode(sink_, YAML::Node(), false, std::move(path), line_, column_);
}

ConfigNode ConfigNode::child(std::string_view key) const {
  if (!is_map()) return absent_child(child_path(key));
  // Iterate rather than use operator[]: it never creates entries, never throws, and finds the
  // first of duplicated keys (expect_keys reports the duplicate).
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return make_child(it->second, child_path(key));
  }
  return absent_child(child_path(key));
}

ConfigNode ConfigNode::section(std::string_view key) const {
  ConfigNode node = child(key);
  if (node.present() && !node.node_.IsMap()) {
    node.type_error("a map");
    node.present_ = false;
  }
  return node;
}

std::vector<ConfigNode> ConfigNode::items() const {
  std::vector<ConfigNode> out;
  if (!present_) return out;
  if (!node_.IsSequence()) {
    type_error("a list");
    return out;
  }
  size_t index = 0;
  for (auto it = node_.begin(); it != node_.end(); ++it, ++index) {
    out.push_back(make_child(*it, path_ + "[" + std::to_string(index) + "]"));
  }
  return out;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::entries() const {
  std::vector<std::pair<std::string, ConfigNode>> out;
  if (!present_) return out;
  if (!node_.IsMap()) {
    type_error("a map");
    return out;
  }
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) {
      make_child(it->first, path_).error("keys must be plain strings");
      continue;
    }
    const std::string key = it->first.Scalar();
    out.emplace_back(key, make_child(it->second, child_path(key)));
  }
  return out;
}

void ConfigNode::error(std::string message) const {
  sink_->errors.push_back(ConfigDiagnostic{sink_->file, line_, column_, path_, std::move(message)});
}

void ConfigNode::warning(std::string message) const {
  sink_->warnings.push_back(ConfigDiagnostic{sink_->file, line_, column_, path_, std::move(message)});
}

void ConfigNode::type_error(std::string_view expected) const {
  error("expected " + std::string(expected) + ", got " + describe(node_));
}

std::optional<std::string> ConfigNode::scalar_or_error(std::string_view what) const {
  if (!present_) return std::nullopt;
  if (!node_.IsScalar()) {
    type_error(what);
    return std::nullopt;
  }
  return node_.Scalar();
}

std::optional<std::string> ConfigNode::as_string() const { return scalar_or_error("a string"); }

std::optional<bool> ConfigNode::as_bool() const {
  auto text = scalar_or_error("true or false");
  if (!text) return std::nullopt;
  const std::string value = lower(*text);
  if (value == "true" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "no" || value == "off") return false;
  error("expected true or false, got " + quoted(*text));
  return std::nullopt;
}

std::optional<int64_t> ConfigNode::as_int(int64_t min, int64_t max) const {
  auto text = scalar_or_error("an integer");
  if (!text) return std::nullopt;
  int64_t value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range) {
    error(*text + " is out of range; expected " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  if (ec != std::errc() || ptr != end) {
    error("expected an integer, got " + quoted(*text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    error(std::to_string(value) + " is out of range; expected " + std::to_string(min) + " to " +
          std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<double> ConfigNode::as_double(double min, double max) const {
  auto text = scalar_or_error("a number");
  if (!text) return std::nullopt;
  double value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) {
    error("expected a number, got " + quoted(*text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    error(format_double(value) + " is out of range; expected " + format_double(min) + " to " +
          format_double(max));
    return std::nullopt;
  }
  return value;
}

std::optional<std::chrono::milliseconds> ConfigNode::as_duration(std::chrono::milliseconds min,
                                                                 std::chrono::milliseconds max) const {
  auto text = scalar_or_error("a duration like \"10s\"");
  if (!text) return std::nullopt;
  auto parsed = parse_duration(*text);
  if (!parsed) {
    error(parsed.error().message());
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    error(format_duration(*parsed) + " is out of range; expected " + format_duration(min) + " to " +
          format_duration(max));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<uint64_t> ConfigNode::as_size(uint64_t min, uint64_t max) const {
  auto text = scalar_or_error("a size like \"64MiB\"");
  if (!text) return std::nullopt;
  auto parsed = parse_size(*text);
  if (!parsed) {
    error(parsed.error().message());
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    error(format_size(*parsed) + " is out of range; expected " + format_size(min) + " to " + format_size(max));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::string> ConfigNode::as_enum(const std::vector<std::string_view>& allowed) const {
  auto text = scalar_or_error("one of " + join(allowed, ", "));
  if (!text) return std::nullopt;
  for (std::string_view candidate : allowed) {
    if (candidate == *text) return *text;
  }
  std::string message = "expected one of " + join(allowed, ", ") + "; got " + quoted(*text);
  const std::string suggestion = closest_match(*text, allowed);
  if (!suggestion.empty()) message += " (did you mean " + quoted(suggestion) + "?)";
  error(std::move(message));
  return std::nullopt;
}

std::optional<std::vector<std::string>> ConfigNode::as_string_list() const {
  if (!present_) return std::nullopt;
  if (!node_.IsSequence()) {
    type_error("a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const ConfigNode& item : items()) {
    if (!item.present()) {
      item.error("expected a string, got nothing");
      ok = false;
      continue;
    }
    auto value = item.as_string();
    if (!value) {
      ok = false;
      continue;
    }
    out.push_back(std::move(*value));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> ConfigNode::as_string_map() const {
  if (!present_) return std::nullopt;
  if (!node_.IsMap()) {
    type_error("a map of strings");
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  for (auto& [key, value_node] : entries()) {
    auto value = value_node.present() ? value_node.as_string() : std::optional<std::string>("");
    if (!value) {
      ok = false;
      continue;
    }
    out[key] = std::move(*value);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::string ConfigNode::get_string(std::string_view key, std::string fallback) const {
  return child(key).as_string().value_or(std::move(fallback));
}

bool ConfigNode::get_bool(std::string_view key, bool fallback) const {
  return child(key).as_bool().value_or(fallback);
}

int64_t ConfigNode::get_int(std::string_view key, int64_t fallback, int64_t min, int64_t max) const {
  return child(key).as_int(min, max).value_or(fallback);
}

double ConfigNode::get_double(std::string_view key, double fallback, double min, double max) const {
  return child(key).as_double(min, max).value_or(fallback);
}

std::chrono::milliseconds ConfigNode::get_duration(std::string_view key, std::chrono::milliseconds fallback,
                                                   std::chrono::milliseconds min,
                                                   std::chrono::milliseconds max) const {
  return child(key).as_duration(min, max).value_or(fallback);
}

uint64_t ConfigNode::get_size(std::string_view key, uint64_t fallback, uint64_t min, uint64_t max) const {
  return child(key).as_size(min, max).value_or(fallback);
}

std::string ConfigNode::get_enum(std::string_view key, std::string fallback,
                                 const std::vector<std::string_view>& allowed) const {
  return child(key).as_enum(allowed).value_or(std::move(fallback));
}

std::vector<std::string> ConfigNode::get_string_list(std::string_view key,
                                                     std::vector<std::string> fallback) const {
  auto value = child(key).as_string_list();
  if (!value) return fallback;
  return std::move(*value);
}

std::map<std::string, std::string> ConfigNode::get_string_map(std::string_view key,
                                                              std::map<std::string, std::string> fallback) const {
  auto value = child(key).as_string_map();
  if (!value) return fallback;
  return std::move(*value);
}

bool ConfigNode::require(std::string_view key) const {
  ConfigNode node = child(key);
  if (node.present()) return true;
  node.error("missing required key");
  return false;
}

void ConfigNode::expect_keys(const std::vector<std::string_view>& allowed) const {
  if (!is_map()) return;
  std::map<std::string, int> first_line;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) {
      make_child(it->first, path_).error("keys must be plain strings");
      continue;
    }
    const std::string key = it->first.Scalar();
    const ConfigNode key_node = make_child(it->first, child_path(key));
    auto [previous, inserted] = first_line.emplace(key, key_node.line());
    if (!inserted) {
      key_node.error("duplicate key (first given at line " + std::to_string(previous->second) + ")");
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key";
    const std::string suggestion = closest_match(key, allowed);
    if (!suggestion.empty()) message += "; did you mean " + quoted(suggestion) + "?";
    message += (suggestion.empty() ? "; allowed keys: " : " allowed keys: ") + join(allowed, ", ");
    key_node.error(std::move(message));
  }
}

// ---- ConfigDocument --------------------------------------------------------------------------------

ConfigDocument::ConfigDocument(std::shared_ptr<detail::DiagnosticSink> sink)
    : sink_(std::move(sink)), root_(sink_, YAML::Node(), false, "", 1, 1) {}

void ConfigDocument::add_error(std::string key_path, std::string message) {
  sink_->errors.push_back(ConfigDiagnostic{sink_->file, 0, 0, std::move(key_path), std::move(message)});
}

void ConfigDocument::add_warning(std::string key_path, std::string message) {
  sink_->warnings.push_back(ConfigDiagnostic{sink_->file, 0, 0, std::move(key_path), std::move(message)});
}

ConfigDocument ConfigDocument::from_text(std::string_view text, std::string display_name) {
  auto sink = std::make_shared<detail::DiagnosticSink>();
  sink->file = std::move(display_name);
  ConfigDocument doc(sink);
  if (auto problem = find_unprintable(text, sink->file)) {
    sink->errors.push_back(std::move(*problem));
    return doc;
  }
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 1 : e.mark.column + 1;
    sink->errors.push_back(ConfigDiagnostic{sink->file, line, column, "", "YAML syntax error: " + e.msg});
    return doc;
  } catch (const std::exception& e) {
    sink->errors.push_back(ConfigDiagnostic{sink->file, 1, 1, "", std::string("cannot parse: ") + e.what()});
    return doc;
  }
  if (!node.IsDefined() || node.IsNull()) {
    sink->errors.push_back(
        ConfigDiagnostic{sink->file, 1, 1, "", "file is empty; see config/local.yaml for a minimal example"});
    return doc;
  }
  ConfigNode root = doc.root_.make_child(node, "");
  if (!node.IsMap()) {
    root.error("expected a map of sections at the top level, got " + describe(node));
    return doc;
  }
  doc.root_ = root;
  doc.parsed_ = true;
  return doc;
}

ConfigDocument ConfigDocument::from_file(const std::string& path) {
  auto fail = [&path](std::string message) {
    ConfigDocument doc(std::make_shared<detail::DiagnosticSink>());
    doc.sink_->file = path;
    doc.add_error("", std::move(message));
    return doc;
  };
  // O_NONBLOCK: opening a FIFO nobody writes to would wait forever (validate and run hung on
  // `--config` naming one). Reads block again below, so a pipe with a writer (/dev/stdin) still works
  // and one without reads as empty.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail(std::string("cannot open config file: ") + std::strerror(errno));
  if (const int flags = ::fcntl(fd, F_GETFL); flags >= 0) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int saved = errno;
    ::close(fd);
    return fail(std::string("cannot read config file: ") + std::strerror(saved));
  }
  const unsigned mode = static_cast<unsigned>(st.st_mode) & 07777;
  if (S_ISREG(st.st_mode) && (mode & S_IWOTH) != 0) {
    ::close(fd);
    return fail("config file is writable by every user on this host (mode " + format_file_mode(mode) +
                "), so anyone could change what trailwatch reads and sends; run chmod o-w " + path);
  }
  std::string text;
  char buffer[16384];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return fail(std::string("cannot read config file: ") + std::strerror(saved));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxConfigFileBytes) {
      ::close(fd);
      return fail("config file is larger than " + format_size(kMaxConfigFileBytes) + "; is this the right file?");
    }
  }
  ::close(fd);
  ConfigDocument doc = from_text(text, path);
  doc.file_mode_ = mode;
  return doc;
}

std::string format_file_mode(unsigned mode) {
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i, mode >>= 3) out[static_cast<std::size_t>(i)] = static_cast<char>('0' + (mode & 7));
  return out;
}

}  // namespace common
