// nesgd/runtime/memory.h - how the process's heap treats the large buffers of training.
//
// Training frees and re-allocates the same large tensors (activations,
// gradients) every step. glibc's malloc, left at its defaults, serves each
// buffer above its mmap threshold (128 KiB, rising to at most 32 MiB) with a
// fresh mmap and trims freed heap memory back to the OS, so every step touches
// hundreds of MB of new pages: C1 at B = 100 took about 80,000 page faults per
// step, and on this project's VM the faults cost about half of the step
// (docs/PERFORMANCE.md, "Heap policy"). The "retain" policy keeps freed
// memory in the process for reuse: no mmap for allocations (M_MMAP_MAX = 0)
// and no trimming below 2 GiB of free heap top (M_TRIM_THRESHOLD). The price:
// the resident size stays at the run's peak instead of shrinking between steps.
//
// The policy is process-wide; `nesgd` and `nesgd_bench` apply it once at start.
// NESGD_MALLOC=default in the environment keeps glibc's defaults (as does a
// non-glibc C library). Torch-free.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nesgd::runtime {

enum class MallocPolicy {
  kRetain,   // keep freed memory for reuse (nesgd's default)
  kDefault,  // glibc's defaults
};

// "retain" | "default" -> policy; anything else: nesgd::Error naming both.
MallocPolicy malloc_policy_from_string(const std::string& s);
std::string to_string(MallocPolicy p);

// The policy NESGD_MALLOC asks for, or kRetain where it is unset or empty.
MallocPolicy malloc_policy_from_environment();

// Applies `policy` to this process's malloc (mallopt) and remembers it for
// describe_malloc(). Returns false where the C library refused or is not
// glibc (then nothing changed). kDefault changes nothing.
bool apply_malloc_policy(MallocPolicy policy);

// What apply_malloc_policy last did, for run records: {"policy": "retain" |
// "default" | "not set", "applied": bool, "mmap_max": ..., "trim_threshold": ...}.
nlohmann::json describe_malloc();

}  // namespace nesgd::runtime
