#include "nesgd/noise/model_noise.h"

#include <torch/torch.h>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/models/network.h"
#include "nesgd/models/serialize.h"
#include "nesgd/noise/network_gradients.h"
#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/tensors.h"
#include "nesgd/runtime/threads.h"

namespace nesgd::noise {
namespace {

std::string describe(const models::ModelSpec& s) {
  return s.name + " for " + std::to_string(s.in_channels) + "x" + std::to_string(s.height) + "x" +
         std::to_string(s.width) + " inputs and " + std::to_string(s.num_classes) + " classes";
}

}  // namespace

NoiseRunResult run_model_noise(const NoiseRunConfig& config, const data::DatasetSplits& data,
                               const NoiseMeterHooks& hooks) {
  data::ImageSet train_set = data.train;
  if (config.train_subset < 0) throw Error("--train-subset must be >= 0");
  if (config.train_subset > 0) train_set.truncate(config.train_subset);
  config.meter.validate(train_set.n);  // bad flags fail before any tensor is built

  const std::string model_name = config.model.empty() ? "f1" : config.model;
  const models::ModelSpec wanted{model_name, train_set.channels, train_set.height, train_set.width,
                                 train_set.num_classes};
  NoiseRunResult result;
  std::shared_ptr<models::Network> model;
  if (config.load_model.empty()) {
    // The same initial weights as `nesgd train --seed S` (with its --init).
    const models::InitMode init = models::init_mode_from_string(config.init);
    model = models::make_model(wanted, data::derive_seed(config.meter.seed, data::kStreamInit), init);
    result.weights = init == models::InitMode::kFile ? "the weights saved in " + models::torchscript_path(model_name)
                                                     : "initial weights of seed " + std::to_string(config.meter.seed);
  } else {
    models::LoadedModel loaded = models::load_model(config.load_model);
    const auto& s = loaded.spec;
    if (!config.model.empty() && s.name != config.model) {
      throw Error("--load-model " + config.load_model + " holds a " + s.name + " but --model says " + config.model +
                  ": drop --model or pass the matching file");
    }
    if (s.in_channels != wanted.in_channels || s.height != wanted.height || s.width != wanted.width ||
        s.num_classes != wanted.num_classes) {
      throw Error("--load-model " + config.load_model + " holds a " + describe(s) + "; dataset " + data.name +
                  " needs a network for " + std::to_string(wanted.in_channels) + "x" + std::to_string(wanted.height) +
                  "x" + std::to_string(wanted.width) + " inputs and " + std::to_string(wanted.num_classes) +
                  " classes: pass the --dataset the model was trained on");
    }
    model = loaded.net;
    result.weights = config.load_model;
  }
  result.model = model->name();

  const torch::Device device = runtime::resolve_device(config.device);
  runtime::apply_threads(result.model, {config.threads, config.blas_threads});
  model->to(device);
  const runtime::TensorSet train = runtime::to_tensors(train_set, device);

  NetworkGradients oracle(*model, train);
  result.report = measure_noise(
      [&oracle](const std::vector<int64_t>& idx, std::vector<double>& g) { return oracle(idx, g); }, train_set.n,
      config.meter, hooks);
  result.dataset_source = data.source;
  result.environment = runtime::environment_record(device);
  return result;
}

nlohmann::json to_json(const NoiseRunResult& r, const NoiseRunConfig& config) {
  nlohmann::json j = to_json(r.report);
  j["model"] = r.model;
  j["dataset"] = config.dataset;
  j["weights"] = r.weights;
  j["load_model"] = config.load_model.empty() ? nlohmann::json(nullptr) : nlohmann::json(config.load_model);
  j["train_subset"] = config.train_subset;
  j["device"] = r.environment.value("device", config.device);
  j["dataset_source"] = r.dataset_source;
  j["environment"] = r.environment;
  return j;
}

}  // namespace nesgd::noise
