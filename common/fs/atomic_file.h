// Replacing a state file so that a crash leaves either the old or the new content, never a mix:
// write `<path>.tmp`, fsync it, rename it over `path`, fsync the directory. Used by checkpoints,
// alarm state and the notification queue.
#pragma once

#include <string>
#include <string_view>

#include "common/result/result.h"

namespace common {

// The temporary name write_file_atomically uses (a leftover one is the trace of an interrupted write).
inline std::string atomic_temp_path(const std::string& path) { return path + ".tmp"; }

// Errors name the step and the file; the temporary file is removed on failure.
Status write_file_atomically(const std::string& path, std::string_view content, unsigned mode = 0640);

}  // namespace common
