#include "nesgd/report/stats.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "nesgd/error.h"
#include "nesgd/numeric.h"

namespace nesgd::report {
namespace {

// Lentz's method: a term whose factor is within machine epsilon of 1 ends the
// fraction; kTiny stands in for an exact zero denominator (Numerical Recipes).
constexpr double kFractionEpsilon = std::numeric_limits<double>::epsilon();
constexpr double kTiny = 1e-300;
// The fraction needs O(sqrt(max(a, b))) terms: 10^6 covers df up to ~10^11.
constexpr int kMaxFractionTerms = 1000000;
// Bisection for the quantile: stop at this relative width (the p-value is
// accurate to ~1e-15 relative, so the last bits of t are noise anyway).
constexpr double kQuantileRelativeWidth = 1e-15;
constexpr int kMaxBisectionSteps = 4000;  // 2^-1000 ... 2^1000 and 60 halvings in between
// A standard error below this fraction of the values' magnitude is rounding,
// not spread (0.850 - 0.844 and 0.852 - 0.846 differ in the last bit): no test.
constexpr double kRoundingSpread = 1e-12;

// The continued fraction for I_x(a, b) (Numerical Recipes' betacf), evaluated
// by the modified Lentz method. It converges fast for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) {
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  auto guard = [](double v) { return std::abs(v) < kTiny ? kTiny : v; };
  double c = 1.0;
  double d = 1.0 / guard(1.0 - qab * x / qap);
  double h = d;
  for (int m = 1; m <= kMaxFractionTerms; ++m) {
    const double m2 = 2.0 * m;
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 / guard(1.0 + aa * d);
    c = guard(1.0 + aa / c);
    h *= d * c;
    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 / guard(1.0 + aa * d);
    c = guard(1.0 + aa / c);
    const double step = d * c;
    h *= step;
    if (std::abs(step - 1.0) <= kFractionEpsilon) return h;
  }
  throw Error("regularized incomplete beta: the continued fraction did not converge (a = " + std::to_string(a) +
              ", b = " + std::to_string(b) + ", x = " + std::to_string(x) + ")");
}

// I_x(a, b) with y = 1 - x passed separately, so that x close to 1 (small t
// for the t distribution) keeps the precision of y.
double incomplete_beta(double a, double b, double x, double y) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  // x^a y^b / B(a, b), in logarithms (B(a, b) overflows long before the ratio does).
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y);
  const double front = std::exp(log_front);
  // Symmetry I_x(a, b) = 1 - I_{1-x}(b, a) keeps the fraction in its fast range.
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, y) / b;
}

void check_df(double df) {
  if (!(df > 0.0)) throw Error("Student's t: degrees of freedom must be > 0, got " + std::to_string(df));
}

}  // namespace

double regularized_incomplete_beta(double a, double b, double x) {
  if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0 && x <= 1.0)) {
    throw Error("regularized incomplete beta needs a, b > 0 and 0 <= x <= 1, got a = " + std::to_string(a) +
                ", b = " + std::to_string(b) + ", x = " + std::to_string(x));
  }
  return incomplete_beta(a, b, x, 1.0 - x);
}

double student_t_two_sided_p(double t, double df) {
  check_df(df);
  if (std::isnan(t)) return kNaN;
  if (std::isinf(df)) return std::erfc(std::abs(t) / std::sqrt(2.0));  // the standard normal
  if (std::isinf(t)) return 0.0;
  // P(|T| >= |t|) = I_x(df/2, 1/2) with x = df / (df + t^2) and 1 - x = t^2 / (df + t^2).
  const double t2 = t * t;
  return incomplete_beta(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2));
}

double student_t_cdf(double t, double df) {
  const double p = student_t_two_sided_p(t, df);
  return t >= 0.0 ? 1.0 - 0.5 * p : 0.5 * p;
}

