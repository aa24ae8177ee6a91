// nesgd/models/catalog.h - the networks nesgd builds, one entry each (torch-free).
//
// Every site that depends on which network a run trains reads the model's entry here: the
// names --model accepts (and model files may hold), the label reports print, the paper's
// dataset and L*/L** for it, whether it normalizes in ghost batches (batches must then be
// whole ghost batches), which thread policy suits it (runtime/threads.h), and the input
// shape its pack-size estimate assumes. The torch half of an entry, how to build the
// network and what a member of a pack costs, sits beside the factory (models/registry.h);
// models::register_model adds both halves of a new model in one call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nesgd/names.h"

namespace nesgd::models {

// What dominates a step's time, for the thread defaults: dense layers (GEMMs in the BLAS) or
// convolutions (oneDNN on ATen's pool).
enum class ThreadProfile { kDense, kConv };

struct ModelEntry {
  std::string name;           // "f1": --model, sweep configs, model files
  std::string label;          // "F1": report tables and figures
  std::string help;           // one line for --help
  std::string paper_dataset;  // the dataset the paper trains it on ("fashion-mnist")
  double l_star = 0.01;       // the paper's L* and L** for it (PAPER.md, its table of configs)
  double l_stop = 0.001;
  bool ghost_batch_norm = false;  // normalizes in ghost batches: B and B' are whole ghost batches
  ThreadProfile threads = ThreadProfile::kDense;
  // The paper dataset's image shape and classes: what the pack-size estimate assumes.
  int64_t in_channels = 1, height = 28, width = 28, num_classes = 10;
};

// The entries in order: the paper's F1, C1, C2, then any registered since.
const std::vector<ModelEntry>& model_catalog();
// The entry named `name`, or nullptr (an unknown name, or a torchscript:PATH model).
const ModelEntry* find_model(const std::string& name);
// The same, throwing nesgd::Error naming the models there are.
const ModelEntry& model_entry(const std::string& name);
// Adds an entry (models::register_model adds its torch half too). Throws nesgd::Error for an
// empty or taken name, or one that starts with "torchscript:".
void add_to_catalog(ModelEntry entry);
// The catalog's names, in its order ("f1, c1, c2" in messages).
const NameList& builtin_model_names();

}  // namespace nesgd::models
