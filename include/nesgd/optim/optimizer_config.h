// nesgd/optim/optimizer_config.h - which optimizer, with which settings (torch-free).
//
// Defaults are Keras's (the paper's authors very likely used Keras; the
// paper says only "Adam with default hyperparameters"): Keras's Adam update
// (keras-adam, optim/keras_adam.h: epsilon added to sqrt(v), bias correction
// in the step size) with Keras's epsilon 1e-7, which differs from PyTorch's
// 1e-8. "adam" is LibTorch's Adam (epsilon added to the bias-corrected
// sqrt(v_hat)), the default before keras-adam existed.
#pragma once

#include <string>

#include "nesgd/names.h"

namespace nesgd::optim {

// tf.keras.optimizers.Adam defaults.
constexpr double kKerasAdamLr = 1e-3;
constexpr double kKerasAdamBeta1 = 0.9;
constexpr double kKerasAdamBeta2 = 0.999;
constexpr double kKerasAdamEpsilon = 1e-7;

// The optimizer of runs configured before keras-adam existed: a stored
// record without an optimizer name reads back as this (train/run_config.h).
constexpr const char* kLegacyOptimizerName = "adam";

// Every optimizer a run may name (optim/optimizers.h makes each), and those a
// pack trains over stacked tensors (optim/pack_optimizer.h; rmsprop has no packed form).
inline const NameList& optimizer_names() {
  static const NameList names{"keras-adam", "adam", "adamw", "sgd", "rmsprop"};
  return names;
}
inline const NameList& packable_optimizer_names() {
  static const NameList names{"keras-adam", "adam", "adamw", "sgd"};
  return names;
}

struct OptimizerConfig {
  std::string name = "keras-adam";  // keras-adam | adam | adamw | sgd | rmsprop
  double lr = kKerasAdamLr;
  double beta1 = kKerasAdamBeta1;
  double beta2 = kKerasAdamBeta2;
  double eps = kKerasAdamEpsilon;
  double momentum = 0.0;      // sgd, rmsprop
  double weight_decay = 0.0;  // the paper uses none
};

}  // namespace nesgd::optim
