// nesgd/models/torchscript.h - a user's own network, saved by PyTorch as TorchScript.
//
// `--model torchscript:PATH` trains the module in PATH (torch.jit.script(net) then
// torch.jit.save, or LibTorch's own torch::jit::Module::save) as one of nesgd's
// networks: its forward(x) takes a batch [N, C, H, W] of floats in [0, 1] and
// returns logits [N, classes]. Its parameters and buffers become the Network's
// own (the same tensors), so optimizers, checkpoints, model files, the noise
// meter and data-parallel runs see it as they see F1.
//
// Initial weights (`--init`): glorot (the default) re-draws them as the paper's
// networks are drawn, from the run's init seed: every parameter of two or more
// dimensions Glorot-uniform (glorot_bound, in the module's parameter order, so
// a scripted F1 gets F1's weights), every one-dimensional parameter zero except
// the scale ('weight') of a normalization layer (BatchNorm*, LayerNorm,
// GroupNorm, InstanceNorm*), which is one. Running statistics are reset to
// mean 0, variance 1. file keeps the weights saved in PATH; the seed then only
// varies the data order.
//
// Knows nothing of data, training or the protocol.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "nesgd/models/network.h"

namespace nesgd::models {

// Loads the TorchScript module at `path` as a Network for inputs of spec's
// shape and spec.num_classes classes (one forward of a zero batch checks the
// logits' shape), initialized as `init` says. nesgd::Error names the problem:
// a missing or unreadable file, a module without forward, wrong logits.
std::shared_ptr<Network> load_torchscript(const std::string& path, const ModelSpec& spec, InitMode init,
                                          uint64_t init_seed);

}  // namespace nesgd::models
