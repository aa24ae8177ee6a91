// The torch-free half of train/pack.h: which runs may be packed, and together with which.
#include "nesgd/train/pack.h"

#include "nesgd/error.h"

namespace nesgd::train {

std::string pack_unsupported_reason(const RunConfig& config) {
  if (models::is_torchscript(config.model)) {
    return "a TorchScript model (--model torchscript:PATH) is not packed: nesgd stacks only its own networks' "
           "weights; its runs train one at a time (--pack 1)";
  }
  if (!config.init_model.empty()) {
    return "a run that starts from saved weights (--load-model) cannot be packed: train it alone (--pack 1)";
  }
  if (config.log_noise_scale) {
    return "a run that logs the noise scale (--log-noise-scale) cannot be packed: train it alone (--pack 1)";
  }
  if (config.cuda_graph) {
    return "packs are not captured as CUDA graphs (--cuda-graph): train these runs one at a time (--pack 1), or "
           "drop --cuda-graph to pack them";
  }
  if (config.noise != optim::kNoiseNE) {
    return "a run with --noise " + config.noise + " (the control for NE) is not packed: it trains one at a time "
           "(--pack 1)";
  }
  // optim/pack_optimizer.h: the optimizers with a packed form.
  const std::string& o = config.optimizer.name;
  if (!is_one_of(o, optim::packable_optimizer_names())) {
    return "optimizer '" + o + "' has no packed form (packs support " + names_text(optim::packable_optimizer_names()) +
           "): train these runs one at a time (--pack 1)";
  }
  return "";
}

std::string pack_key(const RunConfig& config_in) {
  RunConfig config = config_in;
  config.resolve_defaults_and_validate();
  nlohmann::json j = to_json(config);
  j.erase("seed");
  j.erase("alpha");
  j["optimizer"].erase("lr");
  return j.dump();
}

}  // namespace nesgd::train
