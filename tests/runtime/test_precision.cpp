// --precision on this machine: the CPU's bf16 check from /proc/cpuinfo text,
// refusals that name the fix (tf32 on a CPU, bf16 without native bf16), and
// the autocast scope (matrix products in bf16 inside it, float32 outside,
// nested scopes restore the state).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <string>

#include "nesgd/error.h"
#include "nesgd/runtime/cpu_features.h"
#include "nesgd/runtime/precision.h"

using namespace nesgd::runtime;

namespace {

// Two logical CPUs as /proc/cpuinfo lists them; only the first one's lines count.
const char* kCpuinfoWithBf16 =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9654 96-Core Processor\n"
    "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512vl avx512_bf16 avx512_vnni\n\n"
    "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu\n";
const char* kCpuinfoAvx2Only =
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU E5-2690 v4\nflags\t\t: fpu sse2 avx avx2 fma f16c\n";

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const nesgd::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(CpuFeatures, ParsesTheFirstCpusModelAndKernelFlags) {
  const CpuInfo a = parse_cpuinfo(kCpuinfoWithBf16);
  EXPECT_EQ(a.model, "AMD EPYC 9654 96-Core Processor");
  EXPECT_EQ(a.flags, (std::vector<std::string>{"avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl",
                                               "avx512_vnni", "avx512_bf16"}));  // kernel_flags() order
  EXPECT_TRUE(has_native_bf16(a));
  const CpuInfo b = parse_cpuinfo(kCpuinfoAvx2Only);
  EXPECT_EQ(b.flags, (std::vector<std::string>{"avx", "avx2", "fma", "f16c"}));
  EXPECT_FALSE(has_native_bf16(b));
  CpuInfo amx;
  amx.flags = {"amx_bf16"};
  EXPECT_TRUE(has_native_bf16(amx));
  EXPECT_TRUE(parse_cpuinfo("").flags.empty());
}

TEST(Precision, ScalarTypes) {
  EXPECT_EQ(dtype_of_precision("fp32"), torch::kFloat32);
  EXPECT_EQ(dtype_of_precision("tf32"), torch::kFloat32);
  EXPECT_EQ(dtype_of_precision("bf16"), torch::kFloat32);  // weights and optimizer state stay float32
  EXPECT_EQ(dtype_of_precision("fp64"), torch::kFloat64);
  EXPECT_THROW(dtype_of_precision("fp16"), nesgd::Error);
}

TEST(Precision, RefusalsNameTheProblemAndTheFix) {
  const CpuInfo with_bf16 = parse_cpuinfo(kCpuinfoWithBf16), avx2 = parse_cpuinfo(kCpuinfoAvx2Only);
  for (const char* p : {"fp32", "fp64"}) {
    EXPECT_NO_THROW(check_precision(p, torch::kCPU, avx2)) << p;
  }
  EXPECT_NO_THROW(check_precision("bf16", torch::kCPU, with_bf16));
  const std::string bf16 = message_of([&] { check_precision("bf16", torch::kCPU, avx2); });
  EXPECT_NE(bf16.find("AVX512-BF16"), std::string::npos) << bf16;
  EXPECT_NE(bf16.find("E5-2690"), std::string::npos) << "names the CPU: " << bf16;
  EXPECT_NE(bf16.find("--precision fp32"), std::string::npos) << bf16;
  const std::string tf32 = message_of([&] { check_precision("tf32", torch::kCPU, with_bf16); });
  EXPECT_NE(tf32.find("NVIDIA GPU"), std::string::npos) << tf32;
  EXPECT_NE(tf32.find("bf16"), std::string::npos) << "suggests bf16 where the CPU has it: " << tf32;
  EXPECT_EQ(message_of([&] { check_precision("tf32", torch::kCPU, avx2); }).find("bf16"), std::string::npos)
      << "and not where it has not";
  EXPECT_FALSE(message_of([&] { check_precision("half", torch::kCPU, with_bf16); }).empty());
}

// Autocast works on any CPU (it only casts); only its speed needs native bf16.
TEST(Precision, AutocastScopeRunsMatrixProductsInBf16AndRestores) {
  const auto a = torch::randn({8, 16}), b = torch::randn({16, 4});
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  {
    AutocastScope scope("bf16", torch::kCPU);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    {
      AutocastScope inner("bf16", torch::kCPU);
      EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    }
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16) << "the inner scope must not switch it off";
    // The product is bf16 arithmetic on bf16-rounded inputs: close to float32's, not equal.
    const auto exact = torch::mm(a.to(torch::kFloat64), b.to(torch::kFloat64));
    const auto got = torch::mm(a, b).to(torch::kFloat64);
    EXPECT_LT((got - exact).abs().max().item<double>(), 0.2);
    EXPECT_GT((got - exact).abs().max().item<double>(), 1e-4);
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32);
  for (const char* p : {"fp32", "fp64", "tf32"}) {
    AutocastScope none(p, torch::kCPU);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat32) << p;
  }
}
