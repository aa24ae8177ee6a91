// bench/bench.h - what the benchmark measures: one training step of a model,
// and the fp32 matrix-multiply ceiling for the same work.
//
// The step is the trainer's step, call for call (src/nesgd/train/trainer.cpp):
// indices from data::BatchStream, samples gathered by runtime::gather from a
// fixed dataset tensor, cross-entropy of model->forward, optim::ne_step on
// Adam with Keras defaults. Only the dataset is random instead of read from
// disk (speed does not depend on pixel values). This file must not grow its
// own version of the step: a faster benchmark step would measure nothing.
//
// Adding a model (e.g. C1/C2): write bench/bench_<x>.cpp that calls
// register_model_bench() from a static initializer (see bench_f1.cpp) and add
// its file name to the nesgd_bench source list in bench/CMakeLists.txt; then
// `nesgd_bench --model <name>` times it. For the PyTorch-Python side, add a
// reference script and its case in bench/run_benchmarks.sh.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nesgd/data/batch_stream.h"
#include "nesgd/models/network.h"
#include "nesgd/optim/noise_enhancement.h"
#include "nesgd/runtime/tensors.h"

namespace nesgd::bench {

// One fp32 product C[m, n] = op(A) op(B) with op(A): [m, k], op(B): [k, n].
// a_transposed: A is stored [k, m] and used as A^T (a .t() view), so BLAS
// gets the same transpose flags as in the step. Likewise b_transposed.
struct GemmShape {
  int64_t m = 0, k = 0, n = 0;
  bool a_transposed = false;
  bool b_transposed = false;
  std::string what;  // "layer 2 dW", for the JSON record
  double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n); }
};

struct ModelBench {
  std::string name;        // the --model value, and the make_model name
  models::ModelSpec spec;  // input shape and classes of the dataset the step sees
  int64_t dataset_size = 60000;
  // The matrix products one plain step (one forward + backward of `batch`
  // samples) performs, exactly as autograd issues them. The "step GEMM"
  // ceiling times these. Empty: only the square-matmul ceiling is reported.
  std::function<std::vector<GemmShape>(int64_t batch)> step_gemms;
  // FLOPs of one training sample (forward + backward) for the square-sgemm
  // ceiling. Empty: 6 x parameters, right for dense nets only (a convolution
  // reuses each weight at every pixel, so its FLOPs are far above 6P).
  std::function<double()> train_flops_per_sample;
};

// Registers a model benchmark (call from a static initializer); returns true.
bool register_model_bench(ModelBench bench);
// The registered benchmark called `name`, or nesgd::Error listing the names.
const ModelBench& find_model_bench(const std::string& name);
std::vector<std::string> model_bench_names();

// How the step computes: the run's --precision (runtime/precision.h) and
// whether Keras's Adam takes its one-pass kernel (optim/fused_adam.h) or
// LibTorch's operations, so the two can be timed side by side.
struct StepOptions {
  std::string precision = "fp32";  // fp32 | bf16 | tf32
  bool fused_adam = true;
  std::string ne_pass = "joint";  // joint | split (optim/ne_pass.h), as the trainer's --ne-pass
};

// One training step of `bench`'s model at batch size B and NE factor alpha,
// with its own model, optimizer, streams and dataset, ready to be timed.
// The model lives on the device of `data` (CPU or CUDA).
class StepBench {
 public:
  StepBench(const ModelBench& bench, const runtime::TensorSet& data, int64_t batch, double alpha, uint64_t seed,
            const StepOptions& options = {});
  // One ne_step. Returns L_B (keeps the result observable). On CUDA it waits
  // for the device to finish the step (optimizer update included), as the
  // PyTorch-Python reference does, so a timed block holds whole steps.
  double step();
  // Samples one step processes: B (alpha = 1), or 2B (B and B', alpha != 1).
  int64_t samples_per_step() const;
  int64_t parameters() const;

 private:
  const runtime::TensorSet& data_;
  torch::Device device_;
  int64_t batch_;
  optim::NoiseEnhancementOptions ne_;
  StepOptions options_;
  std::shared_ptr<models::Network> model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  data::BatchStream stream_b_;
  std::optional<data::BatchStream> stream_b_prime_;
  optim::MinibatchLoss loss_b_, loss_b_prime_;
  optim::JointMinibatchLosses joint_losses_;  // set: the joint pass
};

// The matrix products of one step, on preallocated random operands on `device`.
class GemmSet {
 public:
  explicit GemmSet(const std::vector<GemmShape>& shapes, const torch::Device& device = torch::kCPU);
  // Every product once, through torch::mm_out (fp32 BLAS, or cuBLAS on CUDA,
  // where it waits for the device to finish).
  void run();
  double flops() const { return flops_; }
  bool empty() const { return a_.empty(); }

 private:
  std::vector<torch::Tensor> a_, b_, c_;
  torch::Device device_;
  double flops_ = 0.0;
};

// A random fp32 dataset of the bench's shape (x uniform in [0, 1), y uniform
// over the classes), seeded: the same seed gives the same data (drawn on the
// CPU, then moved to `device`).
runtime::TensorSet random_dataset(const ModelBench& bench, uint64_t seed, const torch::Device& device = torch::kCPU);

// Waits until `device` has finished its queued work (nothing to do on the CPU).
void synchronize(const torch::Device& device);

// The GEMMs of a stack of dense layers (widths[0] -> ... -> widths.back())
// trained with input that needs no gradient, as autograd runs torch::nn::Linear:
// forward X W^T; backward dW = dY^T X (column-major result) and dX = dY W,
// the latter skipped for the first layer.
std::vector<GemmShape> dense_stack_gemms(const std::vector<int64_t>& widths, int64_t batch);

}  // namespace nesgd::bench
