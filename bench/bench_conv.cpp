// The C1/C2 benchmarks: the paper's conv nets on CIFAR-shaped data (50,000
// samples of 3 x 32 x 32; 10 classes for C1, 100 for C2), through the same
// StepBench as F1, i.e. the trainer's step call for call. Their FLOPs are in
// oneDNN convolutions, not GEMMs, so there is no step-GEMM ceiling; the
// comparison that matters is beside PyTorch-Python doing the identical step
// (bench/reference_conv.py, run by bench/run_benchmarks.sh --model c1|c2).
// B must be a multiple of the ghost batch size (100).
#include "bench.h"
#include "nesgd/models/conv_nets.h"

namespace nesgd::bench {
namespace {

constexpr int64_t kCifarTrainSize = 50000;

// Training FLOPs per sample of a ConvNet: every 3x3 'same' convolution does
// H*W*C_in*C_out*9 multiply-adds (2 FLOPs each) forward, as many for dW and
// as many for dX, except the first, whose input (the data) needs no gradient;
// dense layers 6 x in x out. Biases, batch norm, ReLU and pooling are
// elementwise and left out. C1: 1.594 GFLOP per 32x32x3 sample.
double conv_net_train_flops(const models::ConvNetOptions& o) {
  double flops = 0.0;
  int64_t h = o.height, w = o.width, c_in = o.in_channels;
  bool first = true;
  for (const auto& stack : o.stacks) {
    for (int64_t i = 0; i < stack.convs; ++i) {
      const double macs = static_cast<double>(h * w * c_in * stack.channels * models::kConvKernel * models::kConvKernel);
      flops += 2.0 * macs * (first ? 2.0 : 3.0);
      first = false;
      c_in = stack.channels;
    }
    h /= models::kPoolSize;
    w /= models::kPoolSize;
  }
  double in = static_cast<double>(h * w * c_in);
  for (int64_t width : o.dense_hidden) {
    flops += 6.0 * in * static_cast<double>(width);
    in = static_cast<double>(width);
  }
  return flops + 6.0 * in * static_cast<double>(o.num_classes);
}

const bool kRegisteredC1 = register_model_bench({
    "c1",
    models::ModelSpec{"c1", 3, 32, 32, 10},
    kCifarTrainSize,
    {},
    [] { return conv_net_train_flops(models::c1_options()); },
});

const bool kRegisteredC2 = register_model_bench({
    "c2",
    models::ModelSpec{"c2", 3, 32, 32, 100},
    kCifarTrainSize,
    {},
    [] { return conv_net_train_flops(models::c2_options()); },
});

}  // namespace
}  // namespace nesgd::bench
