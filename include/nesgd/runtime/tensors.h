// nesgd/runtime/tensors.h - dataset bytes to tensors, and evaluation passes.
#pragma once

#include <torch/torch.h>

#include "nesgd/data/dataset.h"
#include "nesgd/models/network.h"
#include "nesgd/runtime/precision.h"  // dtype_of_precision

namespace nesgd::runtime {

struct TensorSet {
  torch::Tensor x;  // [n, C, H, W], float32 (or the run's precision): in [0, 1] from uint8 pixels
  torch::Tensor y;  // [n] int64
};

// uint8 pixels / 255 -> [0, 1], float32 pixels (ImageSet::pixels_f32) as they are; as `dtype`,
// moved to `device`.
TensorSet to_tensors(const data::ImageSet& set, const torch::Device& device,
                     torch::ScalarType dtype = torch::kFloat32);

// The samples of one minibatch. indices: [B] -> x: [B, C, H, W], y: [B]
std::pair<torch::Tensor, torch::Tensor> gather(const TensorSet& set, const std::vector<int64_t>& indices);

// Samples per forward pass of an evaluation: every evaluation (a run's, a pack
// member's full loss, a data-parallel rank's share) cuts a set into these
// chunks, so their sums agree up to the order of the final additions.
inline constexpr int64_t kEvalChunk = 1000;

struct EvalResult {
  double loss = 0.0;      // mean cross-entropy
  double accuracy = 0.0;  // fraction correct
};

// Mean loss and accuracy over the whole set in evaluation mode (no grad,
// batch norm on running statistics), in chunks of `chunk` samples. Restores
// the model's training flag afterwards.
EvalResult evaluate(models::Network& model, const TensorSet& set, int64_t chunk = kEvalChunk);

}  // namespace nesgd::runtime
