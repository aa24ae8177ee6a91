#include <numeric>

#include "nesgd/error.h"
#include "nesgd/models/conv_nets.h"
#include "nesgd/models/f1.h"
#include "nesgd/models/init.h"
#include "nesgd/models/network.h"
#include "nesgd/models/torchscript.h"

namespace nesgd::models {

std::shared_ptr<Network> make_model(const ModelSpec& spec, uint64_t init_seed, InitMode init) {
  if (is_torchscript(spec.name)) return load_torchscript(torchscript_path(spec.name), spec, init, init_seed);
  if (init == InitMode::kFile) {
    throw Error("--init file keeps a TorchScript model's saved weights; " + spec.name +
                " is built by nesgd and drawn from the seed: use --init glorot");
  }
  std::shared_ptr<Network> net;
  if (spec.name == "f1") {
    net = std::make_shared<F1Impl>(spec.in_channels * spec.height * spec.width, spec.num_classes);
  } else if (spec.name == "c1" || spec.name == "c2") {
    ConvNetOptions o = spec.name == "c1" ? c1_options(spec.in_channels, spec.height, spec.width, spec.num_classes)
                                         : c2_options(spec.in_channels, spec.height, spec.width, spec.num_classes);
    o.bn_convention = batch_norm_convention_from_string(spec.bn_convention);
    if (spec.ghost_batch_size <= 0) throw Error("the ghost batch size must be positive");
    o.ghost_batch_size = spec.ghost_batch_size;
    net = std::make_shared<ConvNetImpl>(o);
  } else {
    throw Error("unknown model '" + spec.name + "': available: f1, c1, c2, or torchscript:PATH for your own");
  }
  glorot_init(*net, init_seed);  // copy_ into the weights keeps their memory format
  return net;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace nesgd::models
