// nesgd/models/registry.h - the torch half of a model's entry: how to build it, what it costs.
//
// The catalog (models/catalog.h, torch-free) says what a model is to every site; this says
// how make_model builds it (a fresh network for a ModelSpec, Glorot-filled by make_model) and
// what one member of a pack costs (parameters and activations per sample, for the pack-size
// estimate on a GPU). A pack stacks any network models/packed.h knows (MLPs, the conv nets).
// register_model adds a new model, both halves, in one call: it is then a --model name,
// trains, packs, sweeps and reports like the paper's (tests/models/test_registry.cpp).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "nesgd/models/catalog.h"
#include "nesgd/models/model_spec.h"
#include "nesgd/models/network.h"

namespace nesgd::models {

struct ModelCost {
  double parameters = 0.0;               // trainable scalars
  double activations_per_sample = 0.0;   // values each sample's forward keeps (inputs and layer outputs)
};

struct ModelBuilder {
  std::function<std::shared_ptr<Network>(const ModelSpec&)> build;  // fresh weights: make_model draws them
  std::function<ModelCost(const ModelSpec&)> cost;
};

// The builder of a catalog model; throws nesgd::Error for a name without one.
const ModelBuilder& model_builder(const std::string& name);
// Adds a model to the catalog and its builder beside it. Throws nesgd::Error as add_to_catalog does.
void register_model(ModelEntry entry, ModelBuilder builder);
// The spec of a model for its paper dataset's shapes (the catalog entry's): the pack-size estimate's.
ModelSpec paper_spec(const ModelEntry& entry);

}  // namespace nesgd::models
