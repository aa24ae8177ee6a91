// nesgd/optim/keras_adam.h - Adam exactly as Keras computes it, as a torch::optim optimizer.
//
// Kingma & Ba (arXiv 1412.6980), in the form of their Section 2's last
// paragraph, which is what tf.keras.optimizers.Adam (TF's ApplyAdam kernel)
// and Keras 3 compute. At step t = 1, 2, ... with gradient g:
//
//     lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//     m    = beta1 * m + (1 - beta1) * g
//     v    = beta2 * v + (1 - beta2) * g^2
//     w   -= lr_t * m / (sqrt(v) + eps)
//
// LibTorch's Adam (PyTorch's) instead divides by sqrt(v_hat) + eps with
// v_hat = v / (1 - beta2^t): the same update with eps multiplied by
// sqrt(1 - beta2^t). Early in training sqrt(1 - beta2^t) is small (0.032 at
// t = 1 with beta2 = 0.999), so Keras's eps weighs up to ~30x more there; with
// eps = 0 the two are identical. The paper trained with Keras's Adam
// defaults (PAPER.md), eps = 1e-7, and this optimizer reproduces that.
//
// A plain torch::optim::Optimizer: param groups, per-parameter state (step,
// m, v) saved and loaded like torch's own (so checkpoints resume step for
// step), get_lr/set_lr through its options (so optim::scale_lr works).
// Parameters without a gradient are skipped, as torch's Adam does. No weight
// decay: Keras's Adam of the paper's time had none (and the paper used none).
#pragma once

#include <torch/torch.h>

#include <tuple>
#include <vector>

#include "nesgd/optim/fused_adam.h"
#include "nesgd/optim/optimizer_config.h"

namespace nesgd::optim {

struct KerasAdamOptions : public torch::optim::OptimizerCloneableOptions<KerasAdamOptions> {
  KerasAdamOptions(double lr = kKerasAdamLr) : lr_(lr) {}  // NOLINT: implicit from lr, as torch's AdamOptions
  TORCH_ARG(double, lr) = kKerasAdamLr;
  using betas_t = std::tuple<double, double>;
  TORCH_ARG(betas_t, betas) = std::make_tuple(kKerasAdamBeta1, kKerasAdamBeta2);
  TORCH_ARG(double, eps) = kKerasAdamEpsilon;
  // One pass over the parameters (optim/fused_adam.h) where it applies: CPU
  // tensors, contiguous, float or double. False (or any other tensor): the
  // same update as LibTorch operations, seven passes.
  TORCH_ARG(bool, fused) = true;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double lr) override { this->lr(lr); }
};

struct KerasAdamParamState : public torch::optim::OptimizerCloneableParamState<KerasAdamParamState> {
  TORCH_ARG(int64_t, step) = 0;
  TORCH_ARG(torch::Tensor, exp_avg);     // m
  TORCH_ARG(torch::Tensor, exp_avg_sq);  // v (not bias-corrected)

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

class KerasAdam : public torch::optim::Optimizer {
 public:
  explicit KerasAdam(std::vector<torch::optim::OptimizerParamGroup> param_groups, KerasAdamOptions defaults = {});
  explicit KerasAdam(std::vector<torch::Tensor> params, KerasAdamOptions defaults = {})
      : KerasAdam({torch::optim::OptimizerParamGroup(std::move(params))}, defaults) {}

  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
};

// Applies c to p (with gradient g and moments m, v) in one pass when all four
// are contiguous CPU tensors of one floating type (float or double) and equal
// size, split over ATen's intra-op threads; returns false, touching nothing,
// otherwise. Used by KerasAdam and by the pack optimizer's CPU path.
bool fused_adam_step(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v,
                     const AdamCoefficients& c);

}  // namespace nesgd::optim
