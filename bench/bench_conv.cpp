// The C1/C2 benchmarks: PAPER.md's conv nets on CIFAR-shaped data (50,000
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

const bool kRegisteredC1 = register_model_bench({
    "c1",
    models::ModelSpec{"c1", 3, 32, 32, 10},
    kCifarTrainSize,
    {},
});

const bool kRegisteredC2 = register_model_bench({
    "c2",
    models::ModelSpec{"c2", 3, 32, 32, 100},
    kCifarTrainSize,
    {},
});

}  // namespace
}  // namespace nesgd::bench
