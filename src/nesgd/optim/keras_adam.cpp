#include "nesgd/optim/keras_adam.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>

#include "nesgd/error.h"
#include "optimizer_state.h"

namespace nesgd::optim {
namespace {

template <typename T>
void fused_on(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v,
              const AdamCoefficients& c) {
  T* pp = p.data_ptr<T>();
  const T* gp = g.data_ptr<T>();
  T* mp = m.data_ptr<T>();
  T* vp = v.data_ptr<T>();
  // Chunks of 64k elements: below that one thread does the whole tensor.
  constexpr int64_t kGrain = int64_t{1} << 16;
  at::parallel_for(0, p.numel(), kGrain, [&](int64_t begin, int64_t end) {
    fused_adam_update(pp + begin, gp + begin, mp + begin, vp + begin, end - begin, c);
  });
}

}  // namespace

bool fused_adam_step(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v,
                     const AdamCoefficients& c) {
  const auto dtype = p.scalar_type();
  if (dtype != torch::kFloat32 && dtype != torch::kFloat64) return false;
  for (const torch::Tensor* t : std::initializer_list<const torch::Tensor*>{&p, &g, &m, &v}) {
    if (!t->device().is_cpu() || t->scalar_type() != dtype || !t->is_contiguous() || t->numel() != p.numel() ||
        t->is_sparse()) {
      return false;
    }
  }
  if (dtype == torch::kFloat32) {
    fused_on<float>(p, g, m, v, c);
  } else {
    fused_on<double>(p, g, m, v, c);
  }
  // As an in-place operation would: autograd sees that p, m and v changed.
  for (torch::Tensor* t : std::initializer_list<torch::Tensor*>{&p, &m, &v}) t->unsafeGetTensorImpl()->bump_version();
  return true;
}

void KerasAdamOptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("beta1", c10::IValue(std::get<0>(betas())));
  archive.write("beta2", c10::IValue(std::get<1>(betas())));
  archive.write("eps", c10::IValue(eps()));
}

void KerasAdamOptions::serialize(torch::serialize::InputArchive& archive) {
  lr(detail::read_value(archive, "lr").toDouble());
  betas({detail::read_value(archive, "beta1").toDouble(), detail::read_value(archive, "beta2").toDouble()});
  eps(detail::read_value(archive, "eps").toDouble());
}

void KerasAdamParamState::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("step", c10::IValue(step()));
  archive.write("exp_avg", c10::IValue(exp_avg()));
  archive.write("exp_avg_sq", c10::IValue(exp_avg_sq()));
}

void KerasAdamParamState::serialize(torch::serialize::InputArchive& archive) {
  step(detail::read_value(archive, "step").toInt());
  exp_avg(detail::read_value(archive, "exp_avg").toTensor());
  exp_avg_sq(detail::read_value(archive, "exp_avg_sq").toTensor());
}

KerasAdam::KerasAdam(std::vector<torch::optim::OptimizerParamGroup> param_groups, KerasAdamOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<KerasAdamOptions>(defaults)) {
  const auto [beta1, beta2] = defaults.betas();
  if (!(defaults.lr() >= 0.0)) throw Error("keras-adam: the learning rate must be >= 0, got " + std::to_string(defaults.lr()));
  if (!(defaults.eps() >= 0.0)) throw Error("keras-adam: eps must be >= 0, got " + std::to_string(defaults.eps()));
  if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0)) {
    throw Error("keras-adam: beta1 and beta2 must lie in [0, 1), got " + std::to_string(beta1) + " and " +
                std::to_string(beta2));
  }
}

torch::Tensor KerasAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const KerasAdamOptions&>(group.options());
    const auto [beta1, beta2] = options.betas();
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const torch::Tensor& g = p.grad();
      TORCH_CHECK(!g.is_sparse(), "keras-adam does not support sparse gradients");
      auto& state = detail::state_of<KerasAdamParamState>(state_, p, [&p] {
        auto fresh = std::make_unique<KerasAdamParamState>();
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        return fresh;
      });
      state.step(state.step() + 1);
      // The bias corrections go into the step size (a scalar, in double), not into m and v.
      const AdamCoefficients c = keras_adam_coefficients(options.lr(), beta1, beta2, options.eps(), state.step());
      torch::Tensor m = state.exp_avg(), v = state.exp_avg_sq();
      if (options.fused() && fused_adam_step(p, g, m, v, c)) continue;
      const double lr_t = c.step_size;
      state.exp_avg().mul_(beta1).add_(g, 1.0 - beta1);
      state.exp_avg_sq().mul_(beta2).addcmul_(g, g, 1.0 - beta2);
      p.addcdiv_(state.exp_avg(), state.exp_avg_sq().sqrt().add_(options.eps()), -lr_t);
    }
  }
  return loss;
}

void KerasAdam::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<KerasAdamParamState, KerasAdamOptions>(archive, *this);
}

void KerasAdam::load(torch::serialize::InputArchive& archive) {
  torch::optim::serialize<KerasAdamParamState, KerasAdamOptions>(archive, *this);
}

}  // namespace nesgd::optim