double student_t_quantile(double probability, double df) {
  check_df(df);
  if (!(probability > 0.0 && probability < 1.0)) {
    throw Error("Student's t quantile: the probability must be strictly between 0 and 1, got " +
                std::to_string(probability));
  }
  if (probability < 0.5) return -student_t_quantile(1.0 - probability, df);
  // P(T <= t) = probability  <=>  P(|T| >= t) = 2 (1 - probability), t >= 0,
  // and the two-sided p falls monotonically in t.
  const double target = 2.0 * (1.0 - probability);
  if (target >= 1.0) return 0.0;
  double lo = 0.0, hi = 1.0;
  int steps = 0;
  while (student_t_two_sided_p(hi, df) > target && steps++ < kMaxBisectionSteps) {
    lo = hi;
    hi *= 2.0;
  }
  while (hi - lo > kQuantileRelativeWidth * hi && steps++ < kMaxBisectionSteps) {
    const double mid = 0.5 * (lo + hi);
    if (student_t_two_sided_p(mid, df) > target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

Stat mean_std(const std::vector<double>& values) {
  Stat s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  double sum = 0.0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) return s;
  double ss = 0.0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(ss / static_cast<double>(values.size() - 1));
  return s;
}

Interval mean_interval(const Stat& s, double confidence) {
  if (s.n < 2 || !std::isfinite(s.mean) || !std::isfinite(s.std)) return {};
  const double n = static_cast<double>(s.n);
  const double half = student_t_quantile(0.5 * (1.0 + confidence), n - 1.0) * s.std / std::sqrt(n);
  return {s.mean - half, s.mean + half};
}

TTest welch_t_test(const Stat& x, const Stat& y, double confidence) {
  TTest r;
  r.n_x = x.n;
  r.n_y = y.n;
  r.difference = x.mean - y.mean;
  if (x.n < 2 || y.n < 2 || !std::isfinite(x.std) || !std::isfinite(y.std) || !std::isfinite(r.difference)) {
    return r;
  }
  r.pairing = Pairing::kWelch;
  const double vx = x.std * x.std / static_cast<double>(x.n), vy = y.std * y.std / static_cast<double>(y.n);
  r.standard_error = std::sqrt(vx + vy);
  if (!(r.standard_error > kRoundingSpread * std::max(std::abs(x.mean), std::abs(y.mean)))) return r;
  r.t = r.difference / r.standard_error;
  // Welch-Satterthwaite: the df of a chi-square matched to the two scaled variances' sum.
  r.df = (vx + vy) * (vx + vy) / (vx * vx / static_cast<double>(x.n - 1) + vy * vy / static_cast<double>(y.n - 1));
  r.p = student_t_two_sided_p(r.t, r.df);
  const double half = student_t_quantile(0.5 * (1.0 + confidence), r.df) * r.standard_error;
  r.interval = {r.difference - half, r.difference + half};
  return r;
}

TTest welch_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  return welch_t_test(mean_std(x), mean_std(y), confidence);
}

TTest paired_t_test(const std::vector<double>& x, const std::vector<double>& y, double confidence) {
  if (x.size() != y.size()) {
    throw Error("paired t-test: the two samples must have one value per pair, got " + std::to_string(x.size()) +
                " and " + std::to_string(y.size()));
  }
  std::vector<double> d(x.size());
  double magnitude = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    d[i] = x[i] - y[i];
    magnitude = std::max({magnitude, std::abs(x[i]), std::abs(y[i])});
  }
  const Stat s = mean_std(d);
  TTest r;
  r.n_x = r.n_y = s.n;
  r.difference = s.mean;
  if (s.n < 2 || !std::isfinite(s.std)) return r;
  r.pairing = Pairing::kPaired;
  r.standard_error = s.std / std::sqrt(static_cast<double>(s.n));
  r.df = static_cast<double>(s.n - 1);
  if (!(r.standard_error > kRoundingSpread * magnitude)) return r;
  r.t = r.difference / r.standard_error;
  r.p = student_t_two_sided_p(r.t, r.df);
  const double half = student_t_quantile(0.5 * (1.0 + confidence), r.df) * r.standard_error;
  r.interval = {r.difference - half, r.difference + half};
  return r;
}

}  // namespace nesgd::report
