#include "nesgd/optim/isotropic_noise.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <limits>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/optim/noise_control.h"

namespace nesgd::optim {

namespace {

// |n_t|^2 of each tensor, one reduction (and one read back) each.
std::vector<double> squared_norms(const std::vector<torch::Tensor>& tensors) {
  std::vector<double> sq;
  sq.reserve(tensors.size());
  for (const auto& t : tensors) sq.push_back(t.to(torch::kFloat64).pow(2).sum().item<double>());
  return sq;
}

std::vector<double> sigmas_from(const std::vector<double>& sq, const std::vector<torch::Tensor>& noise,
                                const std::string& matching) {
  if (!is_one_of(matching, noise_matching_names())) {
    throw Error("unknown noise matching '" + matching + "': use " + names_text(noise_matching_names(), "or"));
  }
  std::vector<double> sigmas(noise.size(), 0.0);
  if (matching == kMatchTensor) {
    for (size_t i = 0; i < noise.size(); ++i) {
      const auto count = static_cast<double>(noise[i].numel());
      sigmas[i] = count > 0 ? std::sqrt(sq[i] / count) : 0.0;
    }
    return sigmas;
  }
  double total_sq = 0.0, total = 0.0;
  for (size_t i = 0; i < noise.size(); ++i) {
    total_sq += sq[i];
    total += static_cast<double>(noise[i].numel());
  }
  const double sigma = total > 0 ? std::sqrt(total_sq / total) : 0.0;
  for (double& s : sigmas) s = sigma;
  return sigmas;
}

}  // namespace

std::vector<double> isotropic_sigmas(const std::vector<torch::Tensor>& noise, const std::string& matching) {
  return sigmas_from(squared_norms(noise), noise, matching);
}

std::vector<torch::Tensor> isotropic_draw(const std::vector<torch::Tensor>& like, uint64_t seed, int64_t step) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(data::derive_seed(seed, static_cast<uint64_t>(step)));
  std::vector<torch::Tensor> xi;
  xi.reserve(like.size());
  for (const auto& t : like) {
    torch::Tensor cpu = torch::empty(t.sizes(), torch::dtype(t.scalar_type()));
    cpu.normal_(0.0, 1.0, gen);
    xi.push_back(cpu.to(t.device()));
  }
  return xi;
}

IsotropicBackwardResult isotropic_backward(const std::vector<torch::Tensor>& params, const MinibatchLoss& loss_b,
                                           const MinibatchLoss& loss_b_prime, const IsotropicNoiseOptions& options,
                                           int64_t step) {
  IsotropicBackwardResult result;
  result.losses.loss_b_prime = std::numeric_limits<double>::quiet_NaN();
  auto grads = [&params] {
    std::vector<torch::Tensor> g;
    for (const auto& p : params) g.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
    return g;
  };
  for (const auto& p : params) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
  torch::Tensor lb = loss_b();
  result.losses.loss_b = lb.item<double>();
  lb.backward();
  if (!needs_second_batch(options.alpha)) return result;  // no NE noise to match: plain training
  if (!loss_b_prime) throw Error("isotropic noise with alpha != 1 needs the second minibatch B' to size its noise");

  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> g_b;
  for (const auto& g : grads()) g_b.push_back(g.clone());
  {
    torch::AutoGradMode enable(true);
    torch::Tensor lbp = loss_b_prime();
    result.losses.loss_b_prime = lbp.item<double>();
    result.losses.used_b_prime = true;
    lbp.backward();  // .grad() = g_B + g_B'
  }
  // n = (alpha - 1)(g_B - g_B') = (alpha - 1)(2 g_B - (g_B + g_B')).
  std::vector<torch::Tensor> noise;
  const std::vector<torch::Tensor> sum = grads();
  for (size_t i = 0; i < params.size(); ++i) noise.push_back((2.0 * g_b[i] - sum[i]) * (options.alpha - 1.0));
  const std::vector<double> sq = squared_norms(noise);
  const std::vector<double> sigma = sigmas_from(sq, noise, options.matching);
  const std::vector<torch::Tensor> xi = isotropic_draw(params, options.seed, step);
  for (size_t i = 0; i < params.size(); ++i) {
    result.ne_noise_sq += sq[i];
    const torch::Tensor added = xi[i] * sigma[i];
    result.added_sq += added.to(torch::kFloat64).pow(2).sum().item<double>();
    if (!params[i].grad().defined()) params[i].mutable_grad() = torch::zeros_like(params[i]);
    params[i].mutable_grad().copy_(g_b[i] + added);
  }
  return result;
}

}  // namespace nesgd::optim
