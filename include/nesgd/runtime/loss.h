// nesgd/runtime/loss.h - the training objective, formed in one place.
//
// Every loss nesgd computes is the cross-entropy of a network's logits
// against integer labels: a run's minibatch loss, a pack member's, a
// data-parallel rank's share, the extra batch of the noise scale, a CUDA
// graph's, and the evaluation sums. They all come from here, so a change to
// the objective (label smoothing, per-sample weights) is one change.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>

#include "nesgd/models/network.h"

namespace nesgd::runtime {

enum class Reduction { kMean, kSum };

// logits [b, classes], labels [b] -> the mean (or sum) of the per-sample
// cross-entropies, a scalar.
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                            Reduction reduction = Reduction::kMean);

// A pack's stacked logits [K, b, classes] and labels [K, b] -> [K]: each
// member's own mean (or sum) over its b samples.
torch::Tensor member_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                   Reduction reduction = Reduction::kMean);

// The model's loss on one batch, its forward pass under the run's precision
// (bf16 autocast where the run asks for it; runtime/precision.h).
torch::Tensor batch_loss(models::Network& model, const torch::Tensor& x, const torch::Tensor& labels,
                         const std::string& precision, const torch::Device& device,
                         Reduction reduction = Reduction::kMean);

// NE's joint pass (optim/ne_pass.h): x and labels hold [B; B'], B the first
// size_b rows. One forward under the run's precision, in which ghost batch norm
// treats B and B' as two segments (models/ghost_batch_norm.h); returns L_B and
// L_B', each the mean (or sum) over its own rows, as batch_loss would give them.
std::pair<torch::Tensor, torch::Tensor> joint_batch_losses(models::Network& model, const torch::Tensor& x,
                                                           const torch::Tensor& labels, int64_t size_b,
                                                           const std::string& precision, const torch::Device& device,
                                                           Reduction reduction = Reduction::kMean);

}  // namespace nesgd::runtime
