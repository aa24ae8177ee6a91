// The meter's statistics on hand-worked values and on samples of known law.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "nesgd/error.h"
#include "nesgd/noise/statistics.h"
#include "support/compare.h"

using namespace nesgd::noise;

namespace {

using nesgd::testing::kExact;
// Sample-based checks allow 4 standard errors: a correct estimator fails one
// with probability < 1e-4 (and the seeds are fixed, so the outcome is too).
constexpr double kSigmas = 4.0;

}  // namespace

TEST(Statistics, NormalQuantile) {
  EXPECT_NEAR(normal_quantile_two_sided(0.95), 1.959963984540054, 1e-12);
  EXPECT_NEAR(normal_quantile_two_sided(0.999), 3.290526731491926, 1e-12);
  EXPECT_NEAR(normal_quantile_two_sided(0.6826894921370859), 1.0, 1e-12);
  EXPECT_THROW(normal_quantile_two_sided(1.0), nesgd::Error);
  EXPECT_THROW(normal_quantile_two_sided(0.0), nesgd::Error);
}

TEST(Statistics, RatioStandardErrorByHand) {
  // x = (1, 2, 3), y = (1, 1, 1), R = 2: z = x - 2y = (-1, 0, 1), Var z = 1,
  // SE = sqrt(1 / 3) / mean(y) = 0.57735...
  EXPECT_NEAR(ratio_standard_error({1, 2, 3}, {1, 1, 1}, 2.0), std::sqrt(1.0 / 3.0), kExact);
  // y = 2x exactly: the ratio 1/2 carries no uncertainty.
  EXPECT_NEAR(ratio_standard_error({1, 2, 3}, {2, 4, 6}, 0.5), 0.0, kExact);
  EXPECT_THROW(ratio_standard_error({1}, {1}, 1.0), nesgd::Error);
  const Interval ci = normal_interval(2.0, 0.5, 0.95);
  EXPECT_NEAR(ci.low, 2.0 - 0.5 * 1.959963984540054, kExact);
  EXPECT_NEAR(ci.high, 2.0 + 0.5 * 1.959963984540054, kExact);
  const Interval m = mean_interval({1, 2, 3, 4}, 0.95);
  EXPECT_NEAR(m.estimate, 2.5, kExact);
  EXPECT_NEAR(m.standard_error, std::sqrt((1.25 * 4 / 3) / 4), kExact);  // sample var 5/3, over n = 4
}

TEST(Statistics, ExcessKurtosisByHand) {
  // z = (0, 0, 0, 4): mean 1, m2 = 12/4 = 3, m4 = 84/4 = 21, g2 = 21/9 - 3 = -2/3,
  // G2 = ((4 + 1)(-2/3) + 6)(4 - 1) / ((4 - 2)(4 - 3)) = (8/3)(3/2) = 4.
  EXPECT_NEAR(excess_kurtosis({0, 0, 0, 4}), 4.0, kExact);
  // Shift and scale do not change it.
  EXPECT_NEAR(excess_kurtosis({-7, -7, -7, 1}), 4.0, kExact);
  EXPECT_TRUE(std::isnan(excess_kurtosis({2, 2, 2, 2})));
  EXPECT_THROW(excess_kurtosis({1, 2, 3}), nesgd::Error);
  // SEK for n = 100 is 0.478 (SPSS tables); ~ sqrt(24 / n) for large n.
  EXPECT_NEAR(excess_kurtosis_standard_error(100), 0.4783, 1e-4);
  EXPECT_NEAR(excess_kurtosis_standard_error(1000000), std::sqrt(24.0 / 1e6), 1e-6);
}

TEST(Statistics, KurtosisNearZeroForGaussianAndPositiveForHeavyTails) {
  const int n = 20000;
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal(3.0, 2.0);
  std::exponential_distribution<double> expo(1.0);
  std::uniform_int_distribution<int> coin(0, 1);
  std::vector<double> gauss(n), laplace(n), uniform(n);
  std::uniform_real_distribution<double> unif(-1.0, 1.0);
  for (int i = 0; i < n; ++i) {
    gauss[i] = normal(rng);
    laplace[i] = (coin(rng) ? 1.0 : -1.0) * expo(rng);  // Laplace: excess kurtosis 3
    uniform[i] = unif(rng);                             // uniform: excess kurtosis -1.2
  }
  const double se = excess_kurtosis_standard_error(n);  // 0.035
  EXPECT_LT(std::abs(excess_kurtosis(gauss)), kSigmas * se);
  // Heavy tails: the sampling error of G2 is larger than the Gaussian SE, but
  // 3 +- 0.5 is many of its standard errors (~0.15 at this n) wide.
  EXPECT_NEAR(excess_kurtosis(laplace), 3.0, 0.5);
  EXPECT_NEAR(excess_kurtosis(uniform), -1.2, 0.1);
}

TEST(Statistics, LeadingEigenpair) {
  // [[2, 1], [1, 2]]: eigenvalues 3 and 1, leading vector (1, 1)/sqrt 2.
  auto e = leading_eigenpair({2, 1, 1, 2}, 2);
  EXPECT_NEAR(e.value, 3.0, kExact);
  EXPECT_NEAR(e.vector[0], 1 / std::sqrt(2.0), kExact);
  EXPECT_NEAR(e.vector[1], 1 / std::sqrt(2.0), kExact);
  // Block [[4, 1], [1, 3]] (+ 1 on the diagonal): lambda = (7 + sqrt 5)/2,
  // vector proportional to (1, lambda - 4, 0).
  e = leading_eigenpair({4, 1, 0, 1, 3, 0, 0, 0, 1}, 3);
  const double lambda = (7 + std::sqrt(5.0)) / 2;
  EXPECT_NEAR(e.value, lambda, 1e-12);
  const double norm = std::sqrt(1 + (lambda - 4) * (lambda - 4));
  EXPECT_NEAR(e.vector[0], 1 / norm, 1e-12);
  EXPECT_NEAR(e.vector[1], (lambda - 4) / norm, 1e-12);
  EXPECT_NEAR(e.vector[2], 0.0, 1e-12);
  // A diagonal matrix whose largest entry is last; sign fixed positive.
  e = leading_eigenpair({1, 0, 0, 0, 2, 0, 0, 0, 9}, 3);
  EXPECT_EQ(e.value, 9.0);
  EXPECT_EQ(e.vector[2], 1.0);
  // A random symmetric 12 x 12 (a Gram matrix): A v = lambda v.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  const int n = 12, d = 30;
  std::vector<double> x(n * d), gram(n * n);
  for (double& v : x) v = normal(rng);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) gram[i * n + j] = dot(&x[i * d], &x[j * d], d);
  }
  e = leading_eigenpair(gram, n);
  double worst = 0.0;
  for (int i = 0; i < n; ++i) {
    double av = 0.0;
    for (int j = 0; j < n; ++j) av += gram[i * n + j] * e.vector[j];
    worst = std::max(worst, std::abs(av - e.value * e.vector[i]));
  }
  EXPECT_LT(worst, 1e-9 * e.value) << "largest |A v - lambda v| = " << worst;
  // ... and it is the largest: the Rayleigh quotient of any basis vector is below it.
  for (int i = 0; i < n; ++i) EXPECT_LE(gram[i * n + i], e.value);
}

TEST(Statistics, Dot) {
  const std::vector<double> a{1, 2, 3, 4, 5, 6, 7}, b{7, 6, 5, 4, 3, 2, 1};
  const std::vector<float> af{1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(dot(a.data(), b.data(), a.size()), 84.0);
  EXPECT_EQ(dot(af.data(), b.data(), a.size()), 84.0);
}
