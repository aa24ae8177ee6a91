#include "nesgd/noise/network_gradients.h"

#include <cstring>

#include "nesgd/error.h"
#include "nesgd/runtime/loss.h"

namespace nesgd::noise {

NetworkGradients::NetworkGradients(models::Network& model, const runtime::TensorSet& data)
    : model_(model), data_(data) {
  for (const auto& p : model_.parameters()) {
    if (!p.requires_grad()) continue;
    params_.push_back(p);
    count_ += p.numel();
  }
}

double NetworkGradients::operator()(const std::vector<int64_t>& indices, std::vector<double>& grad) {
  if (indices.empty()) throw Error("gradient of an empty minibatch requested");
  model_.train();  // the gradient training would see (ghost batch norm on batch statistics)
  model_.zero_grad();
  auto [x, y] = runtime::gather(data_, indices);  // x: [b, C, H, W], y: [b]
  auto loss = runtime::cross_entropy(model_.forward(x), y);  // mean over the batch
  loss.backward();

  // Flatten in parameter order; a parameter the loss does not reach has no
  // gradient and contributes zeros.
  std::vector<torch::Tensor> parts;
  parts.reserve(params_.size());
  for (auto& p : params_) {
    parts.push_back(p.grad().defined() ? p.grad().reshape({-1}) : torch::zeros({p.numel()}, p.options()));
  }
  const auto flat = torch::cat(parts).to(torch::kCPU, torch::kFloat64).contiguous();  // [P]
  grad.resize(static_cast<size_t>(count_));
  std::memcpy(grad.data(), flat.data_ptr<double>(), static_cast<size_t>(count_) * sizeof(double));
  const double value = loss.item<double>();
  model_.zero_grad();
  return value;
}

}  // namespace nesgd::noise
