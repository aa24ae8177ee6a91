#include "nesgd/noise/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "nesgd/error.h"
#include "nesgd/numeric.h"

namespace nesgd::noise {
namespace {

constexpr int kJacobiMaxSweeps = 100;  // cyclic Jacobi converges quadratically; 10-20 sweeps is typical

}  // namespace

double mean_of(const std::vector<double>& x) {
  double s = 0.0;
  for (double v : x) s += v;
  return x.empty() ? kNaN : s / static_cast<double>(x.size());
}

double normal_quantile_two_sided(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) {
    throw Error("confidence level must be strictly between 0 and 1 (e.g. 0.95), got " + std::to_string(confidence));
  }
  // P(|Z| <= z) = erf(z / sqrt 2) is increasing in z: bisect to full double precision.
  double lo = 0.0, hi = 40.0;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (std::erf(mid / std::sqrt(2.0)) < confidence) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

double ratio_standard_error(const std::vector<double>& x, const std::vector<double>& y, double ratio) {
  if (x.size() != y.size() || x.size() < 2) throw Error("ratio_standard_error needs two paired samples of size >= 2");
  const double k = static_cast<double>(x.size());
  const double y_mean = mean_of(y);
  double z_mean = 0.0;
  for (size_t i = 0; i < x.size(); ++i) z_mean += x[i] - ratio * y[i];
  z_mean /= k;
  double ss = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = x[i] - ratio * y[i] - z_mean;
    ss += d * d;
  }
  const double var_z = ss / (k - 1.0);
  return std::sqrt(var_z / k) / std::abs(y_mean);
}

Interval normal_interval(double estimate, double standard_error, double confidence) {
  const double z = normal_quantile_two_sided(confidence);
  return {estimate, estimate - z * standard_error, estimate + z * standard_error, standard_error};
}

Interval mean_interval(const std::vector<double>& x, double confidence) {
  if (x.size() < 2) throw Error("a mean's confidence interval needs at least 2 samples");
  const double m = mean_of(x);
  double ss = 0.0;
  for (double v : x) ss += (v - m) * (v - m);
  const double k = static_cast<double>(x.size());
  return normal_interval(m, std::sqrt(ss / (k - 1.0) / k), confidence);
}

double excess_kurtosis(const std::vector<double>& z) {
  const size_t n = z.size();
  if (n < 4) throw Error("excess kurtosis needs at least 4 samples, got " + std::to_string(n));
  const double m = mean_of(z);
  double m2 = 0.0, m4 = 0.0;
  for (double v : z) {
    const double d2 = (v - m) * (v - m);
    m2 += d2;
    m4 += d2 * d2;
  }
  const double nn = static_cast<double>(n);
  m2 /= nn;
  m4 /= nn;
  if (!(m2 > 0.0)) return kNaN;
  const double g2 = m4 / (m2 * m2) - 3.0;
  return ((nn + 1.0) * g2 + 6.0) * (nn - 1.0) / ((nn - 2.0) * (nn - 3.0));
}

double excess_kurtosis_standard_error(int64_t n) {
  if (n < 4) return kNaN;
  const double nn = static_cast<double>(n);
  const double ses = std::sqrt(6.0 * nn * (nn - 1.0) / ((nn - 2.0) * (nn + 1.0) * (nn + 3.0)));
  return 2.0 * ses * std::sqrt((nn * nn - 1.0) / ((nn - 3.0) * (nn + 5.0)));
}

Eigenpair leading_eigenpair(std::vector<double> a, int64_t n) {
  if (n <= 0 || static_cast<int64_t>(a.size()) != n * n) throw Error("leading_eigenpair needs an n x n matrix");
  const auto at = [n](int64_t i, int64_t j) { return static_cast<size_t>(i * n + j); };
  std::vector<double> v(static_cast<size_t>(n * n), 0.0);  // columns: eigenvectors
  for (int64_t i = 0; i < n; ++i) v[at(i, i)] = 1.0;

  double scale = 0.0;
  for (double x : a) scale = std::max(scale, std::abs(x));
  for (int sweep = 0; sweep < kJacobiMaxSweeps && scale > 0.0; ++sweep) {
    double off = 0.0;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) off += a[at(p, q)] * a[at(p, q)];
    }
    if (off <= 1e-30 * scale * scale) break;
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        const double apq = a[at(p, q)];
        if (apq == 0.0) continue;
        // Rotation that zeroes a_pq (Numerical Recipes' stable form): t = tan(theta).
        const double theta = (a[at(q, q)] - a[at(p, p)]) / (2.0 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (int64_t k = 0; k < n; ++k) {  // A <- A J (columns p, q)
          const double akp = a[at(k, p)], akq = a[at(k, q)];
          a[at(k, p)] = c * akp - s * akq;
          a[at(k, q)] = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) {  // A <- J^T A (rows p, q)
          const double apk = a[at(p, k)], aqk = a[at(q, k)];
          a[at(p, k)] = c * apk - s * aqk;
          a[at(q, k)] = s * apk + c * aqk;
        }
        for (int64_t k = 0; k < n; ++k) {  // V <- V J
          const double vkp = v[at(k, p)], vkq = v[at(k, q)];
          v[at(k, p)] = c * vkp - s * vkq;
          v[at(k, q)] = s * vkp + c * vkq;
        }
      }
    }
  }
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (a[at(i, i)] > a[at(best, best)]) best = i;
  }
  Eigenpair e;
  e.value = a[at(best, best)];
  e.vector.resize(static_cast<size_t>(n));
  size_t largest = 0;
  for (int64_t i = 0; i < n; ++i) {
    e.vector[static_cast<size_t>(i)] = v[at(i, best)];
    if (std::abs(e.vector[static_cast<size_t>(i)]) > std::abs(e.vector[largest])) largest = static_cast<size_t>(i);
  }
  if (e.vector[largest] < 0) {
    for (double& x : e.vector) x = -x;
  }
  return e;
}

double dot(const double* a, const double* b, size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

double dot(const float* a, const double* b, size_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += static_cast<double>(a[i]) * b[i];
    s1 += static_cast<double>(a[i + 1]) * b[i + 1];
    s2 += static_cast<double>(a[i + 2]) * b[i + 2];
    s3 += static_cast<double>(a[i + 3]) * b[i + 3];
  }
  for (; i < n; ++i) s0 += static_cast<double>(a[i]) * b[i];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace nesgd::noise
