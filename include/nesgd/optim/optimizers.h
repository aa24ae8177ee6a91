// nesgd/optim/optimizers.h - build any supported torch::optim optimizer from
// a plain config, and read or scale its learning rate generically.
//
// Defaults are Keras's (the paper's authors very likely used Keras; the
// paper says only "Adam with default hyperparameters"). Note Keras's Adam
// epsilon 1e-7 differs from PyTorch's 1e-8.
// The LR helpers touch the optimizer only through param_groups(), so they work
// for every optimizer, including ones this file does not construct.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "nesgd/optim/optimizer_config.h"

namespace nesgd::optim {

// The optimizer names make_optimizer accepts.
const std::vector<std::string>& optimizer_names();

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> params,
                                                        const OptimizerConfig& config);

// Learning rate of the first param group.
double get_lr(const torch::optim::Optimizer& optimizer);
// Multiplies the learning rate of every param group by `factor`.
void scale_lr(torch::optim::Optimizer& optimizer, double factor);

}  // namespace nesgd::optim
