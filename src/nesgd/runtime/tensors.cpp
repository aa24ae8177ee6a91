#include "nesgd/runtime/tensors.h"

#include "nesgd/error.h"
#include "nesgd/runtime/loss.h"

namespace nesgd::runtime {

TensorSet to_tensors(const data::ImageSet& set, const torch::Device& device, torch::ScalarType dtype) {
  TensorSet t;
  if (set.has_float_pixels()) {
    // Float pixels (a NumPy dataset saved as float32) are taken as they are, without the 1/255.
    // from_blob does not copy and .to() may return its input: copy=true makes the owned copy.
    t.x = torch::from_blob(const_cast<float*>(set.pixels_f32.data()), {set.n, set.channels, set.height, set.width},
                           torch::kFloat32)
              .to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
  } else {
    // from_blob does not copy; .to(kFloat) makes the owned copy before `set` can go away.
    auto bytes = torch::from_blob(const_cast<uint8_t*>(set.images.data()),
                                  {set.n, set.channels, set.height, set.width}, torch::kUInt8);
    // Divide in float32 first so an fp64 run sees exactly the fp32 run's pixel values, widened.
    t.x = bytes.to(torch::kFloat32).div_(255.0f).to(device, dtype);
  }
  t.y = torch::from_blob(const_cast<int64_t*>(set.labels.data()), {set.n}, torch::kInt64).clone().to(device);
  return t;
}

std::pair<torch::Tensor, torch::Tensor> gather(const TensorSet& set, const std::vector<int64_t>& indices) {
  auto idx = torch::from_blob(const_cast<int64_t*>(indices.data()), {static_cast<int64_t>(indices.size())},
                              torch::kInt64)
                 .to(set.x.device());
  return {set.x.index_select(0, idx), set.y.index_select(0, idx)};
}

EvalResult evaluate(models::Network& model, const TensorSet& set, int64_t chunk) {
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  const int64_t n = set.x.size(0);
  double loss_sum = 0.0;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    auto x = set.x.narrow(0, start, len);
    auto y = set.y.narrow(0, start, len);
    auto logits = model.forward(x);  // [len, classes]
    loss_sum += cross_entropy(logits, y, Reduction::kSum).item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
  model.train(was_training);
  EvalResult r;
  r.loss = n > 0 ? loss_sum / static_cast<double>(n) : 0.0;
  r.accuracy = n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  return r;
}

}  // namespace nesgd::runtime
