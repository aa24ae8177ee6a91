// nesgd/noise/statistics.h - the small statistics the noise meter is built from (torch-free).
//
// Everything here works on plain double arrays so that the estimators can be
// checked on data whose answer is known exactly (tests/noise/). It holds the
// confidence interval of a ratio of means (delta method), the sample excess
// kurtosis with its standard error under normality, and the leading
// eigenvector of a small symmetric matrix (for PCA through a Gram matrix).
// It knows nothing of models, minibatches or the noise meter's bookkeeping,
// and never allocates anything proportional to a model's parameter count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nesgd::noise {

// The arithmetic mean of x; NaN when x is empty.
double mean_of(const std::vector<double>& x);

// z such that P(|Z| <= z) = confidence for a standard normal Z (1.96 for 0.95).
// Throws nesgd::Error unless 0 < confidence < 1.
double normal_quantile_two_sided(double confidence);

struct Interval {
  double estimate = 0.0;
  double low = 0.0;
  double high = 0.0;
  double standard_error = 0.0;
};

// Delta-method standard error of R = mean(x) / mean(y) from K paired draws
// (x_k, y_k), evaluated at `ratio` (normally mean(x) / mean(y), or a
// bias-corrected version of it):
//
//   Var(R) ~ Var(x - R y) / (K * mean(y)^2)
//
// (first-order Taylor expansion of the ratio around the means; the sample
// variance of z_k = x_k - R y_k estimates Var(x - R y), so the correlation of
// paired x and y is accounted for). x and y must have the same size >= 2.
double ratio_standard_error(const std::vector<double>& x, const std::vector<double>& y, double ratio);

// estimate +- z(confidence) * standard_error.
Interval normal_interval(double estimate, double standard_error, double confidence);

// Mean and standard error of the mean (sample standard deviation / sqrt(n)).
Interval mean_interval(const std::vector<double>& x, double confidence);

// Sample excess kurtosis, the bias-adjusted G2 of Joanes & Gill (1998):
//   g2 = m4 / m2^2 - 3,  m_r = (1/n) sum (z - mean z)^r
//   G2 = ((n + 1) g2 + 6) (n - 1) / ((n - 2)(n - 3))
// G2 is unbiased for normal data (expected 0). Needs n >= 4; NaN when all
// values are equal (no spread to normalize by).
double excess_kurtosis(const std::vector<double>& z);

// Standard error of G2 for n normal samples (SPSS's SEK):
//   SES = sqrt(6 n (n - 1) / ((n - 2)(n + 1)(n + 3)))
//   SEK = 2 SES sqrt((n^2 - 1) / ((n - 3)(n + 5)))   (~ sqrt(24 / n) for large n)
double excess_kurtosis_standard_error(int64_t n);

// Leading eigenpair of a symmetric n x n matrix (row-major, n^2 values) by
// cyclic Jacobi rotations; the eigenvector has unit length and a
// non-negative largest-magnitude entry (a fixed sign, so results repeat).
struct Eigenpair {
  double value = 0.0;
  std::vector<double> vector;
};
Eigenpair leading_eigenpair(std::vector<double> matrix, int64_t n);

// Plain dense helpers in double precision with four partial sums (the
// reductions run over up to millions of gradient entries).
double dot(const double* a, const double* b, size_t n);
double dot(const float* a, const double* b, size_t n);

}  // namespace nesgd::noise
