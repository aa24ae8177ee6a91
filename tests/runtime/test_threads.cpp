// Thread settings: what is asked is what is in effect, with either OpenBLAS
// build, and the measured defaults stay within the machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "nesgd/runtime/cpu_features.h"
#include "nesgd/runtime/threads.h"
#include "support/cli.h"

using namespace nesgd::runtime;

TEST(Threads, ExplicitSettingsTakeEffect) {
  // Every combination, in an order where each one differs from the last in
  // ATen threads, BLAS threads or both. With the OpenMP build of OpenBLAS,
  // openblas_set_num_threads also sets ATen's OpenMP count: applying BLAS
  // after ATen would leave ATen at the BLAS count (e.g. {2, 1} -> ATen 1).
  const ThreadSettings cases[] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}, {1, 1}};
  for (const auto& asked : cases) {
    const ThreadSettings applied = apply_threads("f1", asked);
    EXPECT_EQ(applied.aten, asked.aten);
    EXPECT_EQ(applied.blas, asked.blas);
    const auto j = describe_threads();
    EXPECT_EQ(j["aten_threads"].get<int>(), asked.aten) << "asked ATen " << asked.aten << ", BLAS " << asked.blas;
    if (j["blas_threads"].get<int>() == -1) continue;  // not OpenBLAS: nothing to check on that side
    EXPECT_EQ(j["blas_threads"].get<int>(), asked.blas) << "asked ATen " << asked.aten << ", BLAS " << asked.blas;
  }
}

TEST(Threads, OpenBlasIsLinked) {
  const auto j = describe_threads();
  if (j["blas_threads"].get<int>() == -1) GTEST_SKIP() << "BLAS is not OpenBLAS here: " << j["blas"];
  EXPECT_NE(j["blas"].get<std::string>().find("OpenBLAS"), std::string::npos);
}

TEST(Threads, ZerosMeanTheMeasuredDefault) {
  const ThreadSettings d = default_threads("f1", hardware_cores());
  const ThreadSettings applied = apply_threads("f1", {0, 0});
  EXPECT_EQ(applied.aten, d.aten);
  EXPECT_EQ(applied.blas, d.blas);
  const ThreadSettings half = apply_threads("f1", {0, 1});  // one given, the other defaulted
  EXPECT_EQ(half.aten, d.aten);
  EXPECT_EQ(half.blas, 1);
}

TEST(Threads, DefaultsStayWithinTheCores) {
  for (const std::string model : {"f1", "c1", "c2"}) {
    for (int cores = 1; cores <= 16; ++cores) {
      const ThreadSettings d = default_threads(model, cores);
      EXPECT_GE(d.aten, 1) << model << " on " << cores << " cores";
      EXPECT_GE(d.blas, 1) << model << " on " << cores << " cores";
      EXPECT_LE(d.aten, cores) << model << " on " << cores << " cores";
      EXPECT_LE(d.blas, cores) << model << " on " << cores << " cores";
    }
  }
}

// default_threads reads OMP_WAIT_POLICY at each call; this sets it for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

TEST(Threads, BlasBuildIsTheLoadedOpenBlas) {
  const std::string config = describe_threads()["blas"].get<std::string>();
  // describe_threads says "OpenBLAS <config>", or "unknown (not OpenBLAS)" (e.g. PyTorch's MKL LibTorch).
  if (config.rfind("OpenBLAS ", 0) != 0) GTEST_SKIP() << "BLAS is not OpenBLAS here: " << config;
  EXPECT_EQ(blas_build() == BlasBuild::kOpenMp, config.find("USE_OPENMP") != std::string::npos) << config;
  EXPECT_NE(blas_build(), BlasBuild::kNotOpenBlas);
}

TEST(Threads, F1UnderOpenBlasOpenMpTakesEveryCoreInTheOnePool) {
  // There OpenBLAS runs at ATen's width: ATen at 1 would leave the GEMMs on one core.
  // The same for a BLAS that is not OpenBLAS (MKL in PyPI's LibTorch runs on ATen's pool).
  for (BlasBuild build : {BlasBuild::kOpenMp, BlasBuild::kNotOpenBlas}) {
    for (int cores : {1, 2, 8}) {
      const ThreadSettings d = default_threads("f1", cores, build);
      EXPECT_EQ(d.aten, cores);
      EXPECT_EQ(d.blas, cores);
    }
  }
}

