#include "nesgd/models/ghost_batch_norm.h"

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join (in ranges.h from fmt 11 on, e.g. the fmt bundled with PyTorch 2.x)

#include <vector>

#include "nesgd/error.h"

namespace nesgd::models {

std::string to_string(BatchNormConvention c) { return c == BatchNormConvention::kKeras ? "keras" : "pytorch"; }

BatchNormConvention batch_norm_convention_from_string(const std::string& s) {
  if (s == "keras") return BatchNormConvention::kKeras;
  if (s == "pytorch") return BatchNormConvention::kPyTorch;
  throw Error("unknown batch-norm convention '" + s +
              "': use 'keras' (momentum 0.99, eps 1e-3, biased variance; the paper's framework) or 'pytorch' "
              "(momentum 0.1 on the new value, eps 1e-5, unbiased variance)");
}

GhostBatchNormOptions::GhostBatchNormOptions(int64_t num_features, BatchNormConvention convention)
    : num_features_(num_features) {
  if (convention == BatchNormConvention::kPyTorch) {
    momentum_ = kPyTorchBnMomentum;
    eps_ = kPyTorchBnEps;
    unbiased_running_var_ = true;
  }
}

GhostBatchNorm2dImpl::GhostBatchNorm2dImpl(GhostBatchNormOptions options_) : options(std::move(options_)) {
  reset();
}

void GhostBatchNorm2dImpl::reset() {
  const int64_t c = options.num_features();
  if (c <= 0) throw Error(fmt::format("GhostBatchNorm2d needs num_features > 0, got {}", c));
  if (options.ghost_batch_size() <= 0) {
    throw Error(fmt::format("GhostBatchNorm2d needs ghost_batch_size > 0, got {}", options.ghost_batch_size()));
  }
  if (!(options.momentum() >= 0.0 && options.momentum() <= 1.0)) {
    throw Error(fmt::format("GhostBatchNorm2d momentum must lie in [0, 1] (Keras meaning), got {}", options.momentum()));
  }
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({c}));
    bias = register_parameter("bias", torch::zeros({c}));
  }
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
}

void GhostBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << fmt::format("nesgd::GhostBatchNorm2d({}, ghost_batch_size={}, momentum={}, eps={}, unbiased_running_var={})",
                        options.num_features(), options.ghost_batch_size(), options.momentum(), options.eps(),
                        options.unbiased_running_var());
}

torch::Tensor GhostBatchNorm2dImpl::forward(const torch::Tensor& x) {
  return ghost_batch_norm(x, weight, bias, running_mean, running_var, options, is_training(), segments);
}

BatchSegments::BatchSegments(torch::nn::Module& model, std::vector<int64_t> sizes) {
  for (const auto& m : model.modules(/*include_self=*/true)) {
    if (auto* bn = dynamic_cast<GhostBatchNorm2dImpl*>(m.get())) {
      bn->segments = sizes;
      layers_.push_back(bn);
    }
  }
}

BatchSegments::~BatchSegments() {
  for (auto* bn : layers_) bn->segments.clear();
}

torch::Tensor ghost_batch_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                               torch::Tensor running_mean, torch::Tensor running_var,
                               const GhostBatchNormOptions& options, bool training,
                               const std::vector<int64_t>& segments) {
  if (x.dim() != 4 || x.size(1) != running_mean.size(0)) {
    throw Error(fmt::format("GhostBatchNorm2d({}) expects input [N, {}, H, W], got [{}]", running_mean.size(0),
                            running_mean.size(0), fmt::join(x.sizes(), ", ")));
  }
  const bool cudnn = at::globalContext().userEnabledCuDNN();
  if (!training) {
    return torch::batch_norm(x, weight, bias, running_mean, running_var, /*training=*/false, 0.0, options.eps(), cudnn);
  }
  const int64_t n = x.size(0);
  const int64_t v = options.ghost_batch_size();
  if (n % v != 0) {
    throw Error(fmt::format(
        "ghost batch norm: a training batch of {} samples is not a multiple of the ghost batch size {}; "
        "use a batch size that is a multiple of {} (C1/C2 normalize each chunk of {} samples on its own)",
        n, v, v, v));
  }
  const int64_t g = n / v;
  std::vector<int64_t> ghosts_per_segment;  // the running statistics' updates, in order
  if (segments.empty()) {
    ghosts_per_segment.push_back(g);
  } else {
    int64_t total = 0;
    for (int64_t s : segments) {
      if (s <= 0 || s % v != 0) {
        throw Error(fmt::format("ghost batch norm: a segment of {} samples is not a positive multiple of the ghost "
                                "batch size {} (segments [{}])",
                                s, v, fmt::join(segments, ", ")));
      }
      ghosts_per_segment.push_back(s / v);
      total += s;
    }
    if (total != n) {
      throw Error(fmt::format("ghost batch norm: segments [{}] add up to {} samples, the batch has {}",
                              fmt::join(segments, ", "), total, n));
    }
  }
  const int64_t m = v * x.size(2) * x.size(3);  // values per ghost and channel

  // Each ghost goes through ATen's own batch norm (oneDNN/native on CPU,
  // cuDNN on CUDA), with a scratch row as its "running" statistics and
  // PyTorch momentum 1: the kernel then writes the ghost's mean and its
  // unbiased variance var_gc * m / (m - 1) into row g. No sample crosses a
  // chunk boundary, and split/cat keep the backward to one pass per ghost.
  const int64_t c = running_mean.size(0);
  torch::Tensor means = torch::zeros({g, c}, running_mean.options());
  torch::Tensor vars = torch::ones({g, c}, running_var.options());
  torch::Tensor y;
  if (g == 1) {
    y = torch::batch_norm(x, weight, bias, means[0], vars[0], /*training=*/true, /*momentum=*/1.0, options.eps(), cudnn);
  } else {
    std::vector<torch::Tensor> chunks = x.split(v, 0);
    for (int64_t i = 0; i < g; ++i) {
      chunks[i] = torch::batch_norm(chunks[i], weight, bias, means[i], vars[i], true, 1.0, options.eps(), cudnn);
    }
    y = torch::cat(chunks, 0);
  }

  torch::NoGradGuard no_grad;
  const double keep = options.momentum();
  // vars holds unbiased ghost variances; Keras averages the biased ones.
  const double to_running = options.unbiased_running_var() ? 1.0 : static_cast<double>(m - 1) / static_cast<double>(m);
  int64_t first = 0;
  for (int64_t count : ghosts_per_segment) {
    const torch::Tensor seg_means = count == g ? means : means.narrow(0, first, count);
    const torch::Tensor seg_vars = count == g ? vars : vars.narrow(0, first, count);
    running_mean.mul_(keep).add_(seg_means.mean(0), 1.0 - keep);
    running_var.mul_(keep).add_(seg_vars.mean(0), (1.0 - keep) * to_running);
    first += count;
  }
  return y;
}

}  // namespace nesgd::models
