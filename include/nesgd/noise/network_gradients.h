// nesgd/noise/network_gradients.h - a models::Network as the noise meter's gradient oracle.
//
// The meter (noise_meter.h) asks for the mean-loss gradient of a minibatch at
// fixed weights; this computes it the way training does (training mode, mean
// cross-entropy over the gathered batch, one backward) and hands it over
// flattened in parameter order as doubles. It never steps, and it leaves every
// .grad() zeroed as it found it; in training mode a batch-norm layer still
// updates its running statistics, which the gradients do not use.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "nesgd/models/network.h"
#include "nesgd/runtime/tensors.h"

namespace nesgd::noise {

class NetworkGradients {
 public:
  // Keeps references: `model` and `data` must outlive this object.
  NetworkGradients(models::Network& model, const runtime::TensorSet& data);

  // grad <- d/dw mean_{i in indices} loss_i(w), flattened; returns the mean loss.
  double operator()(const std::vector<int64_t>& indices, std::vector<double>& grad);

  int64_t parameter_count() const { return count_; }

 private:
  models::Network& model_;
  const runtime::TensorSet& data_;
  std::vector<torch::Tensor> params_;
  int64_t count_ = 0;
};

}  // namespace nesgd::noise
