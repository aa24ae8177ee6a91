// nesgd/models/ghost_batch_norm.h - ghost ("virtual") batch normalization for 4-D inputs.
//
// Batch norm whose training-mode statistics come from consecutive chunks of
// `ghost_batch_size` samples instead of the whole minibatch (Hoffer et al.
// 2017; Keras's BatchNormalization(virtual_batch_size=...), which the paper's
// C1/C2 use with 100). Running statistics follow Keras by default (momentum
// 0.99 on the old value, epsilon 1e-3, biased variance) and can be switched to
// PyTorch's convention (momentum 0.1 on the new value, epsilon 1e-5, unbiased
// variance), in which case a ghost size equal to the batch size reproduces
// torch::nn::BatchNorm2d exactly. It must not mix samples across ghost
// batches, and it never pads or drops samples: a training batch that is not a
// whole number of ghost batches is an error.
//
// The exact formulas, for x: [N, C, H, W], N = G * V (V = ghost_batch_size,
// ghost g = samples gV .. gV+V-1), m = V * H * W values per ghost and channel:
//
//   training:   mu_gc   = (1/m) sum_{n in g, h, w} x[n,c,h,w]
//               var_gc  = (1/m) sum_{n in g, h, w} (x[n,c,h,w] - mu_gc)^2          (biased)
//               y[n,c,h,w] = gamma_c * (x[n,c,h,w] - mu_gc) / sqrt(var_gc + eps) + beta_c
//   running statistics, updated once per training-mode forward call:
//               mean_c  = (1/G) sum_g mu_gc
//               v_c     = (1/G) sum_g var_gc * (unbiased_running_var ? m / (m - 1) : 1)
//               running_mean_c <- momentum * running_mean_c + (1 - momentum) * mean_c
//               running_var_c  <- momentum * running_var_c  + (1 - momentum) * v_c
//     (momentum in Keras's sense: the weight KEPT on the old value; PyTorch's
//      momentum p corresponds to momentum = 1 - p). From running_mean = 0,
//      running_var = 1, after k steps with statistics s_1..s_k:
//               running_k = momentum^k * running_0 + (1 - momentum) * sum_j momentum^(k-j) * s_j
//   evaluation: y = gamma_c * (x - running_mean_c) / sqrt(running_var_c + eps) + beta_c
//
// Keras itself groups ghost batches by a reshape to [V, G, ...], i.e. sample
// n belongs to ghost n mod G (strided), and updates the moving averages once
// per call with the ghost-averaged moments, as above. We use consecutive
// chunks (a ghost batch is a contiguous slice of the batch); for randomly
// ordered minibatches the two groupings have the same distribution.
//
// With NE, B and B' go through the network either in separate forward calls
// (the split pass) or in one call over [B; B'] (the joint pass) whose batch is
// cut into segments (BatchSegments below): each segment is a whole number of
// ghost batches, so a ghost never mixes B and B', and the running statistics
// are updated once per segment, in order, exactly as two successive calls
// would leave them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nesgd::models {

// The paper, C1/C2: ghost batch norm over ghost batches of 100.
constexpr int64_t kPaperGhostBatchSize = 100;
// Keras BatchNormalization defaults (the paper's authors likely used Keras).
constexpr double kKerasBnMomentum = 0.99;
constexpr double kKerasBnEps = 1e-3;
// PyTorch's BatchNorm defaults, expressed with Keras's momentum (1 - 0.1).
constexpr double kPyTorchBnMomentum = 0.9;
constexpr double kPyTorchBnEps = 1e-5;

enum class BatchNormConvention { kKeras, kPyTorch };
std::string to_string(BatchNormConvention c);
// "keras" | "pytorch"; throws nesgd::Error otherwise.
BatchNormConvention batch_norm_convention_from_string(const std::string& s);

struct GhostBatchNormOptions {
  // The convention sets momentum, eps and unbiased_running_var; each can
  // still be overridden afterwards.
  explicit GhostBatchNormOptions(int64_t num_features,
                                 BatchNormConvention convention = BatchNormConvention::kKeras);

  TORCH_ARG(int64_t, num_features);
  TORCH_ARG(int64_t, ghost_batch_size) = kPaperGhostBatchSize;
  // Weight kept on the old running value (Keras's meaning).
  TORCH_ARG(double, momentum) = kKerasBnMomentum;
  TORCH_ARG(double, eps) = kKerasBnEps;
  // Keras feeds the biased ghost variance to the moving average; PyTorch the unbiased one.
  TORCH_ARG(bool, unbiased_running_var) = false;
  // Learnable per-channel scale gamma (init 1) and shift beta (init 0).
  TORCH_ARG(bool, affine) = true;
};

class GhostBatchNorm2dImpl : public torch::nn::Cloneable<GhostBatchNorm2dImpl> {
 public:
  explicit GhostBatchNorm2dImpl(int64_t num_features) : GhostBatchNorm2dImpl(GhostBatchNormOptions(num_features)) {}
  explicit GhostBatchNorm2dImpl(GhostBatchNormOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // x: [N, C, H, W] -> [N, C, H, W]. In training mode N must be a multiple of
  // ghost_batch_size (nesgd::Error otherwise). Keeps x's memory format.
  torch::Tensor forward(const torch::Tensor& x);

  GhostBatchNormOptions options;
  torch::Tensor weight;        // gamma [C] (undefined unless affine)
  torch::Tensor bias;          // beta [C]
  torch::Tensor running_mean;  // [C], starts at 0
  torch::Tensor running_var;   // [C], starts at 1

  // Training-mode forward calls split their batch into these consecutive
  // segments (sizes adding up to N), one running-statistics update each;
  // empty = one segment. Set for one call by BatchSegments, not configuration.
  std::vector<int64_t> segments;
};

TORCH_MODULE(GhostBatchNorm2d);

// For its lifetime, every GhostBatchNorm2d inside `model` treats a training
// batch as the given consecutive segments (e.g. {|B|, |B'|} for NE's joint
// pass): statistics per ghost as always, running statistics updated once per
// segment in order. A model without ghost batch norm is untouched.
class BatchSegments {
 public:
  BatchSegments(torch::nn::Module& model, std::vector<int64_t> sizes);
  ~BatchSegments();
  BatchSegments(const BatchSegments&) = delete;
  BatchSegments& operator=(const BatchSegments&) = delete;

 private:
  std::vector<GhostBatchNorm2dImpl*> layers_;
};

// The module's computation on explicit tensors (GhostBatchNorm2dImpl::forward
// is this function on its own members). Packs of runs (train/pack.h) call it on
// K members' channels side by side: x [N, K*C, H, W] with weight, bias and
// running statistics of K*C entries normalizes every member's channels exactly
// as K separate modules would, since every statistic is per channel.
// running_mean / running_var are updated in place in training mode, once per
// entry of `segments` (consecutive sample counts adding up to N, each a
// multiple of the ghost batch size; empty = the whole batch as one).
torch::Tensor ghost_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               const GhostBatchNormOptions& options, bool training,
                               const std::vector<int64_t>& segments = {});

}  // namespace nesgd::models
