// nesgd/optim/pack_optimizer.h - K independent optimizers over stacked parameters.
//
// A pack (models/packed.h) stores member k's weights in slot k of tensors
// shaped [K, ...]. This optimizer applies to every slot exactly the update
// that a torch::optim optimizer of that member alone would apply (same
// formulas, same order of operations), with each member's own learning rate,
// in one pass per stacked tensor instead of K. Every update is elementwise,
// so no slot ever reads another slot's values: a NaN in one member stays there.
//
// Supported (the formulas are LibTorch's optimizers', pytorch/pytorch
// torch/csrc/api/src/optim/*.cpp; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t):
//   adam:   g += wd*w; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//           w -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps)
//   adamw:  w *= 1 - lr*wd; then adam's moments and step without the g += wd*w
//   keras-adam (optim/keras_adam.h): m, v as adam; w -= lr sqrt(bc2)/bc1 * m / (sqrt(v) + eps)
//   sgd:    g += wd*w; with momentum mu: buf = g (first step), else buf = mu buf + g; w -= lr * buf
// All members take a step together, so their step counts t are equal.
// rmsprop is not supported (supports() says so); a pack of it is refused.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "nesgd/optim/optimizer_config.h"

namespace nesgd::optim {

class PackOptimizer {
 public:
  // params: stacked leaf tensors [K, ...]; lrs: each member's learning rate (K values).
  PackOptimizer(std::vector<torch::Tensor> params, const OptimizerConfig& config, std::vector<double> lrs);

  // True when `name` has a packed form; else false and `why` says what to use.
  static bool supports(const std::string& name, std::string* why = nullptr);

  void zero_grad();
  void step();

  double lr(int64_t slot) const { return lrs_.at(static_cast<size_t>(slot)); }
  void set_lr(int64_t slot, double lr);
  int64_t steps() const { return step_; }

  // Adam's update member by member (LibTorch's operations on each member's
  // slice; the default on a CPU) or over the whole stack at once with
  // per-member factors broadcast (the default on a GPU). Same numbers either way.
  void set_member_by_member(bool on) { member_by_member_ = on; }

  // The pack shrank to `slots` (models::PackedNetwork::keep): keep those
  // members' state, and step the new parameter tensors from now on.
  void keep(const std::vector<int64_t>& slots, std::vector<torch::Tensor> new_params);

 private:
  torch::Tensor per_member(const torch::Tensor& values, const torch::Tensor& like) const;  // [K] -> [K, 1, ...]
  void upload_lrs();

  std::vector<torch::Tensor> params_;
  OptimizerConfig config_;
  std::vector<double> lrs_;
  torch::Tensor lr_tensor_;  // [K] float64 on the parameters' device
  std::vector<torch::Tensor> first_moment_;   // adam/adamw: m; sgd: momentum buffer
  std::vector<torch::Tensor> second_moment_;  // adam/adamw: v
  int64_t step_ = 0;
  bool member_by_member_ = true;
};

}  // namespace nesgd::optim
