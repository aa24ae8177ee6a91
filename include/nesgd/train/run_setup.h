// nesgd/train/run_setup.h - what every run builds from its RunConfig before its first step.
//
// A single run (train/trainer.h), every member of a pack (train/pack.h) and
// every data-parallel rank set up here, so they draw the same initial
// weights and batches for the same seed and see the same data:
//   - the threads and number format for the run's model and device applied;
//   - the training and test sets cut to the run's subsets, checked against
//     the configuration (B, ghost batches), as tensors in the run's precision;
//   - the initial weights, Glorot from the run's init stream;
//   - the streams of B and (when asked) B', each from its own seed.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>

#include "nesgd/data/batch_stream.h"
#include "nesgd/data/dataset.h"
#include "nesgd/models/model_spec.h"
#include "nesgd/models/network.h"
#include "nesgd/runtime/tensors.h"
#include "nesgd/train/run_config.h"

namespace nesgd::train {

struct RunData {
  torch::Device device{torch::kCPU};
  torch::ScalarType dtype = torch::kFloat32;
  runtime::TensorSet train, test;
  int64_t train_size = 0, test_size = 0;  // after the run's subsets
  models::ModelSpec spec;                 // the run's network for this dataset's shapes
};

// Applies the run's threads and precision on `device` (a precision the device
// cannot run is refused), and returns its data. Throws nesgd::Error for a
// configuration the training set does not allow, before any tensor is built.
RunData prepare_run(const RunConfig& config, const data::DatasetSplits& data, const torch::Device& device);

// The run's initial network, Glorot-uniform from its init stream, on the run's device and dtype.
std::shared_ptr<models::Network> initial_network(const RunConfig& config, const RunData& data);

struct RunStreams {
  std::optional<data::BatchStream> b, b_prime;  // b_prime only when asked for
};
RunStreams make_streams(const RunConfig& config, int64_t train_size, bool with_b_prime);

}  // namespace nesgd::train
