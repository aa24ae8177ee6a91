#include "nesgd/models/f1.h"

namespace nesgd::models {

F1Impl::F1Impl(int64_t in_features, int64_t num_classes) : num_classes_(num_classes) {
  int64_t width = in_features;
  for (int64_t i = 0; i < kF1HiddenLayers; ++i) {
    hidden_->push_back(torch::nn::Linear(width, kF1HiddenWidth));
    width = kF1HiddenWidth;
  }
  register_module("hidden", hidden_);
  output_ = register_module("output", torch::nn::Linear(width, num_classes));
}

torch::Tensor F1Impl::forward(torch::Tensor x) {
  x = x.flatten(1);  // [N, 784]
  for (auto& layer : *hidden_) x = torch::relu(layer->as<torch::nn::Linear>()->forward(x));  // [N, 500]
  return output_->forward(x);  // [N, classes]
}

}  // namespace nesgd::models
