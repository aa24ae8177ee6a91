#include "nesgd/models/packed.h"

#include <fmt/format.h>

#include <ATen/Parallel.h>

#include <map>
#include <string>

#include "nesgd/error.h"
#include "nesgd/models/conv_nets.h"
#include "nesgd/models/f1.h"

namespace nesgd::models {
namespace {

// c[k] = a[k] b[k] for every member k: one bmm on a GPU; on a CPU the
// members' products one by one through the same at::mm as a single layer
// (measured ~10 % faster than CPU bmm/baddbmm in LibTorch 1.13), spread
// over ATen's threads when it has several (OpenBLAS runs a product the same
// way whatever its thread count: it splits rows and columns, never the sum,
// so the result is the same).
torch::Tensor member_bmm(const torch::Tensor& a, const torch::Tensor& b) {
  const int64_t k = a.size(0);
  if (!a.device().is_cpu()) return a.bmm(b);
  torch::Tensor c = torch::empty({k, a.size(1), b.size(2)}, a.options());
  at::parallel_for(0, k, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      torch::Tensor out = c.select(0, i);
      at::mm_out(out, a.select(0, i), b.select(0, i));
    }
  });
  return c;
}

// y = x W^T + b for K members at once, with the gradients computed in the
// same arrangement as LibTorch's single linear layer (addmm and its backward:
// dL/dW = g^T x, dL/dx = g W, dL/db = sum over the batch). Autograd's own
// backward of bmm would form x^T g instead, the same sum in another GEMM
// arrangement, which rounds differently in the last bit; with the single
// layer's arrangement a pack member reproduces its single run exactly, not
// only up to the chaotic growth of rounding differences over a long run.
// x: [K, N, in], w: [K, out, in], b: [K, out] -> [K, N, out]
class PackedLinear : public torch::autograd::Function<PackedLinear> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["x_needs_grad"] = x.requires_grad();
    if (!x.device().is_cpu()) return torch::baddbmm(b.unsqueeze(1), x, w.transpose(1, 2));
    // LibTorch's single layer: the bias broadcast into the output, then one GEMM with beta = 1.
    torch::Tensor y = b.unsqueeze(1).expand({x.size(0), x.size(1), w.size(1)}).contiguous();
    at::parallel_for(0, x.size(0), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        torch::Tensor out = y.select(0, i);
        out.addmm_(x.select(0, i), w.select(0, i).t());
      }
    });
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& w = saved[1];
    const torch::Tensor g = grads[0].contiguous();                       // [K, N, out]
    torch::Tensor grad_x;
    if (ctx->saved_data["x_needs_grad"].toBool()) grad_x = member_bmm(g, w);  // [K, N, in]
    const torch::Tensor grad_w = member_bmm(g.transpose(1, 2), x);             // [K, out, in]
    const torch::Tensor grad_b = g.sum(1);                               // [K, out]
    return {grad_x, grad_w, grad_b};
  }
};

// Stacks tensor `i` of every member on a new leading axis: [K, ...].
torch::Tensor stack_members(const std::vector<std::vector<torch::Tensor>>& per_member, size_t i) {
  std::vector<torch::Tensor> parts;
  parts.reserve(per_member.size());
  for (const auto& tensors : per_member) parts.push_back(tensors.at(i).detach().contiguous());
  return torch::stack(parts).contiguous();
}

}  // namespace

PackedNetwork::PackedNetwork(const std::vector<std::shared_ptr<Network>>& members) {
  if (members.empty()) throw Error("a pack needs at least one member");
  k_ = static_cast<int64_t>(members.size());
  const Network& first = *members.front();
  std::vector<std::vector<torch::Tensor>> params, buffers;
  for (const auto& m : members) {
    if (m->name() != first.name()) throw Error("pack members must share one architecture: " + m->name() + " vs " + first.name());
    params.push_back(m->parameters());
    buffers.push_back(m->buffers());
    if (params.back().size() != params.front().size() || buffers.back().size() != buffers.front().size()) {
      throw Error("pack members differ in their number of tensors");
    }
    for (size_t i = 0; i < params.back().size(); ++i) {
      if (!params.back()[i].sizes().equals(params.front()[i].sizes())) throw Error("pack members differ in shape");
    }
  }

  // Names -> index in the single network's parameter / buffer order.
  std::map<std::string, size_t> pi, bi;
  {
    size_t i = 0;
    for (const auto& item : first.named_parameters()) pi[item.key()] = i++;
    i = 0;
    for (const auto& item : first.named_buffers()) bi[item.key()] = i++;
  }
  auto param = [&pi](const std::string& name) {
    auto it = pi.find(name);
    if (it == pi.end()) throw Error("pack: the member network has no parameter " + name);
    return it->second;
  };
  auto buffer = [&bi](const std::string& name) {
    auto it = bi.find(name);
    if (it == bi.end()) throw Error("pack: the member network has no buffer " + name);
    return it->second;
  };

  if (const auto* mlp = dynamic_cast<const MlpImpl*>(&first)) {
    kind_ = Kind::kDense;
    for (int64_t l = 0; l < mlp->options().hidden_layers; ++l) {
      const std::string p = "hidden." + std::to_string(l) + ".";
      dense_.push_back({param(p + "weight"), param(p + "bias"), true});
    }
    dense_.push_back({param("output.weight"), param("output.bias"), false});
  } else if (const auto* conv = dynamic_cast<const ConvNetImpl*>(&first)) {
    kind_ = Kind::kConv;
    const ConvNetOptions& o = conv->options();
    channels_last_ = o.channels_last;
    int64_t index = 0;
    for (const ConvStack& stack : o.stacks) {
      for (int64_t j = 0; j < stack.convs; ++j, ++index) {
        const std::string c = "conv" + std::to_string(index) + ".";
        const std::string b = "bn" + std::to_string(index) + ".";
        convs_.push_back({param(c + "weight"), param(c + "bias"), param(b + "weight"), param(b + "bias"),
                          buffer(b + "running_mean"), buffer(b + "running_var"), j + 1 == stack.convs});
      }
    }
    for (size_t d = 0; d < o.dense_hidden.size(); ++d) {
      const std::string p = "dense" + std::to_string(d) + ".";
      dense_.push_back({param(p + "weight"), param(p + "bias"), true});
    }
    dense_.push_back({param("output.weight"), param("output.bias"), false});
    for (const auto& m : first.modules(/*include_self=*/false)) {
      if (const auto* bn = m->as<GhostBatchNorm2d>()) {
        bn_options_ = bn->options;
        break;
      }
    }
  } else {
    throw Error("pack: no packed form of model " + first.name());
  }

  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.front().size(); ++i) params_.push_back(stack_members(params, i).requires_grad_(true));
  for (size_t i = 0; i < buffers.front().size(); ++i) buffers_.push_back(stack_members(buffers, i));
}

