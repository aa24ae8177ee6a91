// fuzz/fuzz_support.h - what every fuzz target shares.
//
// The contract a reader is fuzzed against: for any bytes it either succeeds or
// throws nesgd::Error. Any other exception (a std::bad_alloc, a bare
// nlohmann::json type error), an abort, a sanitizer report, a leak or a hang is
// a bug; an escaping exception ends the process through std::terminate, which
// libFuzzer reports as a crash and saves the input.
//
// The readers take file paths, so the input goes into a scratch folder that is
// created once per process on a RAM file system when there is one (a file write
// per execution must not wear a disk or cost a disk's latency) and removed at exit.
#pragma once

#include <ftw.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nesgd/error.h"

namespace nesgd::fuzz {

inline std::string& scratch_root() {
  static std::string root;
  return root;
}

inline void remove_scratch() {
  if (scratch_root().empty()) return;
  nftw(
      scratch_root().c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p) == 0 ? 0 : -1; },
      16, FTW_DEPTH | FTW_PHYS);
}

// The process's scratch folder (created on first use).
inline const std::string& scratch_dir() {
  if (scratch_root().empty()) {
    const char* bases[] = {"/dev/shm", std::getenv("TMPDIR"), "/tmp"};
    for (const char* base : bases) {
      if (base == nullptr || ::access(base, W_OK) != 0) continue;
      std::string name = std::string(base) + "/nesgd-fuzz-XXXXXX";
      if (::mkdtemp(name.data()) != nullptr) {
        scratch_root() = name;
        std::atexit(remove_scratch);
        break;
      }
    }
    if (scratch_root().empty()) {
      std::fprintf(stderr, "fuzz: cannot create a scratch folder in /dev/shm, $TMPDIR or /tmp\n");
      std::abort();
    }
  }
  return scratch_root();
}

// Writes `size` bytes to scratch_dir()/name (replacing it) and returns the path.
inline std::string write_scratch(const std::string& name, const void* data, size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// Runs `body`; nesgd::Error is the reader's documented answer to bad input,
// anything else escapes (and is a finding).
template <typename Body>
void expect_only_nesgd_errors(Body&& body) {
  try {
    body();
  } catch (const nesgd::Error&) {
  }
}

}  // namespace nesgd::fuzz
