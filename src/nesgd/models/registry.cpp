#include "nesgd/models/registry.h"

#include <map>
#include <numeric>

#include "nesgd/error.h"
#include "nesgd/models/conv_nets.h"
#include "nesgd/models/f1.h"
#include "nesgd/models/init.h"
#include "nesgd/models/network.h"
#include "nesgd/models/torchscript.h"

namespace nesgd::models {
namespace {

ConvNetOptions conv_options(const ModelSpec& spec) {
  ConvNetOptions o = spec.name == "c1" ? c1_options(spec.in_channels, spec.height, spec.width, spec.num_classes)
                                       : c2_options(spec.in_channels, spec.height, spec.width, spec.num_classes);
  o.bn_convention = batch_norm_convention_from_string(spec.bn_convention);
  if (spec.ghost_batch_size <= 0) throw Error("the ghost batch size must be positive");
  o.ghost_batch_size = spec.ghost_batch_size;
  return o;
}

// 3x3 convolutions with bias and ghost BN's scale and shift, 2x2 pooling after each stack, then
// dense layers; activations: each convolution's output.
ModelCost conv_cost(const ModelSpec& spec) {
  const ConvNetOptions o = conv_options(spec);
  ModelCost cost;
  int64_t c = o.in_channels, h = o.height, w = o.width;
  for (const auto& stack : o.stacks) {
    for (int64_t j = 0; j < stack.convs; ++j) {
      cost.parameters += static_cast<double>(stack.channels * (c * 9 + 1) + 2 * stack.channels);
      cost.activations_per_sample += static_cast<double>(stack.channels * h * w);
      c = stack.channels;
    }
    h /= 2;
    w /= 2;
  }
  int64_t f = c * h * w;
  for (int64_t width : o.dense_hidden) {
    cost.parameters += static_cast<double>(f * width + width);
    f = width;
  }
  cost.parameters += static_cast<double>(f * o.num_classes + o.num_classes);
  return cost;
}

// An MLP: its weights and biases; activations: the input, every hidden layer and the logits.
ModelCost mlp_cost(const ModelSpec& spec, const MlpOptions& o) {
  ModelCost cost;
  int64_t in = spec.in_channels * spec.height * spec.width;
  cost.activations_per_sample = static_cast<double>(in + o.hidden_layers * o.width + spec.num_classes);
  for (int64_t l = 0; l < o.hidden_layers; ++l) {
    cost.parameters += static_cast<double>(in * o.width + o.width);
    in = o.width;
  }
  cost.parameters += static_cast<double>(in * spec.num_classes + spec.num_classes);
  return cost;
}

std::map<std::string, ModelBuilder>& builders() {
  static std::map<std::string, ModelBuilder> b{
      {"f1",
       {[](const ModelSpec& s) {
          return std::make_shared<MlpImpl>(s.in_channels * s.height * s.width, s.num_classes, MlpOptions{});
        },
        [](const ModelSpec& s) { return mlp_cost(s, MlpOptions{}); }}},
      {"c1", {[](const ModelSpec& s) { return std::make_shared<ConvNetImpl>(conv_options(s)); }, conv_cost}},
      {"c2", {[](const ModelSpec& s) { return std::make_shared<ConvNetImpl>(conv_options(s)); }, conv_cost}},
  };
  return b;
}

}  // namespace

const ModelBuilder& model_builder(const std::string& name) {
  const auto it = builders().find(name);
  if (it == builders().end()) {
    throw Error("unknown model '" + name + "': available: " + names_text(builtin_model_names()) +
                ", or torchscript:PATH for your own");
  }
  return it->second;
}

void register_model(ModelEntry entry, ModelBuilder builder) {
  if (!builder.build || !builder.cost) throw Error("register_model: model '" + entry.name + "' needs build and cost");
  const std::string name = entry.name;
  add_to_catalog(std::move(entry));  // refuses a taken or reserved name first
  builders()[name] = std::move(builder);
}

ModelSpec paper_spec(const ModelEntry& entry) {
  ModelSpec s;
  s.name = entry.name;
  s.in_channels = entry.in_channels;
  s.height = entry.height;
  s.width = entry.width;
  s.num_classes = entry.num_classes;
  return s;
}

std::shared_ptr<Network> make_model(const ModelSpec& spec, uint64_t init_seed, InitMode init) {
  if (is_torchscript(spec.name)) return load_torchscript(torchscript_path(spec.name), spec, init, init_seed);
  if (init == InitMode::kFile) {
    throw Error("--init file keeps a TorchScript model's saved weights; " + spec.name +
                " is built by nesgd and drawn from the seed: use --init glorot");
  }
  std::shared_ptr<Network> net = model_builder(spec.name).build(spec);
  glorot_init(*net, init_seed);  // copy_ into the weights keeps their memory format
  return net;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace nesgd::models
