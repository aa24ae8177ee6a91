// The one-pass Adam kernel (optim/fused_adam.h) against LibTorch's operations:
// KerasAdam fused against KerasAdam written as LibTorch operations, the kernel
// with LibTorch's coefficients against torch::optim::Adam, in float and
// double over many steps of a real gradient stream; a non-contiguous
// parameter falls back; several threads give the single thread's result.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <vector>

#include "nesgd/optim/fused_adam.h"
#include "nesgd/optim/keras_adam.h"

using nesgd::optim::KerasAdam;
using nesgd::optim::KerasAdamOptions;

namespace {

// A small least-squares problem whose gradients change every step (a fresh
// batch each time, from a fixed generator), so the moments see varied values.
struct Problem {
  torch::ScalarType dtype;
  torch::Tensor w;  // [rows, cols], with gradient
  explicit Problem(torch::ScalarType dt, int64_t rows = 300, int64_t cols = 257) : dtype(dt) {
    torch::manual_seed(7);
    w = torch::randn({rows, cols}, torch::dtype(dt)).mul_(0.1).requires_grad_(true);
  }
  void gradient(int64_t step) {
    torch::NoGradGuard no_grad;
    auto gen = torch::make_generator<torch::CPUGeneratorImpl>(1000 + static_cast<uint64_t>(step));
    const auto x = torch::randn({16, w.size(1)}, gen, torch::dtype(dtype));
    const auto y = torch::randn({16, w.size(0)}, gen, torch::dtype(dtype));
    // d/dw of |x w^T - y|^2 / 2 = (x w^T - y)^T x
    w.mutable_grad() = (x.matmul(w.t()) - y).t().matmul(x);
  }
};

// Elementwise, each difference relative to its own reference value (floored at 1e-3):
// stricter than support/compare.h's max-norm form where the reference has small entries.
double max_elementwise_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs() / (b.abs() + 1e-3)).max().item<double>();
}

// float: a few ulps per step, fed back through 100 steps' gradients (measured 3e-5); double: ~1e-15
// per step. A wrong coefficient or a missed term shows at 1e-3 and more within a few steps.
double tolerance(torch::ScalarType dt) { return dt == torch::kFloat32 ? 1e-4 : 1e-12; }

}  // namespace

class FusedAdam : public ::testing::TestWithParam<torch::ScalarType> {};

TEST_P(FusedAdam, KerasAdamFusedEqualsItsLibTorchOperations) {
  const auto dt = GetParam();
  Problem fused(dt), ops(dt);
  KerasAdam opt_fused({fused.w}, KerasAdamOptions(1e-2).fused(true));
  KerasAdam opt_ops({ops.w}, KerasAdamOptions(1e-2).fused(false));
  for (int64_t step = 0; step < 100; ++step) {
    fused.gradient(step);
    ops.gradient(step);
    opt_fused.step();
    opt_ops.step();
  }
  const double diff = max_elementwise_rel_diff(fused.w, ops.w);
  EXPECT_LT(diff, tolerance(dt));
  // And the two moved: a kernel that did nothing would not pass the line above,
  // unless both did nothing.
  Problem start(dt);
  EXPECT_GT((ops.w - start.w).abs().max().item<double>(), 0.1);
}

TEST_P(FusedAdam, KernelWithLibTorchCoefficientsEqualsTorchAdam) {
  const auto dt = GetParam();
  Problem ours(dt), theirs(dt);
  torch::optim::Adam adam({theirs.w}, torch::optim::AdamOptions(1e-2).betas({0.9, 0.999}).eps(1e-8));
  torch::Tensor m = torch::zeros_like(ours.w), v = torch::zeros_like(ours.w);
  for (int64_t step = 1; step <= 100; ++step) {
    ours.gradient(step);
    theirs.gradient(step);
    adam.step();
    torch::NoGradGuard no_grad;
    torch::Tensor p = ours.w.detach();
    const auto c = nesgd::optim::torch_adam_coefficients(1e-2, 0.9, 0.999, 1e-8, step);
    ASSERT_TRUE(nesgd::optim::fused_adam_step(p, ours.w.grad(), m, v, c));
  }
  EXPECT_LT(max_elementwise_rel_diff(ours.w, theirs.w), tolerance(dt));
}

