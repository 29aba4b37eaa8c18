// ProcTree: a scratch /proc root for sampler tests. Snapshots from tests/data/proc/<case>/<tN>/
// are written INTO the same files (truncate + write, same inode), the way the kernel's pseudo
// files change under an open descriptor.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace tests {

inline std::filesystem::path source_dir() {
  const char* dir = std::getenv("TRAILWATCH_SOURCE_DIR");
  return dir != nullptr ? std::filesystem::path(dir) : std::filesystem::current_path();
}

inline std::filesystem::path proc_fixture(const std::string& name, const std::string& snapshot) {
  return source_dir() / "tests" / "data" / "proc" / name / snapshot;
}

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ProcTree {
 public:
  ProcTree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "proc-tree-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    root_ = pattern;
  }
  ~ProcTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  ProcTree(const ProcTree&) = delete;
  ProcTree& operator=(const ProcTree&) = delete;

  const std::filesystem::path& root() const { return root_; }

  void write(const std::string& relative, const std::string& content) {
    const std::filesystem::path path = root_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    ASSERT_TRUE(out.good()) << path;
  }

  // Copies stat, meminfo and net/dev of a fixture snapshot into the tree.
  void load(const std::string& name, const std::string& snapshot) {
    const std::filesystem::path from = proc_fixture(name, snapshot);
    ASSERT_TRUE(std::filesystem::exists(from / "stat")) << from << " (set TRAILWATCH_SOURCE_DIR)";
    for (const char* file : {"stat", "meminfo", "net/dev"}) write(file, slurp(from / file));
  }

 private:
  std::filesystem::path root_;
};

}  // namespace tests
