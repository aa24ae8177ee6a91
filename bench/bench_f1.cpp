// The F1 benchmark: the paper's 784 -> 7 x 500 (ReLU) -> 10 MLP on
// Fashion-MNIST-shaped data (60,000 samples of 1 x 28 x 28, 10 classes).
// Every FLOP of its step that matters is in the dense layers' GEMMs, so the
// step-GEMM ceiling is the fair one for it.
#include "bench.h"
#include "nesgd/models/f1.h"

namespace nesgd::bench {
namespace {

constexpr int64_t kFashionMnistTrainSize = 60000;

std::vector<int64_t> f1_widths() {
  std::vector<int64_t> w{28 * 28};
  for (int64_t i = 0; i < models::kF1HiddenLayers; ++i) w.push_back(models::kF1HiddenWidth);
  w.push_back(10);
  return w;
}

const bool kRegistered = register_model_bench({
    "f1",
    models::ModelSpec{"f1", 1, 28, 28, 10},
    kFashionMnistTrainSize,
    [](int64_t batch) { return dense_stack_gemms(f1_widths(), batch); },
});

}  // namespace
}  // namespace nesgd::bench
