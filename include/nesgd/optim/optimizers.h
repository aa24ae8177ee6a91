// nesgd/optim/optimizers.h - build any supported torch::optim optimizer from
// a plain config, and read or scale its learning rate generically.
//
// Defaults are Keras's (optimizer_config.h): keras-adam (optim/keras_adam.h)
// with epsilon 1e-7; "adam" is LibTorch's Adam.
// The LR helpers touch the optimizer only through param_groups(), so they work
// for every optimizer, including ones this file does not construct.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "nesgd/optim/optimizer_config.h"

namespace nesgd::optim {

// make_optimizer accepts every name of optimizer_names() (optim/optimizer_config.h).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> params,
                                                        const OptimizerConfig& config);

// Learning rate of the first param group.
double get_lr(const torch::optim::Optimizer& optimizer);
// Multiplies the learning rate of every param group by `factor`.
void scale_lr(torch::optim::Optimizer& optimizer, double factor);
// Sets the learning rate of every param group. Optimizer::load restores the
// LR on LibTorch 2.x but not on 1.x, so a resumed run sets it explicitly.
void set_lr(torch::optim::Optimizer& optimizer, double lr);

}  // namespace nesgd::optim
