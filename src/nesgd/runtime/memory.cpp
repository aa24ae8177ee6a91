#include "nesgd/runtime/memory.h"

#include <climits>
#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "nesgd/error.h"

namespace nesgd::runtime {
namespace {

// mallopt takes an int: the largest trim threshold it accepts. Free memory at
// the top of the heap is returned to the OS only beyond 2 GiB.
constexpr int kRetainTrimThreshold = INT_MAX;

struct Applied {
  std::string policy = "not set";
  bool applied = false;
};

Applied& last() {
  static Applied a;
  return a;
}

}  // namespace

MallocPolicy malloc_policy_from_string(const std::string& s) {
  if (s == "retain") return MallocPolicy::kRetain;
  if (s == "default") return MallocPolicy::kDefault;
  throw Error("unknown heap policy '" + s + "' (NESGD_MALLOC): use retain (keep freed memory, nesgd's default) or " +
              "default (glibc's own settings)");
}

std::string to_string(MallocPolicy p) { return p == MallocPolicy::kRetain ? "retain" : "default"; }

MallocPolicy malloc_policy_from_environment() {
  const char* v = std::getenv("NESGD_MALLOC");
  if (v == nullptr || *v == '\0') return MallocPolicy::kRetain;
  return malloc_policy_from_string(v);
}

bool apply_malloc_policy(MallocPolicy policy) {
  Applied& a = last();
  a.policy = to_string(policy);
  a.applied = false;
  if (policy == MallocPolicy::kDefault) return true;
#if defined(__GLIBC__)
  // Both are needed: setting M_TRIM_THRESHOLD alone also freezes glibc's
  // dynamic mmap threshold at 128 KiB, so every large tensor would be
  // mmapped (measured: slower than the defaults); M_MMAP_MAX = 0 stops mmap.
  a.applied = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, kRetainTrimThreshold) == 1;
#endif
  return a.applied;
}

nlohmann::json describe_malloc() {
  const Applied& a = last();
  nlohmann::json j{{"policy", a.policy}, {"applied", a.applied}};
  if (a.applied) {
    j["mmap_max"] = 0;
    j["trim_threshold"] = kRetainTrimThreshold;
  }
  return j;
}

}  // namespace nesgd::runtime
