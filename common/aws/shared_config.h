// The AWS shared configuration files (~/.aws/credentials and ~/.aws/config): an INI dialect parser,
// the profile naming rules of each file, and a fingerprint (inode, size, mtime) so callers can re-read
// the files when a tool rotates them in place. Spec: shared/spec/aws-wire.md §6 (item 3);
// https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/environment.h"
#include "common/result/result.h"

namespace common::aws {

// key -> value (keys lower-cased, values trimmed). Sub-properties (indented lines below a key with an
// empty value, as in "s3 =\n  max_concurrent_requests = 20") are stored as "parent.key".
using IniSection = std::map<std::string, std::string, std::less<>>;
// Section title as written between the brackets (trimmed, inner whitespace collapsed to one space).
using IniFile = std::map<std::string, IniSection, std::less<>>;

// Lines: "[section]", "key = value", full-line comments starting with '#' or ';', and inline comments
// (" #" or " ;" preceded by whitespace) after a value. Keys before any section, a missing ']' or a line
// without '=' are kParse errors naming the 1-based line number (never the line itself: it may hold a key).
// A repeated section merges into the first; a repeated key keeps the last value.
[[nodiscard]] common::Result<IniFile> parse_ini(std::string_view text);

enum class SharedFileKind { kCredentials, kConfig };

// Profiles defined by a parsed file. Credentials file: every "[name]" is profile "name". Config file:
// "[profile name]" is profile "name" and "[default]" is "default"; any other "[x]" (sso-session, services,
// or a plain "[name]" written by mistake) is not a profile and is skipped.
std::map<std::string, IniSection, std::less<>> profiles_of(const IniFile& file, SharedFileKind kind);

struct SharedConfigPaths {
  std::string credentials_file;  // AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials
  std::string config_file;       // AWS_CONFIG_FILE, else $HOME/.aws/config
};
// Empty paths when neither the variable nor HOME is set. A leading "~/" in a variable is expanded.
SharedConfigPaths shared_config_paths(const common::Environment& env);

// The profile to use: the explicit name when not empty, else AWS_PROFILE, else "default".
std::string selected_profile(const common::Environment& env, std::string_view explicit_profile = {});

// Identity of a file's current contents as far as stat(2) can tell. Missing file = exists false.
struct FileFingerprint {
  bool exists = false;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileFingerprint&) const = default;
};
FileFingerprint fingerprint_file(const std::string& path);

// Both files merged into profiles. For a profile present in both, keys from the credentials file win
// (as in the CLI).
struct SharedConfig {
  std::map<std::string, IniSection, std::less<>> profiles;
  FileFingerprint credentials_fingerprint;
  FileFingerprint config_fingerprint;

  const IniSection* profile(std::string_view name) const;
};

// Missing files are not errors (an empty SharedConfig); unreadable or malformed ones are, naming the file.
[[nodiscard]] common::Result<SharedConfig> load_shared_config(const SharedConfigPaths& paths);

// True when either file changed (or appeared/disappeared) since `loaded` was read.
bool shared_config_changed(const SharedConfig& loaded, const SharedConfigPaths& paths);

}  // namespace common::aws
