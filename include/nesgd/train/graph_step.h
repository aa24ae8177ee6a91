// nesgd/train/graph_step.h - a training step's forward and backward passes as one CUDA graph.
//
// On a GPU a small network's step (F1: 7 x 500) is a few microseconds of
// arithmetic behind about a hundred kernel launches. GraphedBackward records
// the launches of one step once, in a CUDA graph, and then replays them for
// each new pair of batches: the kernels are the ones the eager step launches
// (split: forward of B, backward of alpha * L_B, then forward of B' and
// backward of (1 - alpha) * L_B'; joint: one forward over [B; B'] and one
// backward, optim/ne_pass.h), in the same order, so the gradients are the same.
//
// What stays outside the graph: drawing the batches (their indices are
// copied into the graph's fixed index tensors before each replay), the
// optimizer's step (its step sizes change every step), and any batch of
// another size (a keras epoch's short last batch), which the caller runs
// eagerly with zero_grads_in_place() instead of the optimizer's zero_grad():
// the gradient tensors the graph writes must stay the parameters' .grad().
//
// Before capturing it runs the step a few times on a side stream, as CUDA
// graph capture requires, and puts back what that changed (batch-norm
// running statistics; gradients are recomputed by every replay), so a
// graphed run follows the eager run of its configuration.
//
// Built only against a CUDA LibTorch (NESGD_TORCH=pypi, or any LibTorch with
// CUDA); cuda_graphs_built() says whether this build has it.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace nesgd::train {

bool cuda_graphs_built();

class GraphedBackward {
 public:
  // L_B and L_B' from one forward over the 2 * batch indices of [B; B'] (the joint pass).
  using JointLossOf = std::function<std::pair<torch::Tensor, torch::Tensor>(const torch::Tensor&)>;

  // loss_of(indices): the mean loss of the samples at these indices (a
  // device int64 tensor of `batch` entries), with grad history. `buffers`
  // are the model's (batch-norm running statistics), restored after warm-up.
  // With joint_loss_of (and two batches) the graph holds the joint pass instead.
  GraphedBackward(std::function<torch::Tensor(const torch::Tensor&)> loss_of, std::vector<torch::Tensor> params,
                  std::vector<torch::Tensor> buffers, int64_t batch, double alpha, bool two_batches,
                  const torch::Device& device, JointLossOf joint_loss_of = {});
  ~GraphedBackward();
  GraphedBackward(const GraphedBackward&) = delete;
  GraphedBackward& operator=(const GraphedBackward&) = delete;

  // Fills the parameters' gradients with alpha g_B + (1 - alpha) g_B' for
  // these batches (each of `batch` indices; idx_b_prime unused with one
  // batch). Returns L_B and L_B' as device scalars (L_B' undefined with one
  // batch), valid until the next call. Captures on the first call.
  std::pair<torch::Tensor, torch::Tensor> run(const std::vector<int64_t>& idx_b,
                                              const std::vector<int64_t>& idx_b_prime);

  // Zeroes the gradients where they are (for an eager step between replays).
  void zero_grads_in_place();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nesgd::train
