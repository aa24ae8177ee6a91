#include "nesgd/optim/fused_adam.h"

#include <cmath>

namespace nesgd::optim {
namespace {

// One body for float and double. Each line rounds in T, as LibTorch's
// separate operations do. Built with -fno-math-errno (src/CMakeLists.txt) so
// that sqrt vectorizes: v >= 0, so errno is never set anyway.
template <typename T>
inline __attribute__((always_inline)) void adam_body(T* __restrict p, const T* __restrict g, T* __restrict m,
                                                     T* __restrict v, int64_t n, const AdamCoefficients& c) {
  const T beta1 = static_cast<T>(c.beta1), one_minus_beta1 = static_cast<T>(1.0 - c.beta1);
  const T beta2 = static_cast<T>(c.beta2), one_minus_beta2 = static_cast<T>(1.0 - c.beta2);
  const T step_size = static_cast<T>(c.step_size), denom_scale = static_cast<T>(c.denom_scale);
  const T eps = static_cast<T>(c.eps);
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = beta1 * m[i] + one_minus_beta1 * gi;
    const T vi = beta2 * v[i] + one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - step_size * mi / (std::sqrt(vi) * denom_scale + eps);
  }
}

}  // namespace

// x86-64-v4 (AVX-512), v3 (AVX2 + FMA) or the baseline, chosen by the CPU at
// load time (an ifunc). Elsewhere (another architecture, or clang, whose
// target_clones spelling differs) the compiler's own target.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NESGD_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NESGD_VECTOR_CLONES
#endif

NESGD_VECTOR_CLONES
void fused_adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamCoefficients& c) {
  adam_body(p, g, m, v, n, c);
}

NESGD_VECTOR_CLONES
void fused_adam_update(double* p, const double* g, double* m, double* v, int64_t n, const AdamCoefficients& c) {
  adam_body(p, g, m, v, n, c);
}

AdamCoefficients keras_adam_coefficients(double lr, double beta1, double beta2, double eps, int64_t t) {
  const auto td = static_cast<double>(t);
  AdamCoefficients c;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.step_size = lr * std::sqrt(1.0 - std::pow(beta2, td)) / (1.0 - std::pow(beta1, td));
  c.denom_scale = 1.0;
  c.eps = eps;
  return c;
}

AdamCoefficients torch_adam_coefficients(double lr, double beta1, double beta2, double eps, int64_t t) {
  const auto td = static_cast<double>(t);
  AdamCoefficients c;
  c.beta1 = beta1;
  c.beta2 = beta2;
  c.step_size = lr / (1.0 - std::pow(beta1, td));
  c.denom_scale = 1.0 / std::sqrt(1.0 - std::pow(beta2, td));
  c.eps = eps;
  return c;
}

}  // namespace nesgd::optim
