// GhostBatchNorm2d: per-chunk normalization against a hand computation, the
// ghost = batch case against torch::nn::BatchNorm2d, the running-statistics
// formula of ghost_batch_norm.h, evaluation mode, finite-difference gradients
// and the error for a batch that is not a whole number of ghost batches.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nesgd/error.h"
#include "nesgd/models/ghost_batch_norm.h"

using namespace nesgd::models;

namespace {

// Float64 everywhere: differences are rounding only.
constexpr double kExactTol = 1e-10;
// Central differences with step h have error O(h^2) ~ 1e-8 on O(1) values;
// 1e-6 leaves room without letting a wrong gradient (O(1) off) through.
constexpr double kFiniteDiffStep = 1e-5;
constexpr double kGradTol = 1e-6;

torch::TensorOptions f64() { return torch::dtype(torch::kFloat64); }

// Input whose chunks have clearly different means and spreads, so that
// normalizing over the whole batch instead of per ghost would be far off.
torch::Tensor chunky_input(int64_t ghosts, int64_t ghost, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> parts;
  for (int64_t g = 0; g < ghosts; ++g) {
    parts.push_back(torch::randn({ghost, c, h, w}, f64()) * (1.0 + g) + 3.0 * g);
  }
  return torch::cat(parts, 0);
}

// y = gamma (x - mu) / sqrt(var + eps) + beta with mu, var (biased) over one chunk's (n, h, w).
torch::Tensor hand_normalize(const torch::Tensor& chunk, const torch::Tensor& gamma, const torch::Tensor& beta,
                             double eps) {
  const double m = static_cast<double>(chunk.size(0) * chunk.size(2) * chunk.size(3));
  auto mu = chunk.sum({0, 2, 3}, /*keepdim=*/true) / m;
  auto var = (chunk - mu).pow(2).sum({0, 2, 3}, true) / m;
  return gamma.view({1, -1, 1, 1}) * (chunk - mu) / (var + eps).sqrt() + beta.view({1, -1, 1, 1});
}

GhostBatchNorm2d make_bn(int64_t c, int64_t ghost, BatchNormConvention conv = BatchNormConvention::kKeras) {
  GhostBatchNorm2d bn(GhostBatchNormOptions(c, conv).ghost_batch_size(ghost));
  bn->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  torch::manual_seed(99);
  bn->weight.uniform_(0.5, 2.0);  // non-trivial gamma and beta
  bn->bias.uniform_(-1.0, 1.0);
  return bn;
}

}  // namespace

TEST(GhostBatchNorm, DefaultsAreKerasAndPaper) {
  GhostBatchNormOptions o(8);
  EXPECT_EQ(o.ghost_batch_size(), 100);
  EXPECT_EQ(o.momentum(), 0.99);
  EXPECT_EQ(o.eps(), 1e-3);
  EXPECT_FALSE(o.unbiased_running_var());
  GhostBatchNormOptions p(8, BatchNormConvention::kPyTorch);
  EXPECT_EQ(p.momentum(), 0.9);  // PyTorch's momentum 0.1 on the new value
  EXPECT_EQ(p.eps(), 1e-5);
  EXPECT_TRUE(p.unbiased_running_var());
  EXPECT_EQ(batch_norm_convention_from_string("pytorch"), BatchNormConvention::kPyTorch);
  EXPECT_THROW(batch_norm_convention_from_string("tf"), nesgd::Error);
}

TEST(GhostBatchNorm, TrainingNormalizesEachChunkOnItsOwn) {
  const int64_t ghosts = 3, ghost = 5, c = 4;
  auto bn = make_bn(c, ghost);
  auto x = chunky_input(ghosts, ghost, c, 3, 2, 1);
  auto y = bn->forward(x);
  ASSERT_EQ(y.sizes(), x.sizes());
  double worst = 0.0;
  for (int64_t g = 0; g < ghosts; ++g) {
    auto want = hand_normalize(x.narrow(0, g * ghost, ghost), bn->weight, bn->bias, kKerasBnEps);
    worst = std::max(worst, (y.narrow(0, g * ghost, ghost) - want).abs().max().item<double>());
  }
  EXPECT_LT(worst, kExactTol) << "largest difference " << worst;
  // Whole-batch normalization is far from it on this input.
  auto whole = hand_normalize(x, bn->weight, bn->bias, kKerasBnEps);
  EXPECT_GT((y - whole).abs().max().item<double>(), 0.1);
}

