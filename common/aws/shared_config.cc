#include "common/aws/shared_config.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace common::aws {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "profile   x" -> "profile x".
std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Cuts an inline comment: '#' or ';' preceded by whitespace.
std::string_view strip_inline_comment(std::string_view value) {
  for (std::size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') &&
        std::isspace(static_cast<unsigned char>(value[i - 1])) != 0) {
      return value.substr(0, i);
    }
  }
  return value;
}

Error line_error(std::size_t line, std::string_view what) {
  return Error(ErrorCode::kParse, "line " + std::to_string(line) + ": " + std::string(what));
}

}  // namespace

Result<IniFile> parse_ini(std::string_view text) {
  IniFile file;
  IniSection* section = nullptr;
  std::string parent_key;  // a key with an empty value: indented lines below it are its sub-properties
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const std::size_t close = line.find(']');
      if (close == std::string_view::npos) return line_error(line_no, "section header without ']'");
      const std::string_view rest = trim(line.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
        return line_error(line_no, "unexpected text after section header");
      }
      const std::string name = collapse_spaces(trim(line.substr(1, close - 1)));
      if (name.empty()) return line_error(line_no, "empty section name");
      section = &file[name];
      parent_key.clear();
      continue;
    }
    if (section == nullptr) return line_error(line_no, "key outside of any [section]");
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return line_error(line_no, "expected 'key = value'");
    const std::string key = lower(trim(line.substr(0, eq)));
    if (key.empty()) return line_error(line_no, "empty key");
    const std::string value(trim(strip_inline_comment(trim(line.substr(eq + 1)))));
    if (indented && !parent_key.empty()) {
      (*section)[parent_key + "." + key] = value;
      continue;
    }
    (*section)[key] = value;
    parent_key = value.empty() ? key : std::string();
  }
  return file;
}

std::map<std::string, IniSection, std::less<>> profiles_of(const IniFile& file, SharedFileKind kind) {
  std::map<std::string, IniSection, std::less<>> out;
  for (const auto& [title, values] : file) {
    if (kind == SharedFileKind::kCredentials) {
      out[title] = values;
      continue;
    }
    if (title == "default") {
      // "[profile default]" wins over "[default]" when both exist (CLI behaviour): merge, not overwrite.
      auto& dst = out["default"];
      for (const auto& [k, v] : values) dst.emplace(k, v);
      continue;
    }
    constexpr std::string_view kPrefix = "profile ";
    if (title.size() > kPrefix.size() && title.compare(0, kPrefix.size(), kPrefix) == 0) {
      auto& dst = out[title.substr(kPrefix.size())];
      for (const auto& [k, v] : values) dst[k] = v;
    }
  }
  return out;
}

SharedConfigPaths shared_config_paths(const Environment& env) {
  const auto home = env.get("HOME");
  auto expand = [&](const std::string& p) {
    if (p.size() >= 2 && p[0] == '~' && p[1] == '/' && home) return *home + p.substr(1);
    return p;
  };
  SharedConfigPaths paths;
  if (auto v = env.get("AWS_SHARED_CREDENTIALS_FILE"); v && !v->empty()) {
    paths.credentials_file = expand(*v);
  } else if (home && !home->empty()) {
    paths.credentials_file = *home + "/.aws/credentials";
  }
  if (auto v = env.get("AWS_CONFIG_FILE"); v && !v->empty()) {
    paths.config_file = expand(*v);
  } else if (home && !home->empty()) {
    paths.config_file = *home + "/.aws/config";
  }
  return paths;
}

std::string selected_profile(const Environment& env, std::string_view explicit_profile) {
  if (!explicit_profile.empty()) return std::string(explicit_profile);
  if (auto v = env.get("AWS_PROFILE"); v && !v->empty()) return *v;
  return "default";
}

FileFingerprint fingerprint_file(const std::string& path) {
  FileFingerprint fp;
  if (path.empty()) return fp;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fp;
  fp.exists = true;
  fp.inode = static_cast<std::uint64_t>(st.st_ino);
  fp.device = static_cast<std::uint64_t>(st.st_dev);
  fp.size = static_cast<std::int64_t>(st.st_size);
  fp.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                static_cast<std::int64_t>(st.st_mtim.tv_nsec);
  return fp;
}

const IniSection* SharedConfig::profile(std::string_view name) const {
  auto it = profiles.find(name);
  return it == profiles.end() ? nullptr : &it->second;
}

namespace {

// nullopt = the file does not exist.
Result<std::optional<std::string>> read_optional(const std::string& path) {
  if (path.empty()) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Error(errno == EACCES ? ErrorCode::kPermissionDenied : ErrorCode::kIo,
                 path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

}  // namespace

Result<SharedConfig> load_shared_config(const SharedConfigPaths& paths) {
  SharedConfig out;
  // Fingerprints first: a rewrite racing the read shows up as a change on the next check.
  out.credentials_fingerprint = fingerprint_file(paths.credentials_file);
  out.config_fingerprint = fingerprint_file(paths.config_file);

  auto config_text = read_optional(paths.config_file);
  if (!config_text.ok()) return config_text.error().wrap("reading the AWS config file");
  if (config_text->has_value()) {
    auto ini = parse_ini(**config_text);
    if (!ini.ok()) return ini.error().wrap(paths.config_file);
    out.profiles = profiles_of(*ini, SharedFileKind::kConfig);
  }
  auto creds_text = read_optional(paths.credentials_file);
  if (!creds_text.ok()) return creds_text.error().wrap("reading the AWS credentials file");
  if (creds_text->has_value()) {
    auto ini = parse_ini(**creds_text);
    if (!ini.ok()) return ini.error().wrap(paths.credentials_file);
    for (auto& [name, values] : profiles_of(*ini, SharedFileKind::kCredentials)) {
      auto& dst = out.profiles[name];
      for (auto& [k, v] : values) dst[k] = v;
    }
  }
  return out;
}

bool shared_config_changed(const SharedConfig& loaded, const SharedConfigPaths& paths) {
  return fingerprint_file(paths.credentials_file) != loaded.credentials_fingerprint ||
         fingerprint_file(paths.config_file) != loaded.config_fingerprint;
}

}  // namespace common::aws
