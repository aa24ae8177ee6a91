#include "nesgd/models/catalog.h"

#include "nesgd/error.h"
#include "nesgd/models/model_spec.h"

namespace nesgd::models {
namespace {

// Mori & Ueda (arXiv 2009.13094), the table of configs (PAPER.md): F1 on Fashion-MNIST and C1
// on CIFAR-10 halve the LR at L* = 0.01, C2 on CIFAR-100 at 0.02; all stop at L** = 0.001.
std::vector<ModelEntry>& entries() {
  static std::vector<ModelEntry> e{
      {"f1", "F1", "MLP 784 -> 7 x 500 ReLU -> 10, the paper's for Fashion-MNIST", "fashion-mnist", 0.01, 0.001, false,
       ThreadProfile::kDense, 1, 28, 28, 10},
      {"c1", "C1", "VGG-like conv net with ghost batch norm, for CIFAR-10", "cifar10", 0.01, 0.001, true,
       ThreadProfile::kConv, 3, 32, 32, 10},
      {"c2", "C2", "deeper conv net with ghost batch norm, for CIFAR-100", "cifar100", 0.02, 0.001, true,
       ThreadProfile::kConv, 3, 32, 32, 100},
  };
  return e;
}

NameList& names() {
  static NameList n = [] {
    NameList out;
    for (const auto& e : entries()) out.push_back(e.name);
    return out;
  }();
  return n;
}

}  // namespace

const std::vector<ModelEntry>& model_catalog() { return entries(); }

const ModelEntry* find_model(const std::string& name) {
  for (const auto& e : entries()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

const ModelEntry& model_entry(const std::string& name) {
  if (const ModelEntry* e = find_model(name)) return *e;
  throw Error("unknown model '" + name + "': use " + names_text(builtin_model_names(), "or") +
              ", or torchscript:PATH for your own network");
}

void add_to_catalog(ModelEntry entry) {
  if (entry.name.empty() || is_torchscript(entry.name)) {
    throw Error("a model's name must be non-empty and not start with " + std::string(kTorchScriptPrefix));
  }
  if (find_model(entry.name) != nullptr) throw Error("model '" + entry.name + "' is already in the catalog");
  if (entry.label.empty()) throw Error("model '" + entry.name + "' needs a label for reports");
  names().push_back(entry.name);
  entries().push_back(std::move(entry));
}

const NameList& builtin_model_names() { return names(); }

}  // namespace nesgd::models