INSTANTIATE_TEST_SUITE_P(Types, FusedAdam, ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const auto& info) { return info.param == torch::kFloat32 ? "float" : "double"; });

// Hand-worked, one step of Keras's formula on three elements (float):
// lr_t = 0.1 sqrt(0.001) / 0.1 = 0.0316227766; m = 0.1 g; v = 0.001 g^2;
// p -= lr_t * 0.1 g / (sqrt(0.001) |g| + 1e-7) = p - 0.1 sign(g) * 0.0316227766 / (0.0316227766 + 1e-7 / |g|).
// g = 2:  p = 1 - 0.1 * 0.0316227766 / 0.0316228266 = 1 - 0.0999998419 = 0.9000001581
// g = -1: p = 0 + 0.1 * 0.0316227766 / 0.0316228766 = 0.0999996838
// g = 0:  m = v = 0, p unchanged = 5
TEST(FusedAdamKernel, OneStepWorkedByHand) {
  std::vector<float> p{1.0f, 0.0f, 5.0f}, g{2.0f, -1.0f, 0.0f}, m(3, 0.0f), v(3, 0.0f);
  const auto c = nesgd::optim::keras_adam_coefficients(0.1, 0.9, 0.999, 1e-7, 1);
  EXPECT_NEAR(c.step_size, 0.0316227766016838, 1e-15);
  nesgd::optim::fused_adam_update(p.data(), g.data(), m.data(), v.data(), 3, c);
  EXPECT_NEAR(p[0], 0.9000001581, 2e-7);
  EXPECT_NEAR(p[1], 0.0999996838, 2e-8);
  EXPECT_EQ(p[2], 5.0f);
  EXPECT_NEAR(m[0], 0.2f, 1e-7);
  EXPECT_NEAR(v[1], 0.001f, 1e-10);
}

// A transposed (non-contiguous) parameter takes LibTorch's operations and
// lands where the fused contiguous twin does.
TEST(FusedAdamKernel, NonContiguousFallsBackToTheSameUpdate) {
  Problem contiguous(torch::kFloat64), strided(torch::kFloat64);
  torch::Tensor wt = strided.w.detach().t().contiguous().t().requires_grad_(true);  // same values, transposed strides
  ASSERT_FALSE(wt.is_contiguous());
  torch::Tensor m = torch::zeros_like(wt), v = torch::zeros_like(wt);
  torch::Tensor p = wt.detach();
  EXPECT_FALSE(nesgd::optim::fused_adam_step(p, torch::zeros_like(wt), m, v, {}));
  strided.w = wt;  // its gradients now land on wt
  KerasAdam a({contiguous.w}), b({wt});
  for (int64_t step = 0; step < 20; ++step) {
    contiguous.gradient(step);
    strided.gradient(step);
    a.step();
    b.step();
  }
  EXPECT_LT(max_elementwise_rel_diff(wt, contiguous.w), 1e-12);
}

// Above 64k elements the update is split over ATen's threads: bit for bit the
// single thread's result (each element's arithmetic is the same).
TEST(FusedAdamKernel, ThreadsGiveTheSingleThreadResult) {
  const int before = torch::get_num_threads();
  std::vector<torch::Tensor> results;
  for (int threads : {1, 2}) {
    torch::set_num_threads(threads);
    Problem prob(torch::kFloat32, 600, 500);  // 300,000 elements
    KerasAdam opt({prob.w});
    for (int64_t step = 0; step < 5; ++step) {
      prob.gradient(step);
      opt.step();
    }
    results.push_back(prob.w.detach().clone());
  }
  torch::set_num_threads(before);
  EXPECT_TRUE(torch::equal(results[0], results[1]));
}
