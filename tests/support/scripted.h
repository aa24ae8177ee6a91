// tests/support/scripted.h - small TorchScript modules made in the test itself
// (torch::jit::Module::define), as a user's torch.jit.script would make them:
// F1's architecture parameter for parameter, and a conv net with batch norm.
// No Python, no committed binary.
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <string>

namespace nesgd::testing {

inline void add_training_flag(torch::jit::Module& m) {
  // torch.jit.script gives every module this attribute; Module::train() sets it.
  if (!m.hasattr("training")) m.register_attribute("training", c10::BoolType::get(), true);
}

// F1 (7 x 500 ReLU, then 10 logits) for inputs of `in_features` values: its
// parameters in F1's order (each layer's weight, then its bias), as
// nn.Sequential(nn.Flatten(), nn.Linear(..), nn.ReLU(), ...) scripted would hold them.
inline torch::jit::Module scripted_f1(int64_t in_features, int64_t classes = 10) {
  torch::jit::Module m("ScriptedF1");
  add_training_flag(m);
  std::string body = "def forward(self, x):\n    h = x.flatten(1)\n";
  int64_t in = in_features;
  // Names from a table: GCC 12's -Wstringop-overflow misfires on "w" + std::to_string(l) in C++20.
  static const char* const kWeights[] = {"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"};
  static const char* const kBiases[] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7"};
  for (int l = 0; l < 8; ++l) {
    const int64_t out = l < 7 ? 500 : classes;
    const std::string w = kWeights[l], b = kBiases[l];
    m.register_parameter(w, torch::randn({out, in}), false);
    m.register_parameter(b, torch::randn({out}), false);
    body += "    h = torch.addmm(self." + b + ", h, self." + w + ".t())\n";
    if (l < 7) body += "    h = torch.relu(h)\n";
    in = out;
  }
  body += "    return h\n";
  m.define(body);
  return m;
}

// A conv net with (non-ghost) batch norm: conv 3x3 (8 channels), batch norm,
// ReLU, global mean, dense to `classes` logits.
inline torch::jit::Module scripted_bn_net(int64_t in_channels, int64_t classes) {
  torch::jit::Module bn("BatchNorm2d");  // the type name marks its weight as a scale (models/torchscript.h)
  add_training_flag(bn);
  bn.register_parameter("weight", torch::rand({8}), false);
  bn.register_parameter("bias", torch::rand({8}), false);
  bn.register_buffer("running_mean", torch::rand({8}));
  bn.register_buffer("running_var", torch::rand({8}) + 1.0);
  bn.define(R"(
def forward(self, x):
    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training, 0.1,
                            1e-5, False)
)");
  torch::jit::Module m("SmallBnNet");
  add_training_flag(m);
  m.register_parameter("conv_w", torch::randn({8, in_channels, 3, 3}), false);
  m.register_parameter("conv_b", torch::randn({8}), false);
  m.register_module("bn", bn);
  m.register_parameter("fc_w", torch::randn({classes, 8}), false);
  m.register_parameter("fc_b", torch::randn({classes}), false);
  m.define(R"(
def forward(self, x):
    h = torch.conv2d(x, self.conv_w, self.conv_b, [1, 1], [1, 1])
    h = torch.relu(self.bn.forward(h))
    h = h.mean([2, 3])
    return torch.addmm(self.fc_b, h, self.fc_w.t())
)");
  return m;
}

}  // namespace nesgd::testing
