// tests/support/limits.h - "this reader never allocates (or writes) more than N bytes".
//
// A reader of hostile files must check sizes before it allocates what a header
// claims, and an unpacker must stop writing at the size it expects. The
// regression tests for that run the code in a forked child under a resource
// limit: the address space capped (RLIMIT_AS) a little above what the process
// already uses, or the size of any file it writes capped (RLIMIT_FSIZE). An
// allocation of the claimed size then fails in the child (std::bad_alloc), and
// a write past the file cap kills it (SIGXFSZ), instead of quietly succeeding
// on a machine with memory and disk to spare.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <new>
#include <string>

#include "nesgd/error.h"

namespace nesgd::testing {

enum class LimitedOutcome {
  kNesgdError = 0,  // the body threw nesgd::Error: the reader refused the input
  kReturned = 1,    // the body returned normally
  kBadAlloc = 2,    // it tried to allocate beyond the cap
  kOtherException = 3,
  kCrashed = 4,     // killed by a signal (SIGXFSZ: wrote beyond the file cap) or an unexpected exit
};

inline std::string to_string(LimitedOutcome o) {
  switch (o) {
    case LimitedOutcome::kNesgdError: return "nesgd::Error";
    case LimitedOutcome::kReturned: return "returned normally";
    case LimitedOutcome::kBadAlloc: return "std::bad_alloc (allocated beyond the cap)";
    case LimitedOutcome::kOtherException: return "another exception";
    default: return "crashed";
  }
}

// Address space in use now (from /proc/self/statm), in bytes.
inline uint64_t address_space_bytes() {
  unsigned long long pages = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%llu", &pages) != 1) pages = 0;
    std::fclose(f);
  }
  return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Runs `body` in a child process under setrlimit(resource, limit) and says how it ended.
template <typename Body>
LimitedOutcome run_with_rlimit(int resource, uint64_t limit, Body body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const struct rlimit cap{static_cast<rlim_t>(limit), static_cast<rlim_t>(limit)};
    if (::setrlimit(resource, &cap) != 0) ::_exit(static_cast<int>(LimitedOutcome::kCrashed));
    int code = static_cast<int>(LimitedOutcome::kReturned);
    try {
      body();
    } catch (const nesgd::Error&) {
      code = static_cast<int>(LimitedOutcome::kNesgdError);
    } catch (const std::bad_alloc&) {
      code = static_cast<int>(LimitedOutcome::kBadAlloc);
    } catch (...) {
      code = static_cast<int>(LimitedOutcome::kOtherException);
    }
    ::_exit(code);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) > static_cast<int>(LimitedOutcome::kOtherException)) {
    return LimitedOutcome::kCrashed;
  }
  return static_cast<LimitedOutcome>(WEXITSTATUS(status));
}

// `body` allowed `headroom` bytes of address space beyond what this process uses now.
template <typename Body>
LimitedOutcome run_with_memory_headroom(uint64_t headroom, Body body) {
  return run_with_rlimit(RLIMIT_AS, address_space_bytes() + headroom, body);
}

// `body` allowed to write files of at most `bytes` each.
template <typename Body>
LimitedOutcome run_with_file_size_limit(uint64_t bytes, Body body) {
  return run_with_rlimit(RLIMIT_FSIZE, bytes, body);
}

}  // namespace nesgd::testing
