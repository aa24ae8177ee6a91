// nesgd/optim/pnm.h - Positive-Negative Momentum (PNM) and its Adam form (AdaPNM), as torch::optim optimizers.
//
// Xie, Yuan, Zhu & Sugiyama, "Positive-Negative Momentum: Manipulating Stochastic Gradient
// Noise to Improve Generalization", ICML 2021 (arXiv 2103.17182), Algorithms 1 and 2. PNM
// enlarges the gradient noise, as NE does, but at one gradient per step: two momentum buffers
// take alternate steps' gradients, and the update combines the newer positively and the older
// negatively. At step t = 1, 2, ... with gradient g_t:
//
//     m_t = beta1^2 m_(t-2) + (1 - beta1^2) g_t            (m_odd at odd t, m_even at even t)
//     p_t = ((1 + beta0) m_t - beta0 m_(t-1)) / sqrt((1 + beta0)^2 + beta0^2)
//
// PNM (SGD form):  w -= lr p_t.
// AdaPNM (Adam form, with the AMSGrad maximum the paper's Algorithm 2 uses):
//
//     v_t  = beta2 v_(t-1) + (1 - beta2) g_t^2,   v_max = max(v_max, v_t)
//     w   -= lr / (1 - beta1^t) * p_t / (sqrt(v_max) / sqrt(1 - beta2^t) + eps)
//
// beta0 = 1 (the paper's default) makes the noise of the momentum's gradient estimate
// sqrt(5) ~ 2.2 times larger in amplitude at the same mean; beta0 = 0 is heavy-ball momentum
// with beta1^2 over every second step. The authors' public code once normalised AdaPNM with
// beta2 in place of beta0 (sqrt((1 + beta2)^2 + beta2^2)); this follows the paper.
// Decoupled weight decay (w *= 1 - lr * weight_decay before the step), as the authors' code;
// the paper's runs here use none.
//
// A plain torch::optim::Optimizer: param groups, per-parameter state saved and loaded like
// torch's own (checkpoints resume step for step), get_lr/set_lr through its options, and
// parameters without a gradient skipped.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "nesgd/optim/optimizer_config.h"

namespace nesgd::optim {

// Xie et al.'s defaults (their paper and code): beta1 = 0.9, beta2 = 0.999, beta0 = 1, eps = 1e-8.
constexpr double kPnmBeta0 = kPnmDefaultBeta0;
constexpr double kPnmBeta1 = 0.9;
constexpr double kPnmBeta2 = 0.999;
constexpr double kPnmEps = 1e-8;

struct PNMOptions : public torch::optim::OptimizerCloneableOptions<PNMOptions> {
  PNMOptions(double lr = 1e-3) : lr_(lr) {}  // NOLINT: implicit from lr, as torch's options
  TORCH_ARG(double, lr) = 1e-3;
  TORCH_ARG(double, beta0) = kPnmBeta0;
  TORCH_ARG(double, beta1) = kPnmBeta1;
  TORCH_ARG(double, beta2) = kPnmBeta2;  // AdaPNM only
  TORCH_ARG(double, eps) = kPnmEps;      // AdaPNM only
  TORCH_ARG(double, weight_decay) = 0.0;
  TORCH_ARG(bool, adaptive) = false;  // false: PNM; true: AdaPNM

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override { return lr(); }
  void set_lr(const double lr) override { this->lr(lr); }
};

struct PNMParamState : public torch::optim::OptimizerCloneableParamState<PNMParamState> {
  TORCH_ARG(int64_t, step) = 0;
  TORCH_ARG(torch::Tensor, m_odd);   // the buffer of odd steps
  TORCH_ARG(torch::Tensor, m_even);  // the buffer of even steps
  TORCH_ARG(torch::Tensor, v);       // AdaPNM: beta2-average of g^2
  TORCH_ARG(torch::Tensor, v_max);   // AdaPNM: its running maximum

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
};

class PNM : public torch::optim::Optimizer {
 public:
  explicit PNM(std::vector<torch::optim::OptimizerParamGroup> param_groups, PNMOptions defaults = {});
  explicit PNM(std::vector<torch::Tensor> params, PNMOptions defaults = {})
      : PNM({torch::optim::OptimizerParamGroup(std::move(params))}, defaults) {}

  torch::Tensor step(LossClosure closure = nullptr) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
};

}  // namespace nesgd::optim
