// nesgd/optim/optimizer_config.h - which optimizer, with which settings (torch-free).
//
// Defaults are Keras's (the paper's authors very likely used Keras; the
// paper says only "Adam with default hyperparameters"). Keras's Adam epsilon
// 1e-7 differs from PyTorch's 1e-8.
#pragma once

#include <string>

namespace nesgd::optim {

// tf.keras.optimizers.Adam defaults.
constexpr double kKerasAdamLr = 1e-3;
constexpr double kKerasAdamBeta1 = 0.9;
constexpr double kKerasAdamBeta2 = 0.999;
constexpr double kKerasAdamEpsilon = 1e-7;

struct OptimizerConfig {
  std::string name = "adam";  // adam | adamw | sgd | rmsprop
  double lr = kKerasAdamLr;
  double beta1 = kKerasAdamBeta1;
  double beta2 = kKerasAdamBeta2;
  double eps = kKerasAdamEpsilon;
  double momentum = 0.0;      // sgd, rmsprop
  double weight_decay = 0.0;  // the paper uses none
};

}  // namespace nesgd::optim
