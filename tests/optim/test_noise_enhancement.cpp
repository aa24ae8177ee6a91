// The NE gradient on a float64 toy problem whose gradients are worked out by hand,
// and the same NE step driven through five torch::optim optimizers.
//
// Toy: linear model f(x) = w . x, loss l_i = 0.5 (w . x_i - y_i)^2, w = (1, 1).
//   i   x_i     y_i   residual r_i   grad l_i = r_i x_i
//   1   (1,0)   1      0             (0, 0)
//   2   (0,1)   2     -1             (0, -1)
//   3   (1,1)   0      2             (2, 2)
//   4   (2,0)   1      1             (2, 0)
// B = {1, 2}:  g_B  = (0, -0.5);   B' = {3, 4}:  g_B' = (2, 1);   g_2B = (1, 0.25).
// g_NE = alpha g_B + (1 - alpha) g_B':
//   alpha = 1.5 -> (-1, -1.25);  alpha = 2 -> (-2, -2);  alpha = 0.5 -> (1, 0.25) = g_2B.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <memory>

#include "nesgd/optim/noise_enhancement.h"
#include "nesgd/optim/optimizers.h"
#include "support/compare.h"

using nesgd::optim::ne_backward;
using nesgd::optim::ne_step;
using nesgd::optim::NoiseEnhancementOptions;

namespace {

using nesgd::testing::kExact;

const auto kF64 = torch::dtype(torch::kFloat64);

struct Toy {
  torch::Tensor x = torch::tensor({1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 0.0}, kF64).view({4, 2});
  torch::Tensor y = torch::tensor({1.0, 2.0, 0.0, 1.0}, kF64);

