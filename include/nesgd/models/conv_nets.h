// nesgd/models/conv_nets.h - the paper's convolutional networks C1 (CIFAR-10) and C2 (CIFAR-100).
//
// The paper's configs C1 and C2: VGG-like stacks of 3x3 convolutions (stride 1,
// 'same' padding, i.e. padding 1), each followed by ghost batch norm (ghost
// size 100) and ReLU, with a 2x2 max-pool (stride 2) after each stack.
//   C1: 3 x conv64, pool, 3 x conv128, pool, 3 x conv256, pool, dense 10 (softmax)
//   C2: C1's stacks, then 2 x conv512, pool, dense 1024 + ReLU, dense 100 (softmax)
// The softmax is folded into the loss (network.h). Convolutions keep Keras's
// default bias (use_bias=True), so the parameter counts match a Keras model
// of the same layers; BN holds gamma/beta as parameters and its running
// statistics as buffers. Trainable parameters (count_parameters) for 32x32x3 inputs:
//   C1: convs 1,920,000 + BN 2,688 + dense 40,970                       = 1,963,658
//   C2: convs 5,459,968 + BN 4,736 + dense 2,098,176 + 102,500          = 7,665,380
// plus BN running statistics (buffers, not trained): C1 2,688, C2 4,736.
// Weights are Glorot-uniform, biases zero (init.h); Keras flattens NHWC where
// we flatten NCHW, a fixed permutation of the first dense layer's inputs that
// an i.i.d. initialization cannot tell apart.
//
// Memory format: on CPU the convolutions run in oneDNN, which is faster on
// channels-last (NHWC) tensors; ConvNetOptions::channels_last (default on)
// converts the input and the conv weights, and NHWC then flows through every
// layer. The numbers are the same in either format up to float rounding.
// Models know nothing of data, optimizers or the training protocol.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nesgd/models/ghost_batch_norm.h"
#include "nesgd/models/network.h"

namespace nesgd::models {

// One stack: `convs` 3x3 convolutions of `channels` output channels, then a 2x2 max-pool.
struct ConvStack {
  int64_t channels;
  int64_t convs;
};

constexpr int64_t kConvKernel = 3;    // the paper: 3x3 kernels, stride 1
constexpr int64_t kPoolSize = 2;      // max-pool 2 after each stack
constexpr int64_t kC2DenseWidth = 1024;

struct ConvNetOptions {
  std::string name;                 // "c1" | "c2", reported by Network::name()
  int64_t in_channels = 3;
  int64_t height = 32;
  int64_t width = 32;
  int64_t num_classes = 10;
  std::vector<ConvStack> stacks;
  std::vector<int64_t> dense_hidden;  // widths of ReLU dense layers before the output layer
  int64_t ghost_batch_size = kPaperGhostBatchSize;
  BatchNormConvention bn_convention = BatchNormConvention::kKeras;
  bool channels_last = true;        // NHWC activations (faster oneDNN convolutions on CPU)
};

// The paper's C1 / C2 for inputs of the given shape and class count.
ConvNetOptions c1_options(int64_t in_channels = 3, int64_t height = 32, int64_t width = 32, int64_t num_classes = 10);
ConvNetOptions c2_options(int64_t in_channels = 3, int64_t height = 32, int64_t width = 32, int64_t num_classes = 100);

class ConvNetImpl : public Network {
 public:
  explicit ConvNetImpl(ConvNetOptions options);
  // x: [N, C, 32, 32] in [0, 1] -> logits [N, num_classes]. In training mode
  // N must be a multiple of the ghost batch size (nesgd::Error otherwise).
  torch::Tensor forward(torch::Tensor x) override;
  std::string name() const override { return options_.name; }
  int64_t num_classes() const override { return options_.num_classes; }
  const ConvNetOptions& options() const { return options_; }

  // Converts the conv weights to the configured memory format; call after
  // anything that may have replaced them (make_model calls it after init).
  void apply_memory_format();

 private:
  ConvNetOptions options_;
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<GhostBatchNorm2d> norms_;
  std::vector<bool> pool_after_;  // pool_after_[i]: a max-pool follows conv i (last of its stack)
  std::vector<torch::nn::Linear> dense_;  // hidden ReLU layers, then the output layer
};

}  // namespace nesgd::models
