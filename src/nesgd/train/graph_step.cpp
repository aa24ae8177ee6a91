#include "nesgd/train/graph_step.h"

#include "nesgd/error.h"
#include "nesgd/optim/noise_enhancement.h"

#include <tuple>

#ifdef NESGD_WITH_CUDA_GRAPHS
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace nesgd::train {

#ifdef NESGD_WITH_CUDA_GRAPHS

bool cuda_graphs_built() { return true; }

namespace {
// Eager runs on the side stream before capture: cuBLAS/cuDNN pick their
// algorithms and workspaces, autograd builds its state (PyTorch's
// "whole-network capture" example warms up 3 times).
constexpr int kWarmupSteps = 3;
}  // namespace

struct GraphedBackward::Impl {
  std::function<torch::Tensor(const torch::Tensor&)> loss_of;
  JointLossOf joint_loss_of;  // set: the joint pass over idx_both
  std::vector<torch::Tensor> params, buffers;
  int64_t batch = 0;
  double alpha = 1.0;
  bool two = false;
  torch::Device device = torch::kCUDA;
  torch::Tensor idx_b, idx_b_prime;    // the graph's fixed inputs (the split pass)
  torch::Tensor idx_both;              // [B; B'] (the joint pass)
  torch::Tensor loss_b, loss_b_prime;  // and outputs
  std::unique_ptr<at::cuda::CUDAGraph> graph;

  void body() {
    const optim::NEWeights w = optim::ne_weights(alpha);
    if (two && joint_loss_of) {
      std::tie(loss_b, loss_b_prime) = joint_loss_of(idx_both);
      (optim::ne_term(loss_b, w.b) + optim::ne_term(loss_b_prime, w.b_prime)).backward();
      return;
    }
    loss_b = loss_of(idx_b);
    optim::ne_term(loss_b, w.b).backward();
    if (two) {
      loss_b_prime = loss_of(idx_b_prime);
      optim::ne_term(loss_b_prime, w.b_prime).backward();
    }
  }

  void drop_grads() {
    for (auto& p : params) p.mutable_grad().reset();
  }

  void capture() {
    torch::NoGradGuard outside;  // body() turns grad mode on for itself
    std::vector<torch::Tensor> saved;
    {
      torch::NoGradGuard no_grad;
      for (const auto& b : buffers) saved.push_back(b.clone());
    }
    const c10::cuda::CUDAStream main = c10::cuda::getCurrentCUDAStream(device.index());
    c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, device.index());
    at::cuda::CUDAEvent ready;
    ready.record(main);
    ready.block(side);
    // Autocast's cache of cast weights must not live across graph capture.
    const bool cache = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
    {
      c10::cuda::CUDAStreamGuard on_side(side);
      torch::AutoGradMode grad(true);
      for (int i = 0; i < kWarmupSteps; ++i) {
        drop_grads();
        body();
      }
      drop_grads();  // the graph's first backward then writes the gradients, the second adds to them
      graph = std::make_unique<at::cuda::CUDAGraph>();
      graph->capture_begin();
      body();
      graph->capture_end();
    }
    at::autocast::set_autocast_cache_enabled(cache);
    at::cuda::CUDAEvent done;
    done.record(side);
    done.block(main);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);  // warm-up's running statistics undone
  }

  void load(const torch::Tensor& dst, const std::vector<int64_t>& idx) {
    if (static_cast<int64_t>(idx.size()) != batch) {
      throw Error("GraphedBackward: a batch of " + std::to_string(idx.size()) + " indices, the graph takes " +
                  std::to_string(batch) + " (run other sizes eagerly)");
    }
    dst.copy_(torch::from_blob(const_cast<int64_t*>(idx.data()), {batch}, torch::kInt64));
  }
};

GraphedBackward::GraphedBackward(std::function<torch::Tensor(const torch::Tensor&)> loss_of,
                                 std::vector<torch::Tensor> params, std::vector<torch::Tensor> buffers, int64_t batch,
                                 double alpha, bool two_batches, const torch::Device& device,
                                 JointLossOf joint_loss_of)
    : impl_(std::make_unique<Impl>()) {
  if (!device.is_cuda()) throw Error("CUDA graphs need a CUDA device (--device cuda)");
  Impl& m = *impl_;
  m.loss_of = std::move(loss_of);
  m.joint_loss_of = std::move(joint_loss_of);
  m.params = std::move(params);
  m.buffers = std::move(buffers);
  m.batch = batch;
  m.alpha = alpha;
  m.two = two_batches;
  m.device = device.has_index() ? device : torch::Device(torch::kCUDA, c10::cuda::current_device());
  const auto opts = torch::TensorOptions().dtype(torch::kInt64).device(m.device);
  m.idx_b = torch::zeros({batch}, opts);
  m.idx_b_prime = torch::zeros({batch}, opts);
  m.idx_both = torch::zeros({2 * batch}, opts);
}

GraphedBackward::~GraphedBackward() = default;

std::pair<torch::Tensor, torch::Tensor> GraphedBackward::run(const std::vector<int64_t>& idx_b,
                                                             const std::vector<int64_t>& idx_b_prime) {
  Impl& m = *impl_;
  if (m.two && m.joint_loss_of) {
    m.load(m.idx_both.narrow(0, 0, m.batch), idx_b);
    m.load(m.idx_both.narrow(0, m.batch, m.batch), idx_b_prime);
  } else {
    m.load(m.idx_b, idx_b);
    if (m.two) m.load(m.idx_b_prime, idx_b_prime);
  }
  if (!m.graph) m.capture();
  m.graph->replay();
  return {m.loss_b, m.two ? m.loss_b_prime : torch::Tensor()};
}

void GraphedBackward::zero_grads_in_place() {
  torch::NoGradGuard no_grad;
  for (auto& p : impl_->params) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

#else  // a LibTorch without CUDA: the class exists, and says why it cannot run

bool cuda_graphs_built() { return false; }

struct GraphedBackward::Impl {};

GraphedBackward::GraphedBackward(std::function<torch::Tensor(const torch::Tensor&)>, std::vector<torch::Tensor>,
                                 std::vector<torch::Tensor>, int64_t, double, bool, const torch::Device&,
                                 JointLossOf) {
  throw Error("--cuda-graph: this nesgd was built against a LibTorch without CUDA; build it against one with CUDA "
              "(NESGD_TORCH=pypi scripts/build.sh) or leave --cuda-graph off");
}

GraphedBackward::~GraphedBackward() = default;

std::pair<torch::Tensor, torch::Tensor> GraphedBackward::run(const std::vector<int64_t>&,
                                                             const std::vector<int64_t>&) {
  return {};
}

void GraphedBackward::zero_grads_in_place() {}

#endif

}  // namespace nesgd::train
