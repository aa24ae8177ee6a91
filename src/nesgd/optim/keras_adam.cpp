#include "nesgd/optim/keras_adam.h"

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

#include "nesgd/error.h"

namespace nesgd::optim {
namespace {

// The key under which torch::optim::Optimizer keeps a parameter's state, the
// one torch's own optimizers and its serialize() use: the address of the
// tensor's impl, as text ("0x...", ostream's form) in LibTorch 1.x and as the
// pointer itself in 2.x. Save and load only find the state under that key.
template <typename Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << static_cast<const void*>(p.unsafeGetTensorImpl());
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const char* key) {
  c10::IValue v;
  archive.read(key, v);
  return v;
}

}  // namespace

void KerasAdamOptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("beta1", c10::IValue(std::get<0>(betas())));
  archive.write("beta2", c10::IValue(std::get<1>(betas())));
  archive.write("eps", c10::IValue(eps()));
}

void KerasAdamOptions::serialize(torch::serialize::InputArchive& archive) {
  lr(read_value(archive, "lr").toDouble());
  betas({read_value(archive, "beta1").toDouble(), read_value(archive, "beta2").toDouble()});
  eps(read_value(archive, "eps").toDouble());
}

void KerasAdamParamState::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("step", c10::IValue(step()));
  archive.write("exp_avg", c10::IValue(exp_avg()));
  archive.write("exp_avg_sq", c10::IValue(exp_avg_sq()));
}

void KerasAdamParamState::serialize(torch::serialize::InputArchive& archive) {
  step(read_value(archive, "step").toInt());
  exp_avg(read_value(archive, "exp_avg").toTensor());
  exp_avg_sq(read_value(archive, "exp_avg_sq").toTensor());
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
  using Key = typename std::decay_t<decltype(state_)>::key_type;
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const KerasAdamOptions&>(group.options());
    const auto [beta1, beta2] = options.betas();
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const torch::Tensor& g = p.grad();
      TORCH_CHECK(!g.is_sparse(), "keras-adam does not support sparse gradients");
      const Key key = state_key<Key>(p);
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto fresh = std::make_unique<KerasAdamParamState>();
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state_[key] = std::move(fresh);
        it = state_.find(key);
      }
      auto& state = static_cast<KerasAdamParamState&>(*it->second);
      state.step(state.step() + 1);
      // The bias corrections go into the step size (a scalar, in double), not into m and v.
      const auto t = static_cast<double>(state.step());
      const double lr_t = options.lr() * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t));
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
