// nesgd/optim/noise_enhancement.h - the noise-enhanced (NE) gradient.
//
// Mori & Ueda, "Improved generalization by noise enhancement" (arXiv 2009.13094):
//
//     g_NE = alpha * grad L_B(w) + (1 - alpha) * grad L_B'(w)
//
// with B and B' two independent minibatches of the same size. The mean is the
// full-batch gradient (both terms are unbiased); the noise covariance is
// multiplied by alpha^2 + (1 - alpha)^2, i.e. it behaves like batch size
// B_eff = B / (alpha^2 + (1 - alpha)^2). alpha = 1 is plain training at B;
// alpha = 1/2 is plain training at 2B; alpha > 1 enhances the noise.
//
// Two ways to the same gradient (optim/ne_pass.h). Split: LibTorch
// accumulates gradients across backward() calls, so we backpropagate
// alpha * L_B and then (1 - alpha) * L_B', each batch its own forward pass.
// Joint: one forward pass over [B; B'] yields both losses, and one backward of
// alpha * L_B + (1 - alpha) * L_B' forms g_NE (ghost batch norm sees B and B'
// as separate segments, models/ghost_batch_norm.h). Either way the parameters'
// .grad() then hold g_NE and ANY torch::optim optimizer steps on it unchanged.
//
// This part knows nothing of data, models or training schedules: the caller
// supplies the two minibatch losses as closures. With alpha == 1 the B'
// closure is never called, so B' is neither drawn nor computed.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <utility>

#include "nesgd/optim/ne_pass.h"

namespace nesgd::optim {

struct NoiseEnhancementOptions {
  NoiseEnhancementOptions(double alpha = 1.0) : alpha_(alpha) {}  // NOLINT: implicit from alpha is intended
  TORCH_ARG(double, alpha);
};

// Returns the mean loss of one minibatch (a scalar with grad history).
using MinibatchLoss = std::function<torch::Tensor()>;
// Returns L_B and L_B' (scalars with grad history) from one forward pass over [B; B'].
using JointMinibatchLosses = std::function<std::pair<torch::Tensor, torch::Tensor>()>;

struct NEBackwardResult {
  double loss_b = 0.0;        // L_B at the current weights
  double loss_b_prime = 0.0;  // L_B' (NaN when alpha == 1: not computed)
  bool used_b_prime = false;
};

// True when the step needs B' at all (alpha != 1).
bool needs_second_batch(const NoiseEnhancementOptions& options);

// The NE combination, stated once: g_NE = b * g_B + b_prime * g_B' with
// b = alpha and b_prime = 1 - alpha (in double). The split step below, every
// pack member (train/pack.cpp) and the CUDA-graph step (train/graph_step.cpp)
// take their weights from here.
struct NEWeights {
  double b = 1.0;
  double b_prime = 0.0;
};
NEWeights ne_weights(double alpha);

// One term of the NE objective, ready for backward(): weight * loss, or the
// loss itself at weight 1 (plain training, bit for bit and without a kernel).
torch::Tensor ne_term(const torch::Tensor& loss, double weight);

// The objective of a pack (one loss per member): sum over members k of
// w_b[k] * L_B[k] + w_b_prime[k] * L_B'[k], all four [K]. Its gradient with
// respect to member k's weights is member k's g_NE alone. loss_b_prime may be
// undefined when no member draws B'.
torch::Tensor ne_objective(const torch::Tensor& loss_b, const torch::Tensor& w_b, const torch::Tensor& loss_b_prime,
                           const torch::Tensor& w_b_prime);

// Accumulates alpha * grad L_B + (1 - alpha) * grad L_B' into the .grad() of
// the parameters that the losses depend on. Does not zero gradients and does
// not step: call optimizer.zero_grad() before, optimizer.step() after (or use
// ne_step). loss_b_prime may be empty when alpha == 1.
// `after_b`, if given, runs once B's backward is done and before B' is drawn:
// the gradients then hold exactly alpha * grad L_B (grad L_B when alpha == 1).
// Measurements hook in there (noise scale) without touching the step.
NEBackwardResult ne_backward(const MinibatchLoss& loss_b, const MinibatchLoss& loss_b_prime,
                             const NoiseEnhancementOptions& options, const std::function<void()>& after_b = {});

// The joint pass: the same accumulation from one forward over [B; B'] and one
// backward of alpha * L_B + (1 - alpha) * L_B' (ne_term, so the weights are
// ne_weights'). Needs alpha != 1 (at alpha = 1 there is no B': use
// ne_backward, whose single pass over B is then the whole step).
NEBackwardResult ne_backward_joint(const JointMinibatchLosses& losses, const NoiseEnhancementOptions& options);

// One full NE step on any optimizer: zero_grad, ne_backward, step.
NEBackwardResult ne_step(torch::optim::Optimizer& optimizer, const MinibatchLoss& loss_b,
                         const MinibatchLoss& loss_b_prime, const NoiseEnhancementOptions& options);

}  // namespace nesgd::optim
