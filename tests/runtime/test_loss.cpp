// The one loss (runtime/loss.h): the cross-entropy of every site, a pack's
// per-member form, and the forward pass under the run's precision.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nesgd/models/network.h"
#include "nesgd/runtime/cpu_features.h"
#include "nesgd/runtime/loss.h"
#include "nesgd/runtime/precision.h"
#include "support/compare.h"

using namespace nesgd::runtime;

namespace {

const auto kF64 = torch::dtype(torch::kFloat64);

}  // namespace

// logits (0, ln 3) with label 1: softmax (1/4, 3/4), loss ln(4/3); label 0: ln 4.
TEST(Loss, CrossEntropyOfHandWorkedLogits) {
  const auto logits = torch::tensor({0.0, std::log(3.0), 0.0, std::log(3.0)}, kF64).view({2, 2});
  const auto labels = torch::tensor({1, 0}, torch::kInt64);
  const double l1 = std::log(4.0 / 3.0), l0 = std::log(4.0);
  EXPECT_NEAR(cross_entropy(logits, labels).item<double>(), 0.5 * (l1 + l0), nesgd::testing::kExact);
  EXPECT_NEAR(cross_entropy(logits, labels, Reduction::kSum).item<double>(), l1 + l0, nesgd::testing::kExact);
  // Two pack members: the first those two samples, the second two samples of equal
  // logits (loss ln 2 each): [K] means and sums, each over its own member's samples.
  const auto stacked = torch::stack({logits, torch::zeros({2, 2}, kF64)});
  const auto member_labels = torch::stack({labels, labels});
  const auto means = member_cross_entropy(stacked, member_labels);
  ASSERT_EQ(means.sizes(), torch::IntArrayRef({2}));
  EXPECT_NEAR(means[0].item<double>(), 0.5 * (l1 + l0), nesgd::testing::kExact);
  EXPECT_NEAR(means[1].item<double>(), std::log(2.0), nesgd::testing::kExact);
  const auto sums = member_cross_entropy(stacked, member_labels, Reduction::kSum);
  EXPECT_NEAR(sums[0].item<double>(), l1 + l0, nesgd::testing::kExact);
  EXPECT_NEAR(sums[1].item<double>(), 2.0 * std::log(2.0), nesgd::testing::kExact);
}

// Every training loss goes through batch_loss, which runs the forward pass under
// the run's precision: under bf16 the loss is the autocast forward's, bit for bit,
// and not float32's. A run refuses bf16 on a CPU without native bf16 (oneDNN's bf16
// products need it), so the test needs one too.
TEST(Loss, BatchLossRunsTheForwardUnderTheRunsPrecision) {
  if (!has_native_bf16(this_cpu())) GTEST_SKIP() << "this CPU has no native bf16 (AVX512-BF16 or AMX)";
  torch::manual_seed(0);
  auto net = nesgd::models::make_model({"f1", 1, 28, 28, 10}, 7);
  const auto x = torch::rand({16, 1, 28, 28});
  const auto y = torch::randint(0, 10, {16}, torch::kInt64);
  const double fp32 = batch_loss(*net, x, y, "fp32", torch::kCPU).item<double>();
  EXPECT_EQ(fp32, cross_entropy(net->forward(x), y).item<double>());
  double reference = 0.0;
  {
    AutocastScope autocast("bf16", torch::kCPU);
    reference = cross_entropy(net->forward(x), y).item<double>();
  }
  const double bf16 = batch_loss(*net, x, y, "bf16", torch::kCPU).item<double>();
  EXPECT_EQ(bf16, reference);
  EXPECT_NE(bf16, fp32) << "bf16 products round differently from float32's";
  EXPECT_NEAR(bf16, fp32, 0.05);
}
