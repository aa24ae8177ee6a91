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

// Positive-Negative Momentum's beta0 (Xie et al., ICML 2021; optim/pnm.h's kPnmBeta0).
constexpr double kPnmDefaultBeta0 = 1.0;

// The optimizer of runs configured before keras-adam existed: a stored
// record without an optimizer name reads back as this (train/run_config.h).
constexpr const char* kLegacyOptimizerName = "adam";

// Every optimizer a run may name (optim/optimizers.h makes each), and those a
// pack trains over stacked tensors (optim/pack_optimizer.h; rmsprop, pnm and adapnm have no packed form).
inline const NameList& optimizer_names() {
  static const NameList names{"keras-adam", "adam", "adamw", "sgd", "rmsprop", "pnm", "adapnm"};
  return names;
}
inline const NameList& packable_optimizer_names() {
  static const NameList names{"keras-adam", "adam", "adamw", "sgd"};
  return names;
}

struct OptimizerConfig {
  std::string name = "keras-adam";  // one of optimizer_names()
  double lr = kKerasAdamLr;
  double beta1 = kKerasAdamBeta1;
  double beta2 = kKerasAdamBeta2;
  // Keras's 1e-7 for every Adam-type update, AdaPNM's included (Xie et al.'s code uses 1e-8), so a
  // comparison with keras-adam changes the update alone.
  double eps = kKerasAdamEpsilon;
  double momentum = 0.0;      // sgd, rmsprop
  double weight_decay = 0.0;  // the paper uses none
  // pnm, adapnm: the negative momentum's weight (optim/pnm.h; Xie et al.'s default 1). Not part of
  // the identity of runs with other optimizers (exp/run_id.cpp omits it at this default).
  double beta0 = kPnmDefaultBeta0;
};

// Whether the optimizer reads beta0 (Positive-Negative Momentum, optim/pnm.h).
inline bool uses_beta0(const std::string& name) { return name == "pnm" || name == "adapnm"; }

}  // namespace nesgd::optim
