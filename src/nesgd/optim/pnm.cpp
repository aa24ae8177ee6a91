#include "nesgd/optim/pnm.h"

#include <cmath>
#include <string>

#include "nesgd/error.h"
#include "optimizer_state.h"

namespace nesgd::optim {

void PNMOptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("beta0", c10::IValue(beta0()));
  archive.write("beta1", c10::IValue(beta1()));
  archive.write("beta2", c10::IValue(beta2()));
  archive.write("eps", c10::IValue(eps()));
  archive.write("weight_decay", c10::IValue(weight_decay()));
  archive.write("adaptive", c10::IValue(adaptive()));
}

void PNMOptions::serialize(torch::serialize::InputArchive& archive) {
  lr(detail::read_value(archive, "lr").toDouble());
  beta0(detail::read_value(archive, "beta0").toDouble());
  beta1(detail::read_value(archive, "beta1").toDouble());
  beta2(detail::read_value(archive, "beta2").toDouble());
  eps(detail::read_value(archive, "eps").toDouble());
  weight_decay(detail::read_value(archive, "weight_decay").toDouble());
  adaptive(detail::read_value(archive, "adaptive").toBool());
}

void PNMParamState::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("step", c10::IValue(step()));
  archive.write("m_odd", c10::IValue(m_odd()));
  archive.write("m_even", c10::IValue(m_even()));
  if (v().defined()) {
    archive.write("v", c10::IValue(v()));
    archive.write("v_max", c10::IValue(v_max()));
  }
}

void PNMParamState::serialize(torch::serialize::InputArchive& archive) {
  step(detail::read_value(archive, "step").toInt());
  m_odd(detail::read_value(archive, "m_odd").toTensor());
  m_even(detail::read_value(archive, "m_even").toTensor());
  c10::IValue v_read;
  if (archive.try_read("v", v_read)) {
    v(v_read.toTensor());
    v_max(detail::read_value(archive, "v_max").toTensor());
  }
}

PNM::PNM(std::vector<torch::optim::OptimizerParamGroup> param_groups, PNMOptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<PNMOptions>(defaults)) {
  const std::string name = defaults.adaptive() ? "adapnm" : "pnm";
  if (!(defaults.lr() >= 0.0)) throw Error(name + ": the learning rate must be >= 0, got " + std::to_string(defaults.lr()));
  if (!(defaults.beta1() >= 0.0 && defaults.beta1() < 1.0) || !(defaults.beta2() >= 0.0 && defaults.beta2() < 1.0)) {
    throw Error(name + ": beta1 and beta2 must lie in [0, 1), got " + std::to_string(defaults.beta1()) + " and " +
                std::to_string(defaults.beta2()));
  }
  if (!(defaults.beta0() >= 0.0)) {
    throw Error(name + ": beta0 must be >= 0 (0: no negative momentum; 1: the paper's), got " +
                std::to_string(defaults.beta0()));
  }
  if (!(defaults.eps() >= 0.0)) throw Error(name + ": eps must be >= 0, got " + std::to_string(defaults.eps()));
  if (!(defaults.weight_decay() >= 0.0)) {
    throw Error(name + ": weight decay must be >= 0, got " + std::to_string(defaults.weight_decay()));
  }
}

torch::Tensor PNM::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& o = static_cast<const PNMOptions&>(group.options());
    const double beta0 = o.beta0(), beta1 = o.beta1(), beta2 = o.beta2();
    const double noise_norm = std::sqrt((1.0 + beta0) * (1.0 + beta0) + beta0 * beta0);
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const torch::Tensor& g = p.grad();
      TORCH_CHECK(!g.is_sparse(), "pnm does not support sparse gradients");
      auto& state = detail::state_of<PNMParamState>(state_, p, [&p, &o] {
        auto fresh = std::make_unique<PNMParamState>();
        fresh->m_odd(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->m_even(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        if (o.adaptive()) {
          fresh->v(torch::zeros_like(p, torch::MemoryFormat::Preserve));
          fresh->v_max(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        }
        return fresh;
      });
      state.step(state.step() + 1);
      const int64_t t = state.step();
      torch::Tensor now = t % 2 == 1 ? state.m_odd() : state.m_even();
      const torch::Tensor before = t % 2 == 1 ? state.m_even() : state.m_odd();
      if (o.weight_decay() != 0.0) p.mul_(1.0 - o.lr() * o.weight_decay());
      now.mul_(beta1 * beta1).add_(g, 1.0 - beta1 * beta1);
      const torch::Tensor pn = (now * (1.0 + beta0) - before * beta0) / noise_norm;
      if (!o.adaptive()) {
        p.add_(pn, -o.lr());
        continue;
      }
      TORCH_CHECK(state.v().defined(), "adapnm: a parameter's state has no second moment (loaded from pnm?)");
      state.v().mul_(beta2).addcmul_(g, g, 1.0 - beta2);
      torch::maximum_out(state.v_max(), state.v_max(), state.v());
      const double bias1 = 1.0 - std::pow(beta1, static_cast<double>(t));
      const double bias2 = 1.0 - std::pow(beta2, static_cast<double>(t));
      const torch::Tensor denom = (state.v_max().sqrt() / std::sqrt(bias2)).add_(o.eps());
      p.addcdiv_(pn, denom, -o.lr() / bias1);
    }
  }
  return loss;
}

void PNM::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<PNMParamState, PNMOptions>(archive, *this);
}

void PNM::load(torch::serialize::InputArchive& archive) {
  torch::optim::serialize<PNMParamState, PNMOptions>(archive, *this);
}

}  // namespace nesgd::optim
