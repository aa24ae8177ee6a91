// tests/support/fs.h - removing a test's temporary folder tree.
//
// Not std::filesystem::remove_all: PyTorch 2.11's libtorch.so (pip wheel)
// exports its own copy of remove_all(path, error_code&), which the dynamic
// linker binds in every program linked against it, and that copy jumps to a
// null pointer (seen on the GPU machine with scripts/gpu_check.sh: SIGSEGV in
// remove_all from libtorch.so). nftw does the same walk with POSIX calls only.
#pragma once

#include <ftw.h>
#include <errno.h>
#include <stdio.h>

#include <string>

namespace nesgd::testing {

// Removes `path` and everything under it (symbolic links as links, never
// followed); a missing path is not an error. Returns false if something
// could not be removed.
inline bool remove_tree(const std::string& path) {
  if (path.empty()) return true;
  const int rc = nftw(
      path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p) == 0 ? 0 : -1; },
      /*nopenfd=*/16, FTW_DEPTH | FTW_PHYS);
  return rc == 0 || errno == ENOENT;
}

}  // namespace nesgd::testing