TEST(Threads, F1PolicyFollowsTheOpenMpWaitPolicy) {
  // docs/PERFORMANCE.md, "Thread settings": with the pthread OpenBLAS, BLAS gets
  // every core; ATen gets them too only when its OpenMP workers sleep between regions.
  {
    ScopedEnv env("OMP_WAIT_POLICY", nullptr);
    const ThreadSettings d = default_threads("f1", 2, BlasBuild::kPthreads);
    EXPECT_EQ(d.aten, 1);
    EXPECT_EQ(d.blas, 2);
  }
  {
    ScopedEnv env("OMP_WAIT_POLICY", "active");
    EXPECT_EQ(default_threads("f1", 2, BlasBuild::kPthreads).aten, 1);
  }
  {
    ScopedEnv env("OMP_WAIT_POLICY", "PASSIVE");  // OpenMP matches the value case-insensitively
    const ThreadSettings d = default_threads("f1", 2, BlasBuild::kPthreads);
    EXPECT_EQ(d.aten, 2);
    EXPECT_EQ(d.blas, 2);
  }
}

TEST(Threads, OversubscriptionIsWarnedOfOnlyWhereBothPoolsCompete) {
  // The case measured slow: ATen 2 + OpenBLAS 2 (pthread build) on 2 cores, workers spinning.
  const std::string w = oversubscription_warning({2, 2}, 2, BlasBuild::kPthreads, false);
  EXPECT_NE(w.find("ATen 2 threads and OpenBLAS 2 threads on 2 cores"), std::string::npos) << w;
  EXPECT_NE(w.find("--threads"), std::string::npos) << w;
  // Within the cores, one pool single-threaded, sleeping workers, or one shared pool: fine.
  EXPECT_EQ(oversubscription_warning({2, 2}, 4, BlasBuild::kPthreads, false), "");
  EXPECT_EQ(oversubscription_warning({1, 2}, 2, BlasBuild::kPthreads, false), "");  // F1's default
  EXPECT_EQ(oversubscription_warning({2, 1}, 2, BlasBuild::kPthreads, false), "");  // C1's default
  EXPECT_EQ(oversubscription_warning({2, 2}, 2, BlasBuild::kPthreads, true), "");
  EXPECT_EQ(oversubscription_warning({2, 2}, 2, BlasBuild::kOpenMp, false), "");
  EXPECT_EQ(oversubscription_warning({2, 2}, 2, BlasBuild::kNotOpenBlas, false), "");
  EXPECT_NE(oversubscription_warning({3, 2}, 4, BlasBuild::kPthreads, false), "");
}

TEST(Threads, TheMeasuredDefaultsAreNeverWarnedOf) {
  for (const std::string model : {"f1", "c1", "c2"}) {
    EXPECT_EQ(oversubscription_warning(model, {0, 0}), "") << model;
  }
}

// Where the oversubscription warning applies: OpenBLAS's pthread build, spinning OpenMP workers, 2+ cores.
bool pools_can_compete(int cores) {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  return cores >= 2 && blas_build() == BlasBuild::kPthreads && !(policy && std::string(policy) == "passive");
}
constexpr const char* kNoCompetingPools =
    "the warning concerns OpenBLAS's pthread build with spinning OpenMP workers on 2+ cores";

