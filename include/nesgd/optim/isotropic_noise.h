// nesgd/optim/isotropic_noise.h - the control for NE: isotropic noise of NE's own strength.
//
// At every step (formula and references in optim/noise_control.h):
//
//     g_ISO = g_B + sigma xi,   xi ~ N(0, I),   E|sigma xi|^2 = |(alpha - 1)(g_B - g_B')|^2
//
// sigma is chosen anew each step from that step's B and B', over the whole parameter
// vector (sigma^2 = |n|^2 / P with n = (alpha - 1)(g_B - g_B'), P parameters; "whole",
// the default) or per parameter tensor (sigma_t^2 = |n_t|^2 / P_t; "tensor"). The step
// costs what an NE step in the split pass costs: a forward and a backward over B and over
// B' (the joint pass forms only g_NE, never g_B alone), plus one draw of P normals.
// xi comes from a CPU generator seeded from the run's seed and the step alone (noise_control.h's
// kStreamIsotropicNoise), drawn tensor by tensor in parameter order in each parameter's dtype,
// then moved to its device: the same noise on every device, and a resumed run draws what it
// would have drawn. At alpha = 1 the NE noise is 0, sigma = 0, B' is never drawn: plain training.
//
// Like ne_backward, this fills the parameters' .grad() and leaves the step to ANY
// torch::optim optimizer.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nesgd/optim/noise_enhancement.h"

namespace nesgd::optim {

struct IsotropicNoiseOptions {
  double alpha = 1.0;           // the NE whose strength is matched
  std::string matching = "whole";  // kMatchWhole | kMatchTensor (optim/noise_control.h)
  uint64_t seed = 0;            // the run's isotropic-noise seed (derive_seed(run seed, kStreamIsotropicNoise))
};

struct IsotropicBackwardResult {
  NEBackwardResult losses;
  double ne_noise_sq = 0.0;  // |(alpha - 1)(g_B - g_B')|^2 of this step (0 at alpha = 1)
  double added_sq = 0.0;     // |sigma xi|^2, the noise actually added
};

// The per-tensor sigma for NE noise tensors `noise` (n_t): all equal to sqrt(sum |n_t|^2 / P) for
// "whole", sqrt(|n_t|^2 / P_t) each for "tensor". Throws nesgd::Error for another matching name.
std::vector<double> isotropic_sigmas(const std::vector<torch::Tensor>& noise, const std::string& matching);

// xi for step `step`: one standard-normal tensor per entry of `like` (its shape, dtype and device).
std::vector<torch::Tensor> isotropic_draw(const std::vector<torch::Tensor>& like, uint64_t seed, int64_t step);

// Leaves g_B + sigma xi in the .grad() of `params` (which it first zeroes): B's loss backward,
// then B''s (alpha != 1 only), then the noise. Does not step.
IsotropicBackwardResult isotropic_backward(const std::vector<torch::Tensor>& params, const MinibatchLoss& loss_b,
                                           const MinibatchLoss& loss_b_prime, const IsotropicNoiseOptions& options,
                                           int64_t step);

}  // namespace nesgd::optim
