// nesgd/models/packed.h - K networks of one architecture, trained side by side as one.
//
// A pack holds K members of the same model (F1, C1 or C2) with different
// weights. Every parameter and buffer is the members' tensors stacked on a
// new leading axis, [K, ...the single network's shape...], so member k's
// weights are exactly slot k of each stacked tensor and nothing is shared:
//   dense layers   y[k] = x[k] W[k]^T + b[k]            one batched GEMM (bmm) per layer
//   convolutions   the K members' channels side by side, [N, K*C, H, W], and one
//                  grouped convolution (groups = K): group k sees only member k's
//                  channels and weights
//   ghost BN       ghost_batch_norm() on K*C channels: every statistic is per
//                  channel, so per member and per ghost batch as in a single run
// The gradient of sum_k loss_k with respect to slot k of a parameter is the
// gradient of loss_k alone: members never exchange a value, forward or back.
//
// This part builds the stacked tensors from K single networks, runs them, and
// copies a member's weights back into a single network (for evaluation and
// model files). It knows nothing of data streams, optimizers or the protocol
// (train/pack.h trains packs).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "nesgd/models/ghost_batch_norm.h"
#include "nesgd/models/network.h"

namespace nesgd::models {

class PackedNetwork {
 public:
  // Stacks the members' parameters and buffers (same architecture; each
  // member keeps its own weights, device and dtype). Throws nesgd::Error for
  // an empty list, unknown architectures or members that differ in shape.
  explicit PackedNetwork(const std::vector<std::shared_ptr<Network>>& members);

  int64_t size() const { return k_; }

  // x: [K, N, C, H, W], member k's minibatch in slot k -> logits [K, N, classes].
  // Training mode: ghost BN normalizes per member and ghost batch and updates
  // the members' running statistics, once per entry of `segments` (sample
  // counts along N adding up to N, as ghost_batch_norm takes them: NE's joint
  // pass over [B; B'] is {|B|, |B'|}; empty = one). Evaluation mode: running statistics.
  torch::Tensor forward(const torch::Tensor& x, bool training, const std::vector<int64_t>& segments = {});

  // Stacked parameters [K, ...] (leaf tensors that require grad), in the
  // order of the single network's parameters(); the same for buffers.
  const std::vector<torch::Tensor>& parameters() const { return params_; }
  const std::vector<torch::Tensor>& buffers() const { return buffers_; }

  // Keeps only the listed members (slots, in this order); the pack shrinks to
  // their count. Parameters are new leaf tensors afterwards.
  void keep(const std::vector<int64_t>& slots);

  // Writes member `slot`'s parameters and buffers into `single`, a network of
  // the members' architecture.
  void copy_member_to(int64_t slot, Network& single) const;

  bool has_batch_norm() const { return !buffers_.empty(); }

 private:
  enum class Kind { kDense, kConv };
  struct ConvLayer {
    size_t weight, bias, bn_weight, bn_bias;  // indices into params_
    size_t running_mean, running_var;         // indices into buffers_
    bool pool_after;
  };
  struct DenseLayer {
    size_t weight, bias;
    bool relu;
  };

  torch::Tensor dense_stack(torch::Tensor h) const;  // [K, N, F] -> [K, N, classes]

  Kind kind_;
  int64_t k_ = 0;
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> buffers_;
  std::vector<ConvLayer> convs_;
  std::vector<DenseLayer> dense_;
  GhostBatchNormOptions bn_options_{1};
  bool channels_last_ = false;
};

}  // namespace nesgd::models