TEST(ThreadsCli, ThreadCountsThatOversubscribeTheCoresAreWarnedOf) {
  const int cores = hardware_cores();
  if (!pools_can_compete(cores)) GTEST_SKIP() << kNoCompetingPools;
  // The warning comes before the data is read, so a missing data folder is enough to see it.
  const std::string c = std::to_string(cores);
  auto r = nesgd::testing::run_nesgd("train --threads " + c + " --blas-threads " + c + " --offline --data-dir /nonexistent/place");
  EXPECT_NE(r.output.find("warning: ATen " + c + " threads and OpenBLAS " + c + " threads on " + c + " cores"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("OMP_WAIT_POLICY=passive"), std::string::npos) << r.output;  // says the way out
  r = nesgd::testing::run_nesgd("train --offline --data-dir /nonexistent/place");  // the measured defaults: no warning
  EXPECT_EQ(r.output.find("threads and OpenBLAS"), std::string::npos) << r.output;
  r = nesgd::testing::run_nesgd("train --threads 1 --blas-threads " + c + " --offline --data-dir /nonexistent/place");
  EXPECT_EQ(r.output.find("threads and OpenBLAS"), std::string::npos) << r.output;
}

TEST(Threads, KernelsOlderThanAvx2OnAnAvx2CpuAreWarnedOfWithTheFix) {
  const std::vector<std::string> avx2{"avx", "avx2", "fma"};
  const std::vector<std::string> avx512{"avx", "avx2", "fma", "avx512f"};
  const std::string w = blas_kernel_warning("Prescott", avx2);
  EXPECT_NE(w.find("OpenBLAS runs its Prescott kernels"), std::string::npos) << w;
  EXPECT_NE(w.find("OPENBLAS_CORETYPE=Haswell"), std::string::npos) << w;
  EXPECT_NE(blas_kernel_warning("SANDYBRIDGE", avx512).find("OPENBLAS_CORETYPE=SkylakeX"), std::string::npos);
  EXPECT_NE(blas_kernel_warning("Nehalem", avx2), "");
  EXPECT_EQ(blas_kernel_warning("Haswell", avx2), "");       // AVX2 kernels
  EXPECT_EQ(blas_kernel_warning("SkylakeX", avx512), "");
  EXPECT_EQ(blas_kernel_warning("Zen", avx2), "");
  EXPECT_EQ(blas_kernel_warning("Prescott", {"avx"}), "");  // no AVX2 to miss
  EXPECT_EQ(blas_kernel_warning("", avx2), "");             // not OpenBLAS
}

TEST(Threads, RecordsNameTheOpenBlasKernels) {
  if (blas_build() == BlasBuild::kNotOpenBlas) GTEST_SKIP() << "not OpenBLAS";
  const auto j = describe_threads();
  EXPECT_EQ(j.at("blas_core").get<std::string>(), blas_core());
  EXPECT_FALSE(blas_core().empty());
  EXPECT_TRUE(j.contains("openblas_coretype_env"));
}

// OpenBLAS's runtime-dispatching builds (Debian's) take OPENBLAS_CORETYPE at
// load: forced to its generic kernels on an AVX2 CPU, the CLI says so and how
// to fix it; with AVX2 kernels it does not.
TEST(ThreadsCli, GenericOpenBlasKernelsOnAnAvx2CpuAreWarnedOf) {
  const auto flags = this_cpu().flags;
  if (std::find(flags.begin(), flags.end(), "avx2") == flags.end()) GTEST_SKIP() << "the CPU has no AVX2";
  if (blas_build() == BlasBuild::kNotOpenBlas) GTEST_SKIP() << "not OpenBLAS";
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = before ? before : "";
  setenv("OPENBLAS_CORETYPE", "Prescott", 1);
  const auto slow = nesgd::testing::run_nesgd("train --offline --data-dir /nonexistent/place");
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  const auto fast = nesgd::testing::run_nesgd("train --offline --data-dir /nonexistent/place");
  if (before) {
    setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
  } else {
    unsetenv("OPENBLAS_CORETYPE");
  }
  EXPECT_NE(slow.output.find("warning: OpenBLAS runs its Prescott kernels"), std::string::npos) << slow.output;
  EXPECT_EQ(fast.output.find("OpenBLAS runs its"), std::string::npos) << fast.output;
}

// A sweep says it once, however many of its runs share the settings, and still runs them.
TEST(ThreadsCli, ASweepWarnsOnceOfThreadCountsThatOversubscribeTheCores) {
  const int cores = hardware_cores();
  if (!pools_can_compete(cores)) GTEST_SKIP() << kNoCompetingPools;
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  nesgd::testing::TempDir tmp;
  const std::string c = std::to_string(cores);
  const auto r = nesgd::testing::run_nesgd("sweep --store '" + tmp.path() + "/store' --configs f1 --train-subset 200 "
                                           "--batch-sizes 100 --alphas 1,1.5 --seeds 1 --max-iterations 2 --threads " +
                                           c + " --blas-threads " + c + " --data-dir '" + root + "' --offline");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string w = "warning: ATen " + c + " threads and OpenBLAS " + c + " threads";
  const size_t first = r.output.find(w);
  ASSERT_NE(first, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(w, first + 1), std::string::npos) << "said more than once: " << r.output;
  EXPECT_NE(r.output.find("2 not converged"), std::string::npos) << "both runs ran: " << r.output;
}
