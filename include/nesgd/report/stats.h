// nesgd/report/stats.h - small-sample statistics for the report: Student's t and the t-tests (torch-free).
//
// A point of the study has 2-10 seeds, so its intervals and tests need the
// exact Student t distribution, not the normal approximation: with 2 seeds
// the 95 % quantile is 12.71, not 1.96. This file holds that machinery, all of
// it ours (no statistics library): the regularized incomplete beta function
// (Numerical Recipes' continued fraction, evaluated by the modified Lentz
// method), the t distribution's CDF, two-sided p-value and quantile built on
// it, the mean with its sample standard deviation and t interval, and the
// three tests the report runs: Welch's unequal-variance test (from samples or
// from published mean +- sd), and the paired test on per-seed differences.
// The noise meter's intervals (noise/statistics.h) are large-sample normal
// ones over many draws and stay there; everything with a t in it is here.
// Nothing here knows of runs, points or files.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace nesgd::report {

// The confidence level of every interval in the report.
constexpr double kConfidence = 0.95;

// I_x(a, b) = B(x; a, b) / B(a, b) for a, b > 0 and 0 <= x <= 1. Throws
// nesgd::Error on arguments outside that range, or if the continued fraction
// does not converge (it converges in O(sqrt(max(a, b))) terms).
double regularized_incomplete_beta(double a, double b, double x);

// Student's t distribution with `df` > 0 degrees of freedom (df may be
// +infinity: the standard normal). Throws nesgd::Error on df <= 0 or NaN.
//   two-sided p:  P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2)
//   CDF:          P(T <= t) = 1 - p / 2 for t >= 0, p / 2 for t < 0
//   quantile:     the t with P(T <= t) = probability (0 < probability < 1), by
//                 bisection on the two-sided p (monotone in |t|)
// Accuracy: ~1e-14 relative for the df of a study (up to a few hundred);
// from df ~ 1e4 on, the log-gamma difference in I_x's prefactor loses digits
// (a 95 % quantile is off by 3e-11 at df = 1e5).
double student_t_two_sided_p(double t, double df);
double student_t_cdf(double t, double df);
double student_t_quantile(double probability, double df);

// n, mean and the sample standard deviation (n - 1 in the denominator, as
// pandas' std; NaN for a single value, everything NaN for none).
struct Stat {
  int64_t n = 0;
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();
};
Stat mean_std(const std::vector<double>& values);

struct Interval {
  double low = std::numeric_limits<double>::quiet_NaN();
  double high = std::numeric_limits<double>::quiet_NaN();
};

// The confidence interval of the mean: mean +- t_{(1 + c) / 2, n - 1} sd / sqrt(n).
// NaN bounds for n < 2 (no spread to scale by).
Interval mean_interval(const Stat& s, double confidence = kConfidence);

// The result of a two-sample t-test of mean(x) - mean(y).
enum class Pairing {
  kNone,    // not computed: fewer than 2 values on a side (or 2 pairs)
  kPaired,  // on per-pair differences x_i - y_i: n_x = n_y = the number of pairs
  kWelch,   // unpaired, unequal variances, Welch-Satterthwaite degrees of freedom
};
struct TTest {
  Pairing pairing = Pairing::kNone;
  int64_t n_x = 0, n_y = 0;
  double difference = std::numeric_limits<double>::quiet_NaN();  // mean(x) - mean(y)
  double standard_error = std::numeric_limits<double>::quiet_NaN();
  double t = std::numeric_limits<double>::quiet_NaN();
  double df = std::numeric_limits<double>::quiet_NaN();
  double p = std::numeric_limits<double>::quiet_NaN();  // two-sided
  Interval interval;  // of the difference: difference +- t_{(1 + c) / 2, df} standard_error
};

// Welch's test from two summaries (n, mean, sample sd), e.g. a published
// mean +- sd:
//   se^2 = sx^2 / nx + sy^2 / ny,  t = (mx - my) / se,
//   df = se^4 / ((sx^2 / nx)^2 / (nx - 1) + (sy^2 / ny)^2 / (ny - 1)).
// Needs n >= 2 on both sides (else pairing kNone, difference still set when
// both means exist). With no spread on either side (se = 0, or below 1e-12
// of the means: equal up to rounding), t, df, p and the interval are NaN:
// there is nothing to scale the difference by.
TTest welch_t_test(const Stat& x, const Stat& y, double confidence = kConfidence);
TTest welch_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence = kConfidence);

// The paired test: d_i = x_i - y_i, t = mean(d) / (sd(d) / sqrt(n)), df = n - 1.
// x and y must have the same size (nesgd::Error otherwise); needs n >= 2 pairs
// (else kNone). No spread in d (up to rounding, as above): t, p and the interval are NaN.
TTest paired_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence = kConfidence);

}  // namespace nesgd::report
