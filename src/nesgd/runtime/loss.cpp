#include "nesgd/runtime/loss.h"

#include "nesgd/error.h"
#include "nesgd/models/ghost_batch_norm.h"
#include "nesgd/runtime/precision.h"

namespace nesgd::runtime {
namespace {

torch::nn::functional::CrossEntropyFuncOptions options(Reduction reduction) {
  torch::nn::functional::CrossEntropyFuncOptions o;
  if (reduction == Reduction::kSum) o.reduction(torch::kSum);  // else the mean, LibTorch's default
  return o;
}

}  // namespace

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, Reduction reduction) {
  return torch::nn::functional::cross_entropy(logits, labels, options(reduction));
}

torch::Tensor member_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels, Reduction reduction) {
  const int64_t k = logits.size(0), b = logits.size(1);
  const torch::Tensor per_sample = torch::nn::functional::cross_entropy(
      logits.reshape({k * b, logits.size(2)}), labels.reshape({k * b}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  return reduction == Reduction::kSum ? per_sample.view({k, b}).sum(1) : per_sample.view({k, b}).mean(1);
}

torch::Tensor batch_loss(models::Network& model, const torch::Tensor& x, const torch::Tensor& labels,
                         const std::string& precision, const torch::Device& device, Reduction reduction) {
  AutocastScope autocast(precision, device);
  return cross_entropy(model.forward(x), labels, reduction);
}

std::pair<torch::Tensor, torch::Tensor> joint_batch_losses(models::Network& model, const torch::Tensor& x,
                                                           const torch::Tensor& labels, int64_t size_b,
                                                           const std::string& precision, const torch::Device& device,
                                                           Reduction reduction) {
  const int64_t n = x.size(0);
  if (size_b <= 0 || size_b >= n) {
    throw Error("joint NE pass: B must be the first 1 .. " + std::to_string(n - 1) + " of the " + std::to_string(n) +
                " rows, got " + std::to_string(size_b));
  }
  models::BatchSegments segments(model, {size_b, n - size_b});
  AutocastScope autocast(precision, device);
  const torch::Tensor logits = model.forward(x);  // [|B| + |B'|, classes]
  return {cross_entropy(logits.narrow(0, 0, size_b), labels.narrow(0, 0, size_b), reduction),
          cross_entropy(logits.narrow(0, size_b, n - size_b), labels.narrow(0, size_b, n - size_b), reduction)};
}

}  // namespace nesgd::runtime
