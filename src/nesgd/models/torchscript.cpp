#include "nesgd/models/torchscript.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <filesystem>
#include <set>

#include "nesgd/error.h"
#include "nesgd/models/init.h"

namespace nesgd::models {
namespace {

// Type names (the last part of the scripted class's qualified name) whose
// one-dimensional 'weight' is a scale that starts at one.
bool is_normalization(const torch::jit::Module& m) {
  const auto type_name = m.type()->name();
  if (!type_name) return false;
  const std::string n = type_name->name();
  for (const char* kind : {"BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm"}) {
    if (n.find(kind) != std::string::npos) return true;
  }
  return false;
}

// Draws the initial weights as described in the header, module by module in
// the order torch::jit::Module lists them, each module's own parameters in
// their order (the order named_parameters() gives).
void reinitialize(torch::jit::Module& root, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (const auto& named : root.named_modules()) {
    torch::jit::Module m = named.value;
    const bool norm = is_normalization(m);
    for (const auto& p : m.named_parameters(/*recurse=*/false)) {
      torch::Tensor w = p.value;
      if (w.dim() >= 2) {
        glorot_fill(w, gen);  // as glorot_init draws the built-in networks
      } else if (w.dim() == 1) {
        w.fill_(norm && p.name == "weight" ? 1.0 : 0.0);
      }
    }
    for (const auto& b : m.named_buffers(/*recurse=*/false)) {
      if (b.name == "running_var") {
        b.value.fill_(1.0);
      } else if (b.name == "running_mean" || b.name == "num_batches_tracked") {
        b.value.zero_();
      }
    }
  }
}

// The interpreter's messages end with the error itself, after a traceback of the script.
std::string last_line(const std::string& text) {
  size_t end = text.find_last_not_of(" \n");
  if (end == std::string::npos) return text;
  const size_t begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin == std::string::npos ? 0 : begin + 1));
}

// A nn::Module name for a scripted attribute's dotted path ("0.weight" -> "0_weight").
std::string flat_name(std::string dotted) {
  for (char& c : dotted) {
    if (c == '.') c = '_';
  }
  return dotted;
}

class TorchScriptNetworkImpl : public Network {
 public:
  TorchScriptNetworkImpl(torch::jit::Module module, std::string name, int64_t classes)
      : module_(std::move(module)), name_(std::move(name)), classes_(classes) {
    // The scripted module's own tensors, registered under flat names: optimizers, checkpoints,
    // model files and .to() act on the very tensors its forward reads.
    std::set<std::string> seen;
    auto unique = [&](const std::string& dotted) {
      const std::string n = flat_name(dotted);
      if (!seen.insert(n).second) {
        throw Error("TorchScript model " + name_ + ": two attributes flatten to the name '" + n +
                    "'; rename one of them");
      }
      return n;
    };
    for (const auto& p : module_.named_parameters(/*recurse=*/true)) register_parameter(unique(p.name), p.value);
    for (const auto& b : module_.named_buffers(/*recurse=*/true)) register_buffer(unique(b.name), b.value);
  }

  torch::Tensor forward(torch::Tensor x) override {
    // x: [N, C, H, W] -> logits [N, classes]
    c10::IValue out = module_.forward({x});
    if (!out.isTensor()) {
      throw Error("TorchScript model " + name_ + ": forward(x) must return one tensor of logits, it returned " +
                  out.tagKind());
    }
    return out.toTensor();
  }
  std::string name() const override { return name_; }
  int64_t num_classes() const override { return classes_; }
  void train(bool on = true) override {
    Network::train(on);
    module_.train(on);  // batch norm and dropout inside the script follow the mode
  }

 private:
  torch::jit::Module module_;
  std::string name_;
  int64_t classes_;
};

}  // namespace

std::shared_ptr<Network> load_torchscript(const std::string& path, const ModelSpec& spec, InitMode init,
                                          uint64_t init_seed) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error("TorchScript model " + path + " does not exist: save one with torch.jit.save(torch.jit.script(net), "
                "PATH) and pass --model torchscript:PATH");
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::Device(torch::kCPU));
  } catch (const std::exception& e) {
    throw Error("cannot load TorchScript model " + path + " (" + last_line(e.what()) +
                "): save it with torch.jit.save(torch.jit.script(net), PATH), from a PyTorch no newer than this "
                "nesgd's LibTorch (" + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + ")");
  }
  if (!module.find_method("forward")) throw Error("TorchScript model " + path + " has no forward method");
  for (const auto& p : module.parameters()) {
    if (!p.is_floating_point()) throw Error("TorchScript model " + path + " has a parameter that is not floating point");
  }
  auto net = std::make_shared<TorchScriptNetworkImpl>(module, spec.name, spec.num_classes);
  if (init == InitMode::kGlorot) reinitialize(module, init_seed);

  // One forward of a zero batch of two in evaluation mode: the logits' shape, checked before any training.
  {
    torch::NoGradGuard no_grad;
    net->eval();
    torch::Tensor logits;
    try {
      logits = net->forward(torch::zeros({2, spec.in_channels, spec.height, spec.width}));
    } catch (const std::exception& e) {  // c10::Error, or the interpreter's JITException
      throw Error("TorchScript model " + path + " fails on a batch of " + std::to_string(spec.in_channels) + "x" +
                  std::to_string(spec.height) + "x" + std::to_string(spec.width) + " images (" +
                  last_line(e.what()) + "): its forward(x) must take [N, C, H, W] as the dataset has them");
    }
    if (logits.dim() != 2 || logits.size(0) != 2 || logits.size(1) != spec.num_classes) {
      throw Error("TorchScript model " + path + " returns logits of shape " + c10::str(logits.sizes()) +
                  " for a batch of 2; the dataset has " + std::to_string(spec.num_classes) +
                  " classes, so it must return [N, " + std::to_string(spec.num_classes) + "]");
    }
    net->train();
  }
  return net;
}

}  // namespace nesgd::models
