// Thread settings: what is asked is what is in effect, with either OpenBLAS
// build, and the measured defaults stay within the machine.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "nesgd/runtime/threads.h"

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
