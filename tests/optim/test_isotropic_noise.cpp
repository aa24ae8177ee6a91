// The isotropic control (optim/isotropic_noise.h): sigma worked by hand for both matchings,
// the matched strength as a statistical test with its bound, the draw a function of the seed
// and step alone, the gradient g_B + sigma xi exactly, and alpha = 1 as plain training (B'
// never drawn). The batch-size rule of optim/noise_control.h against hand-worked values.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "nesgd/error.h"
#include "nesgd/optim/isotropic_noise.h"
#include "nesgd/optim/noise_control.h"
#include "support/compare.h"

namespace nesgd::optim::isotropic_test {

using nesgd::testing::kExact;

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// Two parameter tensors whose losses are linear, so g_B and g_B' are known exactly:
// L_B = <c_b, w>, L_B' = <c_bp, w>.
struct Linear {
  std::vector<torch::Tensor> params, c_b, c_bp;
  MinibatchLoss loss(const std::vector<torch::Tensor>& c) const {
    return [this, c] {
      torch::Tensor l = torch::zeros({}, kF64);
      for (size_t i = 0; i < params.size(); ++i) l = l + (c[i] * params[i]).sum();
      return l;
    };
  }
};

Linear linear_problem(int64_t n0, int64_t n1, double scale1) {
  torch::manual_seed(7);
  Linear p;
  for (auto [n, s] : {std::pair<int64_t, double>{n0, 1.0}, {n1, scale1}}) {
    p.params.push_back(torch::zeros({n}, kF64).requires_grad_(true));
    p.c_b.push_back(torch::randn({n}, kF64) * s);
    p.c_bp.push_back(torch::randn({n}, kF64) * s);
  }
  return p;
}

// n = ((3, 4), (0, 0, 0)): |n|^2 = 25 over P = 5 -> sigma = sqrt(5) for both tensors ("whole");
// per tensor sqrt(25 / 2) and 0.
TEST(IsotropicNoise, SigmaByHandForBothMatchings) {
  const std::vector<torch::Tensor> n{torch::tensor({3.0, 4.0}, kF64), torch::zeros({3}, kF64)};
  const auto whole = isotropic_sigmas(n, kMatchWhole);
  EXPECT_NEAR(whole[0], std::sqrt(5.0), kExact);
  EXPECT_NEAR(whole[1], std::sqrt(5.0), kExact);
  const auto tensor = isotropic_sigmas(n, kMatchTensor);
  EXPECT_NEAR(tensor[0], std::sqrt(12.5), kExact);
  EXPECT_EQ(tensor[1], 0.0);
  EXPECT_THROW(isotropic_sigmas(n, "layer"), nesgd::Error);
}

// The step's gradient is g_B + sigma xi with xi the step's own draw, exactly; the draw depends
// on the seed and the step alone.
TEST(IsotropicNoise, GradientIsGBPlusSigmaTimesTheStepsDraw) {
  const Linear p = linear_problem(300, 40, 5.0);
  const IsotropicNoiseOptions o{1.5, kMatchWhole, 99};
  const IsotropicBackwardResult r = isotropic_backward(p.params, p.loss(p.c_b), p.loss(p.c_bp), o, 12);
  std::vector<torch::Tensor> n;
  for (size_t i = 0; i < p.params.size(); ++i) n.push_back((p.c_b[i] - p.c_bp[i]) * 0.5);
  const std::vector<double> sigma = isotropic_sigmas(n, kMatchWhole);
  const std::vector<torch::Tensor> xi = isotropic_draw(p.params, 99, 12);
  double ne_sq = 0.0;
  for (size_t i = 0; i < p.params.size(); ++i) {
    EXPECT_LT(nesgd::testing::max_rel_diff(p.params[i].grad(), p.c_b[i] + sigma[i] * xi[i]), kExact);
    ne_sq += n[i].pow(2).sum().item<double>();
  }
  EXPECT_NEAR(r.ne_noise_sq, ne_sq, kExact * ne_sq);
  EXPECT_TRUE(r.losses.used_b_prime);
  EXPECT_TRUE(torch::equal(isotropic_draw(p.params, 99, 12)[0], xi[0]));   // the same step: the same noise
  EXPECT_FALSE(torch::equal(isotropic_draw(p.params, 99, 13)[0], xi[0]));  // the next step: new noise
  EXPECT_FALSE(torch::equal(isotropic_draw(p.params, 98, 12)[0], xi[0]));  // another seed: new noise
}

// E|sigma xi|^2 = |n|^2: |sigma xi|^2 / |n|^2 = chi^2_P / P, mean 1 and variance 2 / P. Over K
// steps the mean ratio has standard deviation sqrt(2 / (P K)); the test allows 5 of them (a
// false alarm about once in 3.5 million). "tensor" matching holds it tensor by tensor, where
// "whole" does not (the second tensor's NE noise is 25 times the first's in variance).
TEST(IsotropicNoise, AddedNoiseHasTheStrengthOfNEsNoiseOnAverage) {
  constexpr int kSteps = 200;
  const Linear p = linear_problem(400, 100, 5.0);
  const double count[2] = {400.0, 100.0};
  for (const char* matching : {kMatchWhole, kMatchTensor}) {
    double whole_ratio = 0.0, tensor_ratio[2] = {0.0, 0.0};
    for (int step = 1; step <= kSteps; ++step) {
      const IsotropicBackwardResult r =
          isotropic_backward(p.params, p.loss(p.c_b), p.loss(p.c_bp), {2.0, matching, 5}, step);
      whole_ratio += r.added_sq / r.ne_noise_sq / kSteps;
      for (int i = 0; i < 2; ++i) {
        const double added = (p.params[i].grad() - p.c_b[i]).pow(2).sum().item<double>();
        const double ne = (p.c_b[i] - p.c_bp[i]).pow(2).sum().item<double>();  // (alpha - 1)^2 = 1
        tensor_ratio[i] += added / ne / kSteps;
      }
    }
    const double bound = 5.0 * std::sqrt(2.0 / (500.0 * kSteps));
    EXPECT_NEAR(whole_ratio, 1.0, std::string(matching) == kMatchWhole ? bound : 0.2) << matching;
    if (std::string(matching) == kMatchTensor) {
      for (int i = 0; i < 2; ++i) {
        EXPECT_NEAR(tensor_ratio[i], 1.0, 5.0 * std::sqrt(2.0 / (count[i] * kSteps))) << "tensor " << i;
      }
    } else {
      EXPECT_GT(tensor_ratio[0], 3.0);  // the small tensor gets the large one's sigma: far more than its own noise
      EXPECT_LT(tensor_ratio[1], 0.5);
    }
  }
}

TEST(IsotropicNoise, AlphaOneIsPlainTrainingAndNeverDrawsBPrime) {
  const Linear p = linear_problem(50, 10, 1.0);
  const MinibatchLoss never = []() -> torch::Tensor { throw Error("B' drawn at alpha = 1"); };
  const IsotropicBackwardResult r = isotropic_backward(p.params, p.loss(p.c_b), never, {1.0, kMatchWhole, 1}, 3);
  for (size_t i = 0; i < p.params.size(); ++i) EXPECT_TRUE(torch::equal(p.params[i].grad(), p.c_b[i]));
  EXPECT_FALSE(r.losses.used_b_prime);
  EXPECT_EQ(r.added_sq, 0.0);
  EXPECT_THROW(isotropic_backward(p.params, p.loss(p.c_b), MinibatchLoss{}, {1.5, kMatchWhole, 1}, 3), nesgd::Error);
}

// alpha = (1 + sqrt(2B / B_ref - 1)) / 2: B = B_ref -> 1; B = 5 B_ref -> 2; B = B_ref / 2 -> 1/2;
// below B_ref / 2 none. B_eff of each is B_ref again.
TEST(MatchBatch, AlphaByHandAndItsEffectiveBatch) {
  EXPECT_NEAR(alpha_for_matched_batch(100, 100), 1.0, kExact);
  EXPECT_NEAR(alpha_for_matched_batch(500, 100), 2.0, kExact);
  EXPECT_NEAR(alpha_for_matched_batch(50, 100), 0.5, kExact);
  EXPECT_NEAR(alpha_for_matched_batch(2000, 900), (1.0 + std::sqrt(2.0 * 2000 / 900 - 1.0)) / 2.0, kExact);
  EXPECT_TRUE(std::isnan(alpha_for_matched_batch(49, 100)));
  EXPECT_TRUE(std::isnan(alpha_for_matched_batch(100, 0)));
  for (double b : {50.0, 100.0, 500.0, 2000.0, 5000.0}) {
    EXPECT_NEAR(effective_batch(b, alpha_for_matched_batch(b, 100)), 100.0, 1e-9) << b;
  }
  EXPECT_NEAR(effective_batch(2000, 1.5), 2000 / 2.5, kExact);  // the paper's Table 2 NE row: B_eff = 800
}

}  // namespace nesgd::optim::isotropic_test
