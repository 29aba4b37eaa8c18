#include "common/config/file_modes.h"

#include "common/config/yaml_reader.h"

namespace common {

std::string secret_file_mode_warning(const std::string& what, const std::string& path, unsigned mode) {
  if ((mode & 077) == 0) return {};
  return what + " " + path + " can be read or written by group or others (mode " + format_file_mode(mode) +
         "); anyone who can read it has the keys: run chmod 600 " + path;
}

std::string private_directory_mode_warning(const std::string& what, const std::string& path, unsigned mode,
                                           const std::string& holds) {
  if ((mode & 007) == 0) return {};
  return what + " " + path + " is open to every user on this host (mode " + format_file_mode(mode) + ") and holds " +
         holds + ": run chmod o-rwx " + path;
}

}  // namespace common
