#include "nesgd/optim/optimizers.h"

#include "nesgd/error.h"
#include "nesgd/optim/keras_adam.h"
#include "nesgd/optim/pnm.h"

namespace nesgd::optim {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> params,
                                                        const OptimizerConfig& c) {
  if (!(c.lr > 0.0)) throw Error("--lr must be positive");
  if (c.name == "keras-adam") {
    if (c.weight_decay != 0.0) {
      throw Error("--optimizer keras-adam has no weight decay (nor had Keras's Adam the paper used): "
                  "use --optimizer adamw for decoupled decay, or adam for PyTorch's L2 term");
    }
    return std::make_unique<KerasAdam>(params, KerasAdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps));
  }
  if (c.name == "adam") {
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps).weight_decay(c.weight_decay));
  }
  if (c.name == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps).weight_decay(c.weight_decay));
  }
  if (c.name == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(c.lr).momentum(c.momentum).weight_decay(c.weight_decay));
  }
  if (c.name == "rmsprop") {
    return std::make_unique<torch::optim::RMSprop>(
        params,
        torch::optim::RMSpropOptions(c.lr).eps(c.eps).momentum(c.momentum).weight_decay(c.weight_decay));
  }
  if (c.name == "pnm" || c.name == "adapnm") {
    return std::make_unique<PNM>(params, PNMOptions(c.lr)
                                             .beta0(c.beta0)
                                             .beta1(c.beta1)
                                             .beta2(c.beta2)
                                             .eps(c.eps)
                                             .weight_decay(c.weight_decay)
                                             .adaptive(c.name == "adapnm"));
  }
  throw Error("unknown optimizer '" + c.name + "': use " + names_text(optimizer_names(), "or"));
}

double get_lr(const torch::optim::Optimizer& optimizer) {
  return optimizer.param_groups().at(0).options().get_lr();
}

void scale_lr(torch::optim::Optimizer& optimizer, double factor) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(group.options().get_lr() * factor);
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace nesgd::optim
