// nesgd/optim/noise_control.h - what noise a step adds, and the batch-size rule (torch-free).
//
// NE's step adds (alpha - 1)(g_B - g_B') to the plain gradient g_B:
//
//     g_NE = alpha g_B + (1 - alpha) g_B' = g_B + (alpha - 1)(g_B - g_B')
//
// noise whose covariance is 2 (alpha - 1)^2 times SGD's own at batch size B: it has the
// structure of the gradient noise. The paper argues that this structure is why NE helps,
// unlike isotropic noise (Neelakantan et al., "Adding gradient noise improves learning for
// very deep networks", arXiv 1511.06807). The control (optim/isotropic_noise.h) steps on
//
//     g_ISO = g_B + sigma xi,   xi ~ N(0, I),   sigma^2 = |(alpha - 1)(g_B - g_B')|^2 / P
//
// at every step, so that E|sigma xi|^2 = |(alpha - 1)(g_B - g_B')|^2 (P parameters): the
// strength of that step's NE noise, the same two minibatches (the same cost), no structure.
// The matching is over the whole parameter vector by default ("whole"); "tensor" matches
// each parameter tensor's own strength (sigma_t^2 = |n_t|^2 / P_t).
//
// The batch-size rule: NE at B with alpha has the noise of plain training at
// B_eff = B / (alpha^2 + (1 - alpha)^2) (Mori & Ueda, Section 3). --match-batch B_ref picks
// the alpha >= 1 with B_eff = B_ref:
//
//     alpha = (1 + sqrt(2 B / B_ref - 1)) / 2,
//
// which exists for B >= B_ref / 2 (B = B_ref / 2 gives alpha = 1/2, plain training at 2B).
#pragma once

#include <cmath>
#include <cstdint>

#include "nesgd/names.h"

namespace nesgd::optim {

constexpr const char* kNoiseNE = "ne";                // g_NE, the paper's (the default)
constexpr const char* kNoiseIsotropic = "isotropic";  // g_B + sigma xi of NE's strength
inline const NameList& noise_names() {
  static const NameList names{kNoiseNE, kNoiseIsotropic};
  return names;
}

constexpr const char* kMatchWhole = "whole";    // one sigma for the whole parameter vector (the default)
constexpr const char* kMatchTensor = "tensor";  // a sigma per parameter tensor
inline const NameList& noise_matching_names() {
  static const NameList names{kMatchWhole, kMatchTensor};
  return names;
}

// The id of the isotropic noise's own seeded stream (data::derive_seed(seed, id), beside
// data/batch_stream.h's kStreamB = 1, kStreamBPrime = 2, kStreamInit = 3). Step t draws xi
// from a generator seeded with derive_seed(that seed, t), so the noise is a function of the
// run's seed and the step alone: a resumed run draws what it would have drawn.
constexpr uint64_t kStreamIsotropicNoise = 4;

// alpha^2 + (1 - alpha)^2: the factor NE multiplies the noise covariance of batch size B by.
inline double ne_noise_factor(double alpha) { return alpha * alpha + (1.0 - alpha) * (1.0 - alpha); }
// B_eff of NE at batch size b and alpha.
inline double effective_batch(double b, double alpha) { return b / ne_noise_factor(alpha); }

// The alpha >= 1/2 whose B_eff at batch size b is b_ref (formula above); NaN where b < b_ref / 2
// (no alpha reaches it) or either size is not positive.
inline double alpha_for_matched_batch(double b, double b_ref) {
  if (!(b > 0.0) || !(b_ref > 0.0) || 2.0 * b < b_ref) return std::nan("");
  return (1.0 + std::sqrt(2.0 * b / b_ref - 1.0)) / 2.0;
}

}  // namespace nesgd::optim
