#include "nesgd/models/f1.h"

#include "nesgd/error.h"

namespace nesgd::models {

MlpImpl::MlpImpl(int64_t in_features, int64_t num_classes, MlpOptions options)
    : options_(std::move(options)), num_classes_(num_classes) {
  if (options_.hidden_layers < 0 || options_.width <= 0) throw Error("an MLP needs >= 0 hidden layers of width > 0");
  int64_t width = in_features;
  for (int64_t i = 0; i < options_.hidden_layers; ++i) {
    hidden_->push_back(torch::nn::Linear(width, options_.width));
    width = options_.width;
  }
  register_module("hidden", hidden_);
  output_ = register_module("output", torch::nn::Linear(width, num_classes));
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  x = x.flatten(1);  // [N, C*H*W]
  for (auto& layer : *hidden_) x = torch::relu(layer->as<torch::nn::Linear>()->forward(x));  // [N, width]
  return output_->forward(x);  // [N, classes]
}

}  // namespace nesgd::models
