#include "nesgd/models/conv_nets.h"

#include <fmt/format.h>

#include "nesgd/error.h"

namespace nesgd::models {

ConvNetOptions c1_options(int64_t in_channels, int64_t height, int64_t width, int64_t num_classes) {
  ConvNetOptions o;
  o.name = "c1";
  o.in_channels = in_channels;
  o.height = height;
  o.width = width;
  o.num_classes = num_classes;
  o.stacks = {{64, 3}, {128, 3}, {256, 3}};  // the paper's C1
  return o;
}

ConvNetOptions c2_options(int64_t in_channels, int64_t height, int64_t width, int64_t num_classes) {
  ConvNetOptions o = c1_options(in_channels, height, width, num_classes);
  o.name = "c2";
  o.stacks.push_back({512, 2});  // the paper's C2: C1 plus 2x conv512 and a pool
  o.dense_hidden = {kC2DenseWidth};
  return o;
}

ConvNetImpl::ConvNetImpl(ConvNetOptions options) : options_(std::move(options)) {
  if (options_.stacks.empty()) throw Error("a conv net needs at least one stack");
  int64_t channels = options_.in_channels;
  int64_t h = options_.height;
  int64_t w = options_.width;
  int64_t index = 0;
  for (const ConvStack& stack : options_.stacks) {
    for (int64_t j = 0; j < stack.convs; ++j, ++index) {
      // 'same' padding for a 3x3 kernel at stride 1 is one pixel on every side.
      auto conv = torch::nn::Conv2d(
          torch::nn::Conv2dOptions(channels, stack.channels, kConvKernel).stride(1).padding(kConvKernel / 2));
      GhostBatchNormOptions bn(stack.channels, options_.bn_convention);
      bn.ghost_batch_size(options_.ghost_batch_size);
      convs_.push_back(register_module("conv" + std::to_string(index), conv));
      norms_.push_back(register_module("bn" + std::to_string(index), GhostBatchNorm2d(bn)));
      pool_after_.push_back(j + 1 == stack.convs);
      channels = stack.channels;
    }
    if (h < kPoolSize || w < kPoolSize) {
      throw Error(fmt::format("{}: input {}x{} is too small for {} pooling stages", options_.name, options_.height,
                              options_.width, options_.stacks.size()));
    }
    h /= kPoolSize;  // floor, as Keras's 'valid' max-pool
    w /= kPoolSize;
  }
  int64_t features = channels * h * w;
  int64_t d = 0;
  for (int64_t width : options_.dense_hidden) {
    dense_.push_back(register_module("dense" + std::to_string(d++), torch::nn::Linear(features, width)));
    features = width;
  }
  dense_.push_back(register_module("output", torch::nn::Linear(features, options_.num_classes)));
  apply_memory_format();
}

void ConvNetImpl::apply_memory_format() {
  if (!options_.channels_last) return;
  torch::NoGradGuard no_grad;
  for (auto& conv : convs_) conv->weight.set_data(conv->weight.contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor ConvNetImpl::forward(torch::Tensor x) {
  if (x.dim() != 4 || x.size(1) != options_.in_channels) {
    throw Error(fmt::format("{} expects input [N, {}, H, W], got {} dimensions", options_.name, options_.in_channels,
                            x.dim()));
  }
  if (options_.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  for (size_t i = 0; i < convs_.size(); ++i) {
    x = norms_[i]->forward(convs_[i]->forward(x)).relu_();  // [N, C_i, h, w]
    if (pool_after_[i]) x = torch::max_pool2d(x, kPoolSize);      // [N, C_i, h/2, w/2]
  }
  x = x.flatten(1);  // [N, C*h*w], in NCHW order whatever the memory format
  for (size_t i = 0; i + 1 < dense_.size(); ++i) x = torch::relu(dense_[i]->forward(x));  // [N, 1024] (C2)
  return dense_.back()->forward(x);  // [N, classes]
}

}  // namespace nesgd::models
