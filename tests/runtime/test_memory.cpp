// The heap policy (nesgd/runtime/memory.h): "retain" must hand a freed large
// buffer back without the kernel faulting its pages in again; glibc's
// defaults do not. mallopt is process-wide, so the default-policy side is
// measured in a forked child before this process applies "retain".
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "nesgd/error.h"
#include "nesgd/runtime/memory.h"
#include "support/cli.h"

using namespace nesgd::runtime;

namespace {

constexpr size_t kBufferBytes = size_t{64} << 20;  // 64 MiB: above glibc's largest dynamic mmap threshold (32 MiB)

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Allocates, touches and frees a large buffer, then does it again and
// returns the page faults of the second round only.
long faults_of_reused_buffer() {
  auto touch_once = [] {
    auto* p = static_cast<volatile unsigned char*>(std::malloc(kBufferBytes));
    if (p == nullptr) return false;
    for (size_t i = 0; i < kBufferBytes; i += 4096) p[i] = static_cast<unsigned char>(i);
    std::free(const_cast<unsigned char*>(p));
    return true;
  };
  if (!touch_once()) return -1;
  const long before = minor_faults();
  if (!touch_once()) return -1;
  return minor_faults() - before;
}

}  // namespace

TEST(Malloc, PolicyNamesParseAndBadOnesAreExplained) {
  EXPECT_EQ(malloc_policy_from_string("retain"), MallocPolicy::kRetain);
  EXPECT_EQ(malloc_policy_from_string("default"), MallocPolicy::kDefault);
  EXPECT_EQ(to_string(MallocPolicy::kRetain), "retain");
  try {
    malloc_policy_from_string("jemalloc");
    FAIL() << "no error";
  } catch (const nesgd::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("jemalloc"), std::string::npos) << m;
    EXPECT_NE(m.find("retain"), std::string::npos) << m;
    EXPECT_NE(m.find("NESGD_MALLOC"), std::string::npos) << m;
  }
}

TEST(Malloc, EnvironmentSelectsThePolicyAndRetainIsTheDefault) {
  unsetenv("NESGD_MALLOC");
  EXPECT_EQ(malloc_policy_from_environment(), MallocPolicy::kRetain);
  setenv("NESGD_MALLOC", "default", 1);
  EXPECT_EQ(malloc_policy_from_environment(), MallocPolicy::kDefault);
  setenv("NESGD_MALLOC", "", 1);
  EXPECT_EQ(malloc_policy_from_environment(), MallocPolicy::kRetain);
  setenv("NESGD_MALLOC", "nonsense", 1);
  EXPECT_THROW(malloc_policy_from_environment(), nesgd::Error);
  unsetenv("NESGD_MALLOC");
}

TEST(Malloc, RetainReusesAFreedLargeBufferWithoutPageFaults) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "not glibc: the policy changes nothing here";
#endif
  const long pages = static_cast<long>(kBufferBytes / 4096);
  // glibc's defaults, in a child that has never called mallopt.
  int fd[2];
  ASSERT_EQ(pipe(fd), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fd[0]);
    apply_malloc_policy(MallocPolicy::kDefault);
    const long f = faults_of_reused_buffer();
    ssize_t ignored = write(fd[1], &f, sizeof(f));
    (void)ignored;
    _exit(0);
  }
  close(fd[1]);
  long default_faults = -1;
  ASSERT_EQ(read(fd[0], &default_faults, sizeof(default_faults)), static_cast<ssize_t>(sizeof(default_faults)));
  close(fd[0]);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_GE(default_faults, 0);

  ASSERT_TRUE(apply_malloc_policy(MallocPolicy::kRetain));
  const long retain_faults = faults_of_reused_buffer();
  ASSERT_GE(retain_faults, 0);
  // Defaults: the 64 MiB buffer is a fresh mmap each time, every page faults
  // again (fewer if the kernel backs it with huge pages). Retain: the freed
  // buffer comes back from the heap, its pages still mapped.
  EXPECT_LT(retain_faults, pages / 100) << "retain: " << retain_faults << " faults for " << pages << " pages";
  EXPECT_LT(retain_faults, std::max<long>(default_faults / 10, 1))
      << "retain " << retain_faults << " vs default " << default_faults;

  const auto j = describe_malloc();
  EXPECT_EQ(j["policy"], "retain");
  EXPECT_EQ(j["applied"], true);
  EXPECT_EQ(j["mmap_max"], 0);
}

TEST(Malloc, TheCliRefusesAnUnknownPolicyByName) {
  setenv("NESGD_MALLOC", "tcmalloc", 1);  // inherited by the child shell
  const auto r = nesgd::testing::run_nesgd("--version");
  unsetenv("NESGD_MALLOC");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("unknown heap policy 'tcmalloc' (NESGD_MALLOC)"), std::string::npos) << r.output;
}
