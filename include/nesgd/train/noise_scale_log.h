// nesgd/train/noise_scale_log.h - --log-noise-scale: the gradient noise scale B_simple of a run, step by step.
//
// McCandlish et al.'s B_simple = tr(Sigma) / |G|^2 from the gradients of two batch sizes
// (optim/noise_scale.h): here g_B and g_2B = (g_B + g_B') / 2, two estimates of E|g_B|^2 from
// g_B and g_B', smoothed by an EMA (optim::NoiseScaleTracker, saved in checkpoints). It reads the
// step's gradients and never writes them, so the trajectory is that of the run without it:
// - alpha != 1: the split pass's after_b hook (capture()) holds alpha g_B, the finished backward
//   alpha g_B + (1 - alpha) g_B', from which both are recovered;
// - alpha = 1: one extra forward and backward of a B' batch (extra_loss, under the run's
//   precision as the step's own forward), whose ghost batch norm updates are put back.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "nesgd/optim/noise_scale.h"

namespace nesgd::train {

class NoiseScaleLog {
 public:
  // The hook for ne_backward's after_b: keeps the gradients as they are then (alpha g_B).
  std::function<void()> capture(const std::vector<torch::Tensor>& params);

  // After the step's backward pass over a batch of `batch` samples (B and B' alike).
  void measure(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& buffers, double alpha,
               int64_t batch, const std::function<torch::Tensor()>& extra_loss);

  optim::NoiseScaleEstimate smoothed() const { return tracker_.smoothed(); }
  std::string save_state() const { return tracker_.save_state(); }
  void load_state(const std::string& state) { tracker_.load_state(state); }

 private:
  std::vector<torch::Tensor> alpha_g_b_;  // this step's capture
  optim::NoiseScaleTracker tracker_;
};

}  // namespace nesgd::train
