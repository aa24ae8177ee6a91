#include "nesgd/models/model_spec.h"

#include "nesgd/error.h"
#include "nesgd/json_read.h"
#include "nesgd/models/catalog.h"

namespace nesgd::models {

InitMode init_mode_from_string(const std::string& s) {
  if (s == "glorot") return InitMode::kGlorot;
  if (s == "file") return InitMode::kFile;
  throw Error("unknown --init '" + s + "': use glorot (re-draw the weights from the run's seed, the default) or file "
              "(keep the weights saved in the TorchScript file)");
}

nlohmann::json to_json(const ModelSpec& s) {
  return {{"name", s.name},
          {"in_channels", s.in_channels},
          {"height", s.height},
          {"width", s.width},
          {"num_classes", s.num_classes},
          {"bn_convention", s.bn_convention},
          {"ghost_batch_size", s.ghost_batch_size}};
}

ModelSpec model_spec_from_json(const nlohmann::json& j, const std::string& origin) {
  namespace jr = json_read;
  const std::string what = origin + ": model spec";
  jr::object(j, what);
  auto required = [&](const char* key) -> const nlohmann::json& {
    const auto* v = jr::find(j, key);
    if (v == nullptr) throw Error(what + " has no '" + key + "': not a model file written by nesgd");
    return *v;
  };
  ModelSpec s;
  s.name = jr::string(required("name"), what + ": 'name'");
  if (!is_one_of(s.name, builtin_model_names()) && !(is_torchscript(s.name) && s.name.size() > 12)) {
    throw Error(what + ": unknown model '" + s.name + "' (this nesgd knows " + names_text(builtin_model_names()) +
                " and torchscript:PATH)");
  }
  s.in_channels = jr::integer(required("in_channels"), what + ": 'in_channels'", 1, kMaxModelChannels);
  s.height = jr::integer(required("height"), what + ": 'height'", 1, kMaxModelSide);
  s.width = jr::integer(required("width"), what + ": 'width'", 1, kMaxModelSide);
  s.num_classes = jr::integer(required("num_classes"), what + ": 'num_classes'", 1, kMaxModelClasses);
  // Files written before these keys existed hold the defaults.
  jr::get(j, "bn_convention", s.bn_convention, what);
  if (!is_one_of(s.bn_convention, bn_convention_names())) {
    throw Error(what + ": unknown bn_convention '" + s.bn_convention + "' (" + names_text(bn_convention_names(), "or") +
                ")");
  }
  if (const auto* g = jr::find(j, "ghost_batch_size")) {
    s.ghost_batch_size = jr::integer(*g, what + ": 'ghost_batch_size'", 1, kMaxGhostBatchSize);
  }
  return s;
}

ModelSpec model_spec_from_text(const std::string& text, const std::string& origin) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    throw Error(origin + ": the model spec is not valid JSON (" + e.what() +
                "): the file is damaged; save the model again with `nesgd train --save-model FILE`");
  }
  return model_spec_from_json(j, origin);
}

}  // namespace nesgd::models