torch::Tensor PackedNetwork::dense_stack(torch::Tensor h) const {
  for (const DenseLayer& l : dense_) {
    // h: [K, N, in]; W: [K, out, in]; b: [K, out] -> [K, N, out]
    h = PackedLinear::apply(h, params_[l.weight], params_[l.bias]);
    if (l.relu) h = torch::relu(h);
  }
  return h;
}

torch::Tensor PackedNetwork::forward(const torch::Tensor& x, bool training, const std::vector<int64_t>& segments) {
  if (x.dim() < 3 || x.size(0) != k_) {
    throw Error(fmt::format("a pack of {} expects input [{}, N, ...], got {} dimensions with leading size {}", k_, k_,
                            x.dim(), x.dim() > 0 ? x.size(0) : 0));
  }
  const int64_t n = x.size(1);
  if (kind_ == Kind::kDense) return dense_stack(x.reshape({k_, n, -1}));  // [K, N, 784] -> [K, N, classes]

  // [K, N, C, H, W] -> [N, K*C, H, W]: member k owns channels k*C .. k*C+C-1.
  torch::Tensor h = x.transpose(0, 1).reshape({n, k_ * x.size(2), x.size(3), x.size(4)});
  if (channels_last_) h = h.contiguous(torch::MemoryFormat::ChannelsLast);
  for (const ConvLayer& l : convs_) {
    const torch::Tensor& w = params_[l.weight];  // [K, out, in, 3, 3]
    h = torch::conv2d(h, w.reshape({k_ * w.size(1), w.size(2), w.size(3), w.size(4)}), params_[l.bias].reshape({-1}),
                      /*stride=*/1, /*padding=*/kConvKernel / 2, /*dilation=*/1, /*groups=*/k_);
    h = ghost_batch_norm(h, params_[l.bn_weight].reshape({-1}), params_[l.bn_bias].reshape({-1}),
                         buffers_[l.running_mean].view({-1}), buffers_[l.running_var].view({-1}), bn_options_, training,
                         segments)
            .relu_();                                                 // [N, K*C, h, w]
    if (l.pool_after) h = torch::max_pool2d(h, kPoolSize);            // [N, K*C, h/2, w/2]
  }
  // [N, K*C, h, w] -> [K, N, C*h*w] in each member's NCHW flatten order.
  h = h.contiguous().view({n, k_, -1}).transpose(0, 1);
  return dense_stack(h);
}

void PackedNetwork::keep(const std::vector<int64_t>& slots) {
  torch::NoGradGuard no_grad;
  if (slots.empty()) throw Error("a pack keeps at least one member");
  const auto index = torch::tensor(slots, torch::kInt64).to(params_.front().device());
  for (auto& p : params_) p = p.detach().index_select(0, index).contiguous().requires_grad_(true);
  for (auto& b : buffers_) b = b.index_select(0, index).contiguous();
  k_ = static_cast<int64_t>(slots.size());
}

void PackedNetwork::copy_member_to(int64_t slot, Network& single) const {
  torch::NoGradGuard no_grad;
  auto params = single.parameters();
  auto buffers = single.buffers();
  if (params.size() != params_.size() || buffers.size() != buffers_.size()) {
    throw Error("copy_member_to: the single network's architecture differs from the pack's");
  }
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(params_[i][slot]);
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(buffers_[i][slot]);
}

}  // namespace nesgd::models
