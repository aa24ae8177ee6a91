// Positive-Negative Momentum (optim/pnm.h) against its formulas worked by hand:
// PNM on a two-parameter toy over three steps (both buffers used, each in turn), AdaPNM on
// one parameter with gradients 10, 0, 1 (the second step keeps v_max, AMSGrad's maximum),
// the paper's normalisation sqrt((1 + beta0)^2 + beta0^2) rather than the public code's slip
// with beta2, and save -> load -> step equal to the uninterrupted run.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

#include <torch/torch.h>

#include "nesgd/error.h"
#include "nesgd/optim/optimizers.h"
#include "nesgd/optim/pnm.h"
#include "support/compare.h"

namespace pnm_test {

using nesgd::testing::kExact;

torch::Tensor f64_param(const std::vector<double>& values) {
  return torch::tensor(values, torch::TensorOptions().dtype(torch::kFloat64)).requires_grad_(true);
}

// The toy: w = (a, b) = (1, -2), L(w) = a^2 / 2 + 3 b, so g = (a, 3).
void toy_step(torch::optim::Optimizer& opt, const torch::Tensor& w) {
  opt.zero_grad();
  (0.5 * w[0] * w[0] + 3.0 * w[1]).backward();
  opt.step();
}

// One step of `opt` on parameter p with the gradient g set by hand.
void step_with(torch::optim::Optimizer& opt, const torch::Tensor& p, double g) {
  opt.zero_grad();
  p.mutable_grad() = torch::full_like(p, g);
  opt.step();
}

double value(const torch::Tensor& w, int64_t i) { return w[i].item<double>(); }

// lr 0.1, beta1 0.9 (beta1^2 = 0.81), beta0 1 (normalisation sqrt(5)). By hand:
// t = 1: m_odd = 0.19 (1, 3); p = 2 m_odd / sqrt5 = (0.38, 1.14) / sqrt5; w = (1, -2) - 0.1 p
//        = (0.98300588337100, -2.05098234988700).
// t = 2: g = (a_1, 3); m_even = 0.19 g; p = (2 m_even - m_odd) / sqrt5 = ((0.38 a_1 - 0.19), 0.57) / sqrt5.
// t = 3: m_odd = 0.81 m_odd + 0.19 (a_2, 3); p = (2 m_odd - m_even) / sqrt5.
TEST(PNM, ThreeStepsOfTheToyMatchTheHandWorkedUpdate) {
  const torch::Tensor w = f64_param({1.0, -2.0});
  PNM opt({w}, PNMOptions(0.1));
  toy_step(opt, w);
  EXPECT_NEAR(value(w, 0), 0.9830058833710016, kExact);
  EXPECT_NEAR(value(w, 1), -2.0509823498869952, kExact);
  toy_step(opt, w);
  EXPECT_NEAR(value(w, 0), 0.9747976250565024, kExact);
  EXPECT_NEAR(value(w, 1), -2.076473524830493, kExact);
  toy_step(opt, w);
  EXPECT_NEAR(value(w, 0), 0.952819224371632, kExact);
  EXPECT_NEAR(value(w, 1), -2.1432604031824565, kExact);
}

// beta0 = 0: each buffer is heavy-ball momentum over every second step, no negative term.
TEST(PNM, BetaZeroIsMomentumOfAlternateSteps) {
  const torch::Tensor w = f64_param({0.0});
  PNM opt({w}, PNMOptions(1.0).beta0(0.0));
  step_with(opt, w, 2.0);  // m_odd = 0.38
  EXPECT_NEAR(value(w, 0), -0.38, kExact);
  step_with(opt, w, 1.0);  // m_even = 0.19
  EXPECT_NEAR(value(w, 0), -0.57, kExact);
  step_with(opt, w, 0.0);  // m_odd = 0.81 * 0.38
  EXPECT_NEAR(value(w, 0), -0.57 - 0.81 * 0.38, kExact);
}

// AdaPNM, lr 0.1, beta1 0.9, beta2 0.999, beta0 1, eps 1e-8, w = 0.5, gradients 10, 0, 1. By hand:
// t = 1: m_odd = 1.9, v = 0.1 = v_max, denominator sqrt(0.1) / sqrt(0.001) + eps = 10 + 1e-8,
//        step lr / (1 - 0.9) = 1: w = 0.5 - (3.8 / sqrt5) / (10 + 1e-8) = 0.33005883387995705.
// t = 2: g = 0: m_even = 0, v = 0.0999 < v_max = 0.1 (kept), p = -1.9 / sqrt5,
//        w += (0.1 / 0.19) (1.9 / sqrt5) / (sqrt(0.1) / sqrt(1 - 0.999^2) + 1e-8) = 0.39328857362870756.
// t = 3: g = 1: 0.29489116579470137 (the same formulas once more).
TEST(AdaPNM, ThreeStepsMatchTheHandWorkedUpdateWithTheAmsgradMaximum) {
  const torch::Tensor w = f64_param({0.5});
  PNM opt({w}, PNMOptions(0.1).eps(1e-8).adaptive(true));
  step_with(opt, w, 10.0);
  EXPECT_NEAR(value(w, 0), 0.33005883387995705, kExact);
  step_with(opt, w, 0.0);
  EXPECT_NEAR(value(w, 0), 0.39328857362870756, kExact);
  step_with(opt, w, 1.0);
  EXPECT_NEAR(value(w, 0), 0.29489116579470137, kExact);
}

// The public code's slip normalised by sqrt((1 + beta2)^2 + beta2^2) = sqrt(4.994001): the first
// step would then differ from the paper's by 6e-4 relative, 1e9 times this test's tolerance.
TEST(AdaPNM, NormalisesWithBetaZeroNotBetaTwo) {
  const torch::Tensor w = f64_param({0.0});
  PNM opt({w}, PNMOptions(1.0).eps(0.0).adaptive(true));
  step_with(opt, w, 1.0);  // m = 0.19, v_hat = 1: w = -(1 / 0.1) * 0.38 / sqrt5
  EXPECT_NEAR(value(w, 0), -3.8 / std::sqrt(5.0), kExact);
  const double slip = -3.8 / std::sqrt(std::pow(1.999, 2) + std::pow(0.999, 2));
  EXPECT_GT(std::abs(value(w, 0) - slip), 1e-3);
}

TEST(PNM, ResumesFromSavedStateStepForStep) {
  for (bool adaptive : {false, true}) {
    const torch::Tensor straight = f64_param({1.0, -2.0}), resumed = f64_param({1.0, -2.0});
    const PNMOptions o = PNMOptions(0.05).adaptive(adaptive);
    PNM a({straight}, o);
    for (int i = 0; i < 5; ++i) toy_step(a, straight);

    PNM b({resumed}, o);
    for (int i = 0; i < 3; ++i) toy_step(b, resumed);
    std::stringstream archive;
    {
      torch::serialize::OutputArchive out;
      b.save(out);
      out.save_to(archive);
    }
    PNM c({resumed}, o);  // as a resumed run builds it (LibTorch 1.x does not restore the options from the archive)
    torch::serialize::InputArchive in;
    in.load_from(archive);
    c.load(in);
    for (int i = 0; i < 2; ++i) toy_step(c, resumed);
    EXPECT_TRUE(torch::equal(straight, resumed)) << (adaptive ? "adapnm" : "pnm");
  }
}

TEST(PNM, MadeByNameFromAnOptimizerConfigAndRefusesBadSettings) {
  const torch::Tensor w = f64_param({1.0});
  OptimizerConfig c;
  c.name = "adapnm";
  c.lr = 0.1;
  c.beta0 = 0.5;
  auto opt = make_optimizer({w}, c);
  const auto& o = static_cast<const PNMOptions&>(opt->param_groups()[0].options());
  EXPECT_TRUE(o.adaptive());
  EXPECT_EQ(o.beta0(), 0.5);
  EXPECT_EQ(o.eps(), kKerasAdamEpsilon);  // --eps stays the study's unless given
  EXPECT_THROW(PNM({w}, PNMOptions(0.1).beta0(-1.0)), nesgd::Error);
  EXPECT_THROW(PNM({w}, PNMOptions(0.1).beta1(1.0)), nesgd::Error);
}

}  // namespace nesgd::optim::pnm_test
