// nesgd/models/serialize.h - save and load a model with its architecture spec.
//
// A model file is a LibTorch archive (torch::serialize) holding every
// parameter and buffer under its module path, plus the ModelSpec as JSON under
// the key "nesgd_model_spec", so `load_model` rebuilds the right network
// without flags. Writes go through a temporary file and a rename.
#pragma once

#include <memory>
#include <string>

#include "nesgd/models/network.h"

namespace nesgd::models {

void save_model(Network& net, const ModelSpec& spec, const std::string& path);

struct LoadedModel {
  std::shared_ptr<Network> net;  // on the CPU, in training mode
  ModelSpec spec;
};

// Throws nesgd::Error for a missing, foreign or truncated file.
LoadedModel load_model(const std::string& path);

}  // namespace nesgd::models
