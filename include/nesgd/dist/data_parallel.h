// nesgd/dist/data_parallel.h - one run's step split over the ranks of a process group.
//
// Each rank forms the loss of its slice of B (and of B': the same slice, the two batches
// having one size) in whole units (ghost batches with ghost batch norm, else samples;
// dist/launch.h's slice_of_batch), scaled so the shares add up to the single run's mean.
// After the backward pass one all-reduce per step sums, in one flat buffer, the gradients,
// the two loss shares, every rank's stop request and the terms that rebuild ghost batch
// norm's running statistics as the single run has them (formula in data_parallel.cpp).
// Evaluation splits a set into the chunks a single run evaluates and sums them over ranks.
// So the optimizer steps on the same gradient on every rank, and the run follows the
// single-process run up to the order of summation (tests/dist/test_distributed_threads.cpp).
//
// A model with state other than ghost batch norm's running statistics is refused (each
// rank would update it from its own slice), and so is a batch that does not split into
// whole units; every rank refuses together, before the first step.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "nesgd/dist/group.h"
#include "nesgd/models/network.h"
#include "nesgd/optim/noise_enhancement.h"
#include "nesgd/runtime/tensors.h"

namespace nesgd::dist {

class DataParallelStep {
 public:
  // `model_name` names the model in messages; `config_text` is the run's configuration less what
  // may differ from rank to rank (threads, the device index): every rank must pass the same.
  DataParallelStep(Group& group, models::Network& model, const std::string& model_name, int64_t batch_size,
                   const std::string& config_text, std::string precision, torch::Device device);

  // The device of this rank: CUDA device `local_rank` where the run names CUDA without an index.
  static torch::Device device_of_rank(torch::Device device, const Group* group);

  Group& group() { return group_; }

  // Call before a step's first forward: the running-statistics record starts here.
  void begin_step();
  // This rank's share of the mean loss over `indices` (its slice's summed cross-entropy over
  // the batch size; a zero where its slice is empty), recorded for the running statistics.
  torch::Tensor share_of_loss(const runtime::TensorSet& train, const std::vector<int64_t>& indices);
  // The joint pass's two shares: this rank's slices of B and B' in one forward (two
  // running-statistics updates).
  std::pair<torch::Tensor, torch::Tensor> share_of_joint_losses(const runtime::TensorSet& train,
                                                                const std::vector<int64_t>& idx_b,
                                                                const std::vector<int64_t>& idx_b_prime);
  // The step's one all-reduce: `params`' gradients, r's losses, the stop requests, the running
  // statistics. Every rank then holds the same. Returns whether any rank asked to stop.
  bool all_reduce(const std::vector<torch::Tensor>& params, optim::NEBackwardResult& r, bool stop_requested);

  // Loss and accuracy over a whole set in evaluation mode, each rank a share of whole chunks.
  runtime::EvalResult evaluate(const runtime::TensorSet& set);

 private:
  struct BnLayer {
    torch::Tensor mean, var;
    double keep;
  };
  void record_forward(double weight, int updates);
  std::vector<torch::Tensor> bn_snapshot() const;

  Group& group_;
  models::Network& model_;
  std::string precision_;
  torch::Device device_;
  int64_t unit_ = 1;  // samples per slice unit: the ghost batch with ghost batch norm
  std::vector<BnLayer> bn_;
  std::vector<std::vector<torch::Tensor>> snapshots_;  // this step: before the first forward, after each
  std::vector<double> weights_;                        // this rank's share of each forward's batch
  std::vector<int> updates_;                           // running-statistics updates of each forward
};

}  // namespace nesgd::dist
