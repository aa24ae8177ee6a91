// nesgd/models/f1.h - the paper's F1 network for Fashion-MNIST.
//
// The paper's config F1: fully connected, 7 hidden layers x 500 ReLU, softmax 10.
// 784 -> 7 x (500, ReLU) -> 10: 1,900,510 parameters
// (784*500+500 + 6*(500*500+500) + 500*10+10).
#pragma once

#include "nesgd/models/network.h"

namespace nesgd::models {

constexpr int64_t kF1HiddenLayers = 7;  // the paper's F1
constexpr int64_t kF1HiddenWidth = 500;

class F1Impl : public Network {
 public:
  F1Impl(int64_t in_features, int64_t num_classes);
  // x: [N, 1, 28, 28] (or already flat [N, 784]) -> logits [N, num_classes]
  torch::Tensor forward(torch::Tensor x) override;
  std::string name() const override { return "f1"; }
  int64_t num_classes() const override { return num_classes_; }

 private:
  int64_t num_classes_;
  torch::nn::ModuleList hidden_;
  torch::nn::Linear output_{nullptr};
};

}  // namespace nesgd::models
