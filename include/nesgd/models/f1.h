// nesgd/models/f1.h - the paper's F1 network for Fashion-MNIST, and the MLPs it is one of.
//
// The paper's config F1: fully connected, 7 hidden layers x 500 ReLU, softmax 10.
// 784 -> 7 x (500, ReLU) -> 10: 1,900,510 parameters
// (784*500+500 + 6*(500*500+500) + 500*10+10).
#pragma once

#include <string>

#include "nesgd/models/network.h"

namespace nesgd::models {

constexpr int64_t kF1HiddenLayers = 7;  // the paper's F1
constexpr int64_t kF1HiddenWidth = 500;

// The family F1 belongs to: `hidden_layers` dense layers of `width` ReLU units, then the output
// layer. Packs stack any member of it (models/packed.h).
struct MlpOptions {
  int64_t hidden_layers = kF1HiddenLayers;
  int64_t width = kF1HiddenWidth;
  std::string name = "f1";  // what name() returns: the model's catalog name
};

class MlpImpl : public Network {
 public:
  MlpImpl(int64_t in_features, int64_t num_classes, MlpOptions options = {});
  // x: [N, C, H, W] (or already flat [N, C*H*W]) -> logits [N, num_classes]
  torch::Tensor forward(torch::Tensor x) override;
  std::string name() const override { return options_.name; }
  int64_t num_classes() const override { return num_classes_; }
  const MlpOptions& options() const { return options_; }

 private:
  MlpOptions options_;
  int64_t num_classes_;
  torch::nn::ModuleList hidden_;
  torch::nn::Linear output_{nullptr};
};

// The paper's F1: an MLP of 7 x 500.
using F1Impl = MlpImpl;

}  // namespace nesgd::models
