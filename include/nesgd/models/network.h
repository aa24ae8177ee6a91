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

namespace nesgd::models {

class Network : public torch::nn::Module {
 public:
  // x: [N, C, H, W] in [0, 1] -> logits [N, num_classes]
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  virtual std::string name() const = 0;
  virtual int64_t num_classes() const = 0;
};

struct ModelSpec {
  std::string name;          // "f1"
  int64_t in_channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t num_classes = 10;
  // Ghost batch norm of C1/C2 (models/ghost_batch_norm.h); F1 has none.
  std::string bn_convention = "keras";  // or "pytorch"
  int64_t ghost_batch_size = 100;       // kPaperGhostBatchSize
};

// Builds a model by name with Glorot-uniform weights and zero biases, drawing
// the initial weights from a generator seeded with `init_seed`.
std::shared_ptr<Network> make_model(const ModelSpec& spec, uint64_t init_seed);

// Total number of trainable scalars.
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace nesgd::models