  // Mean loss over rows `rows` at weights w.
  torch::Tensor loss(const torch::Tensor& w, std::vector<int64_t> rows) const {
    auto idx = torch::tensor(rows, torch::kInt64);
    auto r = x.index_select(0, idx).matmul(w) - y.index_select(0, idx);
    return 0.5 * r.pow(2).mean();
  }
};

torch::Tensor weights() { return torch::tensor({1.0, 1.0}, kF64).requires_grad_(true); }

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST(NoiseEnhancement, GradientMatchesHandWorkedValues) {
  Toy toy;
  const std::vector<std::pair<double, std::vector<double>>> cases{
      {1.5, {-1.0, -1.25}}, {2.0, {-2.0, -2.0}}, {0.5, {1.0, 0.25}}, {3.0, {-4.0, -3.5}}, {1.0, {0.0, -0.5}}};
  for (const auto& [alpha, expected] : cases) {
    auto w = weights();
    ne_backward([&] { return toy.loss(w, {0, 1}); }, [&] { return toy.loss(w, {2, 3}); },
                NoiseEnhancementOptions(alpha));
    const double diff = max_abs_diff(w.grad(), torch::tensor(expected, kF64));
    EXPECT_LT(diff, kExact) << "alpha " << alpha << ": got " << w.grad() << " largest difference " << diff;
  }
}

TEST(NoiseEnhancement, AlphaHalfIsTheUnionBatch) {
  Toy toy;
  auto w = weights();
  ne_backward([&] { return toy.loss(w, {0, 1}); }, [&] { return toy.loss(w, {2, 3}); }, NoiseEnhancementOptions(0.5));
  auto w2 = weights();
  toy.loss(w2, {0, 1, 2, 3}).backward();
  const double diff = max_abs_diff(w.grad(), w2.grad());
  EXPECT_LT(diff, kExact) << "largest difference " << diff;
}

TEST(NoiseEnhancement, IdentityWithTheUnionGradient) {
  // Mori & Ueda: g_NE = g_2B + (alpha - 1/2) (g_B - g_B').
  Toy toy;
  const double alpha = 2.5;
  auto w = weights();
  ne_backward([&] { return toy.loss(w, {0, 1}); }, [&] { return toy.loss(w, {2, 3}); },
              NoiseEnhancementOptions(alpha));
  const auto g_b = torch::tensor({0.0, -0.5}, kF64), g_bp = torch::tensor({2.0, 1.0}, kF64);
  const auto expected = 0.5 * (g_b + g_bp) + (alpha - 0.5) * (g_b - g_bp);
  EXPECT_LT(max_abs_diff(w.grad(), expected), kExact);
}

TEST(NoiseEnhancement, AlphaOneNeverTouchesBPrime) {
  Toy toy;
  int calls = 0;
  auto w = weights();
  const auto r = ne_backward([&] { return toy.loss(w, {0, 1}); },
                             [&] {
                               ++calls;
                               return toy.loss(w, {2, 3});
                             },
                             NoiseEnhancementOptions(1.0));
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(r.used_b_prime);
  EXPECT_TRUE(std::isnan(r.loss_b_prime));
  // An empty B' closure is fine at alpha = 1 and an error otherwise.
  auto w2 = weights();
  EXPECT_NO_THROW(ne_backward([&] { return toy.loss(w2, {0, 1}); }, {}, NoiseEnhancementOptions(1.0)));
  EXPECT_THROW(ne_backward([&] { return toy.loss(w2, {0, 1}); }, {}, NoiseEnhancementOptions(1.5)), std::exception);
}

TEST(NoiseEnhancement, ReportsBothLosses) {
  Toy toy;
  auto w = weights();
  const auto r = ne_backward([&] { return toy.loss(w, {0, 1}); }, [&] { return toy.loss(w, {2, 3}); },
                             NoiseEnhancementOptions(1.5));
  EXPECT_NEAR(r.loss_b, 0.25, kExact);        // 0.5 * mean(0, 1)
  EXPECT_NEAR(r.loss_b_prime, 1.25, kExact);  // 0.5 * mean(4, 1)
  EXPECT_TRUE(r.used_b_prime);
}

// ---- one harness over every optimizer --------------------------------------------------------------

struct OptimizerCase {
  std::string name;
  nesgd::optim::OptimizerConfig config;
};

class NEOverOptimizers : public ::testing::TestWithParam<OptimizerCase> {};

// Reference: the same optimizer stepped on a gradient assembled by hand from
// separately computed g_B and g_B'. The NE path must give the same weights.
TEST_P(NEOverOptimizers, StepEqualsOptimizerOnCombinedGradient) {
  const auto& c = GetParam();
  Toy toy;
  for (double alpha : {1.0, 0.5, 1.5, 3.0}) {
    auto w_ne = weights();
    auto w_ref = weights();
    auto opt_ne = nesgd::optim::make_optimizer({w_ne}, c.config);
    auto opt_ref = nesgd::optim::make_optimizer({w_ref}, c.config);
    const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> batches{
        {{0, 1}, {2, 3}}, {{1, 3}, {0, 2}}, {{2, 0}, {3, 1}}, {{0, 3}, {1, 2}}};
    for (const auto& [b, bp] : batches) {
      ne_step(*opt_ne, [&] { return toy.loss(w_ne, b); }, [&] { return toy.loss(w_ne, bp); },
              NoiseEnhancementOptions(alpha));

      auto g_b = torch::autograd::grad({toy.loss(w_ref, b)}, {w_ref})[0];
      auto g_bp = torch::autograd::grad({toy.loss(w_ref, bp)}, {w_ref})[0];
      opt_ref->zero_grad();
      w_ref.mutable_grad() = (alpha * g_b + (1.0 - alpha) * g_bp).detach();
      opt_ref->step();
    }
    const double diff = max_abs_diff(w_ne, w_ref);
    EXPECT_LT(diff, kExact) << c.name << " alpha " << alpha << ": largest difference " << diff;
    EXPECT_GT(max_abs_diff(w_ne, weights()), 1e-6) << c.name << ": the weights did not move";
  }
}

// alpha = 1 is the plain step, bit for bit.
TEST_P(NEOverOptimizers, AlphaOneIsThePlainStepExactly) {
  const auto& c = GetParam();
  Toy toy;
  auto w_ne = weights();
  auto w_plain = weights();
  auto opt_ne = nesgd::optim::make_optimizer({w_ne}, c.config);
  auto opt_plain = nesgd::optim::make_optimizer({w_plain}, c.config);
  for (const std::vector<int64_t>& b : {std::vector<int64_t>{0, 1}, {2, 3}, {1, 2}}) {
    ne_step(*opt_ne, [&] { return toy.loss(w_ne, b); }, nullptr, NoiseEnhancementOptions(1.0));
    opt_plain->zero_grad();
    toy.loss(w_plain, b).backward();
    opt_plain->step();
  }
  EXPECT_TRUE(torch::equal(w_ne, w_plain)) << c.name << ": " << w_ne << " vs " << w_plain;
}

static nesgd::optim::OptimizerConfig config_of(const std::string& name, double lr, double momentum = 0.0) {
  nesgd::optim::OptimizerConfig c;
  c.name = name;
  c.lr = lr;
  c.momentum = momentum;
  if (name == "adamw") c.weight_decay = 0.01;
  return c;
}

INSTANTIATE_TEST_SUITE_P(AllOptimizers, NEOverOptimizers,
                         ::testing::Values(OptimizerCase{"sgd", config_of("sgd", 0.1)},
                                           OptimizerCase{"sgd_momentum", config_of("sgd", 0.1, 0.9)},
                                           OptimizerCase{"keras_adam", config_of("keras-adam", 0.01)},
                                           OptimizerCase{"adam", config_of("adam", 0.01)},
                                           OptimizerCase{"adamw", config_of("adamw", 0.01)},
                                           OptimizerCase{"rmsprop", config_of("rmsprop", 0.01)}),
                         [](const auto& info) { return info.param.name; });

TEST(LearningRate, ScaleLrHalvesEveryGroupOfAnyOptimizer) {
  for (const auto& name : nesgd::optim::optimizer_names()) {
    auto w = weights();
    auto opt = nesgd::optim::make_optimizer({w}, config_of(name, 0.004));
    EXPECT_DOUBLE_EQ(nesgd::optim::get_lr(*opt), 0.004) << name;
    nesgd::optim::scale_lr(*opt, 0.5);
    EXPECT_DOUBLE_EQ(nesgd::optim::get_lr(*opt), 0.002) << name;
  }
}

// The one statement of the combination that every path (split, pack, CUDA graph) reads.
TEST(NoiseEnhancement, WeightsAreAlphaAndOneMinusAlpha) {
  for (const double alpha : {1.0, 1.5, 2.0, 0.5, 3.0}) {
    const auto w = nesgd::optim::ne_weights(alpha);
    EXPECT_EQ(w.b, alpha);
    EXPECT_EQ(w.b_prime, 1.0 - alpha);
  }
  // At weight 1 the term is the loss itself (plain training adds no kernel); else weight * loss.
  const auto loss = torch::tensor(0.75, kF64);
  EXPECT_TRUE(nesgd::optim::ne_term(loss, 1.0).is_same(loss));
  EXPECT_EQ(nesgd::optim::ne_term(loss, -0.5).item<double>(), -0.375);
}

// A pack's objective: member k's gradient is its own g_NE, whatever the other members' alphas.
TEST(NoiseEnhancement, PackObjectiveGivesEachMemberItsOwnGradient) {
  Toy toy;
  const std::vector<double> alphas{1.5, 1.0, 0.5};
  const std::vector<std::vector<double>> expected{{-1.0, -1.25}, {0.0, -0.5}, {1.0, 0.25}};  // the header's table
  std::vector<torch::Tensor> w;
  std::vector<torch::Tensor> lb, lbp;
  std::vector<double> wb, wbp;
  for (const double a : alphas) {
    w.push_back(weights());
    lb.push_back(toy.loss(w.back(), {0, 1}));
    lbp.push_back(toy.loss(w.back(), {2, 3}));
    wb.push_back(nesgd::optim::ne_weights(a).b);
    wbp.push_back(nesgd::optim::ne_weights(a).b_prime);
  }
  nesgd::optim::ne_objective(torch::stack(lb), torch::tensor(wb, kF64), torch::stack(lbp), torch::tensor(wbp, kF64))
      .backward();
  for (size_t k = 0; k < alphas.size(); ++k) {
    EXPECT_LE(max_abs_diff(w[k].grad(), torch::tensor(expected[k], kF64)), kExact) << "alpha " << alphas[k];
  }
  // Without B' (no member needs it) the objective is the weighted B losses alone.
  auto v = weights();
  nesgd::optim::ne_objective(toy.loss(v, {0, 1}).unsqueeze(0), torch::ones({1}, kF64), torch::Tensor(), torch::Tensor())
      .backward();
  EXPECT_LE(max_abs_diff(v.grad(), torch::tensor({0.0, -0.5}, kF64)), kExact);
}