TEST(GhostBatchNorm, SeparateCallsNeverMixSamples) {
  // NE sends B and B' through in separate calls; a call of [B; B'] with
  // ghost = |B| must give the same outputs as the two calls (per-ghost stats).
  auto bn = make_bn(3, 4);
  auto b = chunky_input(1, 4, 3, 2, 2, 5), b2 = chunky_input(1, 4, 3, 2, 2, 6) * 2.0 + 1.0;
  auto joint = bn->forward(torch::cat({b, b2}, 0));
  auto apart = torch::cat({bn->forward(b), bn->forward(b2)}, 0);
  EXPECT_LT((joint - apart).abs().max().item<double>(), kExactTol);
}

TEST(GhostBatchNorm, GhostEqualToBatchMatchesTorchBatchNorm2dUnderPyTorchConvention) {
  const int64_t n = 6, c = 3;
  auto ours = make_bn(c, n, BatchNormConvention::kPyTorch);
  torch::nn::BatchNorm2d ref(torch::nn::BatchNorm2dOptions(c).momentum(1.0 - kPyTorchBnMomentum).eps(kPyTorchBnEps));
  ref->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    ref->weight.copy_(ours->weight);
    ref->bias.copy_(ours->bias);
  }
  double worst = 0.0;
  for (int step = 0; step < 3; ++step) {
    auto x = chunky_input(1, n, c, 4, 3, 10 + step) + step;
    worst = std::max(worst, (ours->forward(x) - ref->forward(x)).abs().max().item<double>());
  }
  EXPECT_LT(worst, kExactTol) << "training outputs";
  EXPECT_LT((ours->running_mean - ref->running_mean).abs().max().item<double>(), kExactTol);
  EXPECT_LT((ours->running_var - ref->running_var).abs().max().item<double>(), kExactTol);
  ours->eval();
  ref->eval();
  auto x = chunky_input(1, 7, c, 4, 3, 20);  // 7: evaluation has no ghost constraint
  EXPECT_LT((ours->forward(x) - ref->forward(x)).abs().max().item<double>(), kExactTol) << "evaluation outputs";
}

TEST(GhostBatchNorm, RunningStatisticsFollowTheDocumentedFormula) {
  for (auto convention : {BatchNormConvention::kKeras, BatchNormConvention::kPyTorch}) {
    const int64_t ghosts = 4, ghost = 3, c = 2, h = 2, w = 3;
    auto bn = make_bn(c, ghost, convention);
    const double rho = bn->options.momentum();
    const double m = static_cast<double>(ghost * h * w);
    const double unbias = convention == BatchNormConvention::kPyTorch ? m / (m - 1.0) : 1.0;
    std::vector<torch::Tensor> means, vars;  // s_j of each step, per channel
    for (int step = 0; step < 5; ++step) {
      auto x = chunky_input(ghosts, ghost, c, h, w, 30 + step);
      bn->forward(x);
      auto chunks = x.view({ghosts, ghost, c, h, w});
      auto mu = chunks.mean({1, 3, 4});                                                   // [G, C]
      auto var = (chunks - mu.view({ghosts, 1, c, 1, 1})).pow(2).mean({1, 3, 4}) * unbias;  // [G, C]
      means.push_back(mu.mean(0));
      vars.push_back(var.mean(0));
    }
    // running_k = rho^k * running_0 + (1 - rho) * sum_j rho^(k - j) * s_j, running_0 = 0 (mean) / 1 (var).
    const int k = static_cast<int>(means.size());
    auto want_mean = torch::zeros({c}, f64());
    auto want_var = torch::full({c}, std::pow(rho, k), f64());
    for (int j = 1; j <= k; ++j) {
      want_mean += (1.0 - rho) * std::pow(rho, k - j) * means[j - 1];
      want_var += (1.0 - rho) * std::pow(rho, k - j) * vars[j - 1];
    }
    EXPECT_LT((bn->running_mean - want_mean).abs().max().item<double>(), kExactTol) << to_string(convention);
    EXPECT_LT((bn->running_var - want_var).abs().max().item<double>(), kExactTol) << to_string(convention);
  }
}

