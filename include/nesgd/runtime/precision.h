// nesgd/runtime/precision.h - a run's number format on its device: fp32, fp64, tf32, bf16.
//
//   fp32  float32 everywhere: the paper's. On CUDA, TF32 is switched off for
//         matrix products and convolutions alike (LibTorch allows it for
//         cuDNN convolutions by default), so fp32 means IEEE float32.
//   fp64  float64 everywhere: reference runs (e.g. pack members against their
//         single runs to 1e-9). Several times slower.
//   tf32  float32 weights, optimizer state and data; matrix products and
//         convolutions in TensorFloat-32 on NVIDIA GPUs that have it (Ampere
//         and newer). No CPU has TF32: refused there.
//   bf16  float32 weights, optimizer state and data; the forward passes under
//         LibTorch's bf16 autocast (matrix products, convolutions and the
//         other ops on autocast's lower-precision list run in bfloat16; the
//         rest, loss included, as autocast decides). On a CPU only where it
//         has native bf16 arithmetic (AVX512-BF16 or AMX-BF16): elsewhere
//         bf16 is emulated, slower than fp32, and refused.
// The precision is part of a run's configuration and id (exp/run_id.h).
#pragma once

#include <torch/torch.h>

#include <string>

#include "nesgd/runtime/cpu_features.h"

namespace nesgd::runtime {

// The tensors' scalar type: float64 for fp64, float32 for the others.
torch::ScalarType dtype_of_precision(const std::string& precision);

// Throws nesgd::Error (naming what to use instead) where `precision` cannot
// run on `device`: tf32 off CUDA, bf16 on a CPU without native bf16 (as
// `cpu` reports), an unknown name. `cpu` defaults to this machine's.
void check_precision(const std::string& precision, const torch::Device& device, const CpuInfo& cpu = this_cpu());

// Sets LibTorch's process-wide CUDA matmul and cuDNN TF32 switches for a run
// of this precision (on for tf32, off otherwise). Nothing on a CPU.
void apply_precision(const std::string& precision, const torch::Device& device);

// While alive, forward passes run under bf16 autocast on `device` when the
// precision is bf16; does nothing otherwise. Restores the previous autocast
// state, and clears autocast's cast cache when the outermost scope ends.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kBFloat16;
};

}  // namespace nesgd::runtime
