// nesgd/optim/fused_adam.h - Adam's update in one pass over the parameters (torch-free).
//
// The update written as LibTorch operations (optim/keras_adam.cpp's reference
// form) makes seven passes over the parameters' size: m *= b1; m += (1-b1) g;
// v *= b2; v += (1-b2) g^2; s = sqrt(v); s += eps; p -= lr_t m / s, and
// allocates s every step. This kernel reads p, g, m, v once and writes p, m, v
// once, per element:
//
//     m = beta1 * m + (1 - beta1) * g
//     v = beta2 * v + (1 - beta2) * g * g
//     p = p - step_size * m / (sqrt(v) * denom_scale + eps)
//
// which is Keras's Adam with step_size = lr sqrt(1 - beta2^t) / (1 - beta1^t)
// and denom_scale = 1, and LibTorch's Adam (no weight decay) with
// step_size = lr / (1 - beta1^t) and denom_scale = 1 / sqrt(1 - beta2^t).
// Every operation rounds in the parameters' type, as the LibTorch operations
// do, so the two forms agree to a few units in the last place (tested against
// torch::optim::Adam and against hand-worked values of Keras's formula,
// tests/optim/test_fused_adam.cpp). The loop is compiled for several x86
// vector widths and the widest the CPU has is chosen when the program starts
// (GCC's target_clones), so no one machine's features are hard-wired.
#pragma once

#include <cstdint>

namespace nesgd::optim {

struct AdamCoefficients {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double step_size = 0.0;    // the bias-corrected learning rate (see above)
  double denom_scale = 1.0;  // multiplies sqrt(v) before eps is added
  double eps = 1e-7;
};

// Keras's Adam at step t (1, 2, ...): step_size = lr sqrt(1 - beta2^t) / (1 - beta1^t), denom_scale = 1.
AdamCoefficients keras_adam_coefficients(double lr, double beta1, double beta2, double eps, int64_t t);
// LibTorch's Adam at step t: step_size = lr / (1 - beta1^t), denom_scale = 1 / sqrt(1 - beta2^t).
AdamCoefficients torch_adam_coefficients(double lr, double beta1, double beta2, double eps, int64_t t);

// Elements [0, n) of four equally long arrays. p, m and v are updated in place; g is read.
void fused_adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamCoefficients& c);
void fused_adam_update(double* p, const double* g, double* m, double* v, int64_t n, const AdamCoefficients& c);

}  // namespace nesgd::optim