TEST(GhostBatchNorm, EvaluationUsesRunningStatistics) {
  auto bn = make_bn(3, 2);
  for (int step = 0; step < 3; ++step) bn->forward(chunky_input(2, 2, 3, 2, 2, 40 + step));
  const auto rm = bn->running_mean.clone(), rv = bn->running_var.clone();
  bn->eval();
  auto x = chunky_input(1, 5, 3, 2, 2, 50);  // 5 samples: not a multiple of 2, fine in evaluation
  auto y = bn->forward(x);
  auto want = bn->weight.view({1, -1, 1, 1}) * (x - rm.view({1, -1, 1, 1})) / (rv.view({1, -1, 1, 1}) + kKerasBnEps).sqrt() +
              bn->bias.view({1, -1, 1, 1});
  EXPECT_LT((y - want).abs().max().item<double>(), kExactTol);
  EXPECT_TRUE(torch::equal(bn->running_mean, rm)) << "evaluation must not move the running statistics";
  EXPECT_TRUE(torch::equal(bn->running_var, rv));
}

TEST(GhostBatchNorm, GradientsMatchFiniteDifferences) {
  const int64_t ghosts = 2, ghost = 3, c = 2, h = 2, w = 2;
  auto bn = make_bn(c, ghost);
  auto x = chunky_input(ghosts, ghost, c, h, w, 60).requires_grad_(true);
  torch::manual_seed(61);
  const auto probe = torch::randn(x.sizes(), f64());  // loss = sum(probe * y): a generic linear functional
  auto loss_of = [&](const torch::Tensor& input) { return (bn->forward(input) * probe).sum(); };
  loss_of(x).backward();
  const auto gx = x.grad().clone(), gw = bn->weight.grad().clone(), gb = bn->bias.grad().clone();

  torch::NoGradGuard no_grad;
  double worst = 0.0;
  auto check = [&](torch::Tensor target, const torch::Tensor& analytic, const torch::Tensor& input) {
    auto flat = target.view({-1});
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double keep = flat[i].item<double>();
      flat[i] = keep + kFiniteDiffStep;
      const double up = loss_of(input).item<double>();
      flat[i] = keep - kFiniteDiffStep;
      const double down = loss_of(input).item<double>();
      flat[i] = keep;
      const double numeric = (up - down) / (2 * kFiniteDiffStep);
      worst = std::max(worst, std::abs(numeric - analytic.view({-1})[i].item<double>()));
    }
  };
  auto xd = x.detach().clone();
  check(xd, gx, xd);
  check(bn->weight, gw, xd);
  check(bn->bias, gb, xd);
  EXPECT_LT(worst, kGradTol) << "largest |numeric - autograd| " << worst;
}

TEST(GhostBatchNorm, BatchNotAMultipleOfTheGhostSizeIsAnError) {
  auto bn = make_bn(2, 100);
  try {
    bn->forward(torch::randn({150, 2, 2, 2}, f64()));
    FAIL() << "no error for 150 samples with ghost size 100";
  } catch (const nesgd::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("150 samples is not a multiple of the ghost batch size 100"), std::string::npos) << what;
  }
  EXPECT_THROW(bn->forward(torch::randn({50, 2, 2, 2}, f64())), nesgd::Error);  // smaller than one ghost
  EXPECT_NO_THROW(bn->forward(torch::randn({200, 2, 2, 2}, f64())));
}
