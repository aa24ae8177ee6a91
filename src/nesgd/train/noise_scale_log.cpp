#include "nesgd/train/noise_scale_log.h"

namespace nesgd::train {
namespace {

double squared_norm(const std::vector<torch::Tensor>& tensors) {
  double s = 0.0;
  for (const auto& t : tensors) s += t.pow(2).sum().item<double>();
  return s;
}

}  // namespace

std::function<void()> NoiseScaleLog::capture(const std::vector<torch::Tensor>& params) {
  return [this, &params] {
    alpha_g_b_.clear();
    for (const auto& p : params) alpha_g_b_.push_back(p.grad().detach().clone());
  };
}

void NoiseScaleLog::measure(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& buffers,
                            double alpha, int64_t batch, const std::function<torch::Tensor()>& extra_loss) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> g_b, g_bp;
  if (alpha != 1.0) {
    for (size_t i = 0; i < params.size(); ++i) {
      g_b.push_back(alpha_g_b_[i] / alpha);
      g_bp.push_back((params[i].grad() - alpha_g_b_[i]) / (1.0 - alpha));
    }
  } else {
    g_b = alpha_g_b_;
    std::vector<torch::Tensor> saved;
    for (const auto& b : buffers) saved.push_back(b.clone());
    {
      torch::AutoGradMode enable(true);
      g_bp = torch::autograd::grad({extra_loss()}, params);
    }
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
  }
  std::vector<torch::Tensor> g_2b;
  for (size_t i = 0; i < g_b.size(); ++i) g_2b.push_back(0.5 * (g_b[i] + g_bp[i]));
  const double small = 0.5 * (squared_norm(g_b) + squared_norm(g_bp));  // two estimates of E|g_B|^2
  tracker_.add(optim::estimate_noise_scale(small, batch, squared_norm(g_2b), 2 * batch));
  alpha_g_b_.clear();
}

}  // namespace nesgd::train
