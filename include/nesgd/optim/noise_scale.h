// nesgd/optim/noise_scale.h - the gradient noise scale B_simple (torch-free).
//
// McCandlish, Kaplan, Amodei et al. (2018), "An Empirical Model of Large-Batch
// Training", appendix A.1: from the squared norms of minibatch gradients at
// two batch sizes B_small < B_big (E|g_B|^2 = |G|^2 + tr(Sigma) / B),
//
//   |G|^2     ~ (B_big |g_big|^2 - B_small |g_small|^2) / (B_big - B_small)
//   tr(Sigma) ~ (|g_small|^2 - |g_big|^2) / (1 / B_small - 1 / B_big)
//   B_simple  = tr(Sigma) / |G|^2
//
// Both estimates are unbiased but noisy, so for a curve they are smoothed
// separately (EMA) before the ratio is taken, as the paper recommends.
// NE computes g_B and g_B' every step, and g_2B = (g_B + g_B') / 2, so the
// pair (B, 2B) comes for free.
// It sits with the optimizer-level code, below both of its users: the trainer
// logs it along a run (--log-noise-scale) and the noise meter (noise/) reports
// it at fixed weights. It only does arithmetic on norms; it sees no tensors.
#pragma once

#include <cstdint>
#include <string>

namespace nesgd::optim {

struct NoiseScaleEstimate {
  double g_squared = 0.0;    // |G|^2 estimate
  double trace_sigma = 0.0;  // tr(Sigma) estimate (per-sample covariance trace)
  double b_simple = 0.0;     // trace_sigma / g_squared (NaN if g_squared <= 0)
};

// One unbiased estimate from a single pair of gradient norms.
NoiseScaleEstimate estimate_noise_scale(double sq_norm_small, int64_t b_small, double sq_norm_big, int64_t b_big);

// Exponential moving averages of |G|^2 and tr(Sigma); b_simple is their ratio.
class NoiseScaleTracker {
 public:
  explicit NoiseScaleTracker(double decay = 0.99);  // weight of the past
  void add(const NoiseScaleEstimate& e);
  NoiseScaleEstimate smoothed() const;  // bias-corrected like Adam's moments
  int64_t count() const { return count_; }
  // Exact state as text (checkpoints), and its inverse.
  std::string save_state() const;
  void load_state(const std::string& state);

 private:
  double decay_;
  double g2_ = 0.0;
  double trace_ = 0.0;
  double weight_ = 0.0;  // 1 - decay^count, for the bias correction
  int64_t count_ = 0;
};

}  // namespace nesgd::optim
