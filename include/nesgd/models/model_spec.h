// nesgd/models/model_spec.h - which network a model file holds (torch-free).
//
// A ModelSpec names the architecture and its input and output sizes; model
// files (models/serialize.h) carry it as JSON beside the weights, so a saved
// model is rebuilt without flags. Reading it back checks every field and its
// range before any network is built: a damaged or hostile header must give an
// nesgd::Error, never a network whose first layer takes gigabytes. Nothing
// here builds networks or touches tensors.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nesgd/names.h"

namespace nesgd::models {

// Ghost batch norm's conventions: keras (momentum 0.99, eps 1e-3) and pytorch (0.1, 1e-5).
inline const NameList& bn_convention_names() {
  static const NameList names{"keras", "pytorch"};
  return names;
}

// A user's own network: "torchscript:PATH" names the TorchScript file at PATH (models/torchscript.h).
constexpr const char* kTorchScriptPrefix = "torchscript:";
inline bool is_torchscript(const std::string& model) { return model.rfind(kTorchScriptPrefix, 0) == 0; }
inline std::string torchscript_path(const std::string& model) {
  return model.substr(std::string(kTorchScriptPrefix).size());
}
// The networks nesgd builds by name: models/catalog.h (builtin_model_names()).

// Where a run's initial weights come from: glorot (drawn from the run's init seed, as the paper
// draws its networks; the default) or file (a TorchScript model's own saved weights).
enum class InitMode { kGlorot, kFile };
inline const NameList& init_names() {
  static const NameList names{"glorot", "file"};
  return names;
}
InitMode init_mode_from_string(const std::string& s);  // throws nesgd::Error for another name

struct ModelSpec {
  std::string name;          // "f1"
  int64_t in_channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t num_classes = 10;
  // Ghost batch norm of C1/C2 (models/ghost_batch_norm.h); F1 has none.
  std::string bn_convention = "keras";  // or "pytorch"
  int64_t ghost_batch_size = 100;       // kPaperGhostBatchSize
};

// The largest sizes a model file may declare: far above every dataset here
// (1x28x28 and 3x32x32 images, 10 or 100 classes), low enough that the widest
// first layer they allow (F1 on 4x128x128 inputs: 65,536 x 500 weights) stays
// near 130 MB.
constexpr int64_t kMaxModelChannels = 4;
constexpr int64_t kMaxModelSide = 128;
constexpr int64_t kMaxModelClasses = 1000;
constexpr int64_t kMaxGhostBatchSize = 1000000;

nlohmann::json to_json(const ModelSpec& spec);
// Throws nesgd::Error naming `origin` and the field that is missing, of the
// wrong type or out of range (an unknown model name included).
ModelSpec model_spec_from_json(const nlohmann::json& j, const std::string& origin);
// The same from JSON text (what a model file stores).
ModelSpec model_spec_from_text(const std::string& text, const std::string& origin);

}  // namespace nesgd::models
