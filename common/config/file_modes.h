// ssh-style checks of permission bits on what holds secrets: pure decisions over a path and its
// mode (st_mode & 07777), so the rules get table tests and the callers only stat(2).
//
//   if (auto w = common::secret_file_mode_warning(path, st.st_mode & 07777); !w.empty()) log(w);
#pragma once

#include <string>

namespace common {

// "" when only the owner may read or write the file; else a warning naming the mode and the fix
// (chmod 600), as ssh's "UNPROTECTED PRIVATE KEY FILE". `what` names the file: "AWS shared
// credentials file".
std::string secret_file_mode_warning(const std::string& what, const std::string& path, unsigned mode);

// "" when other users (not owner, not group) have no access to the directory; else a warning
// naming the mode, why it matters (`holds`) and the fix (chmod o-rwx).
std::string private_directory_mode_warning(const std::string& what, const std::string& path, unsigned mode,
                                           const std::string& holds);

}  // namespace common
