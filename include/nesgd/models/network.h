// nesgd/models/network.h - the interface every classifier of the study has.
//
// forward() returns logits [N, classes]; the softmax of the paper's output
// layer is folded into the loss (log_softmax + NLL, i.e. cross-entropy), which
// is the numerically stable form of "softmax then cross-entropy".
// Models know nothing of data, optimizers or the training protocol.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "nesgd/models/model_spec.h"

namespace nesgd::models {

class Network : public torch::nn::Module {
 public:
  // x: [N, C, H, W] in [0, 1] -> logits [N, num_classes]
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  virtual std::string name() const = 0;
  virtual int64_t num_classes() const = 0;
};

// Builds a model by name with Glorot-uniform weights and zero biases, drawing
// the initial weights from a generator seeded with `init_seed`. A
// "torchscript:PATH" model is loaded from PATH (models/torchscript.h); with
// InitMode::kFile it keeps the file's weights (the built-in networks have no
// file: kFile is refused for them).
std::shared_ptr<Network> make_model(const ModelSpec& spec, uint64_t init_seed, InitMode init = InitMode::kGlorot);

// Total number of trainable scalars.
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace nesgd::models
