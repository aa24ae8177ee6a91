#include "nesgd/models/init.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace nesgd::models {

double glorot_bound(const torch::Tensor& weight) {
  TORCH_CHECK(weight.dim() >= 2, "glorot_bound needs a weight of rank >= 2");
  const int64_t receptive = weight.numel() / (weight.size(0) * weight.size(1));  // k*k for convs, 1 for dense
  const double fan_in = static_cast<double>(weight.size(1) * receptive);
  const double fan_out = static_cast<double>(weight.size(0) * receptive);
  return std::sqrt(6.0 / (fan_in + fan_out));
}

void glorot_fill(const torch::Tensor& weight, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const double a = glorot_bound(weight);
  torch::Tensor cpu = torch::empty(weight.sizes(), torch::dtype(weight.scalar_type()));
  cpu.uniform_(-a, a, gen);
  weight.copy_(cpu);
}

void glorot_init(torch::nn::Module& module, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  // Modules in registration order, so the draw order (and the weights) depend
  // only on the architecture and the seed.
  for (auto& m : module.modules(/*include_self=*/true)) {
    torch::Tensor w, b;
    if (auto* lin = m->as<torch::nn::Linear>()) {
      w = lin->weight;
      b = lin->bias;
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
      w = conv->weight;
      b = conv->bias;
    } else {
      continue;
    }
    glorot_fill(w, gen);
    if (b.defined()) b.zero_();
  }
}

}  // namespace nesgd::models
