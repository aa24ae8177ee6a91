#include "nesgd/exp/sweep_request.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "nesgd/error.h"
#include "nesgd/exp/lists.h"
#include "nesgd/exp/sweep_file.h"
#include "nesgd/text.h"

namespace nesgd::exp {

std::string flag_for_config_key(const std::string& key) {
  if (key == "init_model") return "--load-model";
  if (key == "name") return "--optimizer";  // optimizer.name
  std::string s = "--" + key;
  for (char& c : s) c = c == '_' ? '-' : c;
  return s;
}

SweepSpec sweep_spec_from_request(const SweepRequest& request) {
  const auto given = [&](const std::string& flag) { return request.given_flags.count(flag) > 0; };
  nlohmann::json j = nlohmann::json::object();
  if (!request.config_file.empty()) j = sweep_json_from_file(request.config_file);
  if (!request.preset.empty()) {
    if (j.contains("preset") && j["preset"] != request.preset) {
      throw Error("the sweep file names preset '" + j["preset"].get<std::string>() + "' and the command line '" +
                  request.preset + "': give one");
    }
    j["preset"] = request.preset;
  }
  if (request.quick) {
    if (!j.contains("preset")) throw Error("--quick needs a preset, e.g. `nesgd sweep f1-fig2 --quick --store DIR`");
    j["quick"] = true;
  }
  SweepSpec spec;
  try {
    spec = sweep_spec_from_json(j);
  } catch (const Error& e) {
    throw Error((request.config_file.empty() ? std::string() : request.config_file + ": ") + e.what());
  }
  const bool from_preset_or_file = j.contains("preset") || !request.config_file.empty();

  // Train flags given on the command line override the preset/file base.
  const nlohmann::json flags = train::to_json(request.flags);
  nlohmann::json base = train::to_json(spec.base);
  std::set<std::string> handled{"--model", "--dataset", "--batch-size", "--alpha", "--seed"};  // crossed: below
  for (const auto& [key, value] : flags.items()) {
    if (key == "model" || key == "dataset" || key == "batch_size" || key == "alpha" || key == "seed") continue;
    if (key == "optimizer") {
      for (const auto& [sub, v] : value.items()) {
        handled.insert(flag_for_config_key(sub));
        if (given(flag_for_config_key(sub))) base["optimizer"][sub] = v;
      }
    } else {
      handled.insert(flag_for_config_key(key));
      if (given(flag_for_config_key(key))) base[key] = value;
    }
  }
  spec.base = train::run_config_from_json(base);
  // A train flag that maps to no configuration key would be dropped silently: refuse it instead.
  for (const std::string& flag : request.given_flags) {
    if (handled.count(flag) == 0) {
      throw Error("`nesgd sweep` cannot apply " + flag + " to its runs (no run-configuration key); leave it out");
    }
  }

  // The crossed lists: --batch-sizes etc., or a single --batch-size etc.
  auto pick = [&](const std::string& list, const char* list_flag, const char* single_flag) {
    if (!list.empty() && given(single_flag)) {
      throw Error(std::string("give ") + list_flag + " or " + single_flag + ", not both");
    }
    return !list.empty() ? 2 : given(single_flag) ? 1 : 0;
  };
  const train::RunConfig& f = request.flags;
  switch (pick(request.configs, "--configs", "--model")) {
    case 2: {
      spec.configs.clear();
      std::stringstream ss(request.configs);
      std::string item;
      while (std::getline(ss, item, ',')) spec.configs.push_back(lower(item));
      break;
    }
    case 1: spec.configs = {f.model}; break;
    default: if (!from_preset_or_file && spec.configs.empty()) spec.configs = {f.model};
  }
  if (given("--dataset")) spec.dataset_override = f.dataset;
  switch (pick(request.batch_sizes, "--batch-sizes", "--batch-size")) {
    case 2: spec.batch_sizes = parse_int_list(request.batch_sizes, "--batch-sizes"); break;
    case 1: spec.batch_sizes = {f.batch_size}; break;
    default: if (spec.batch_sizes.empty()) spec.batch_sizes = {f.batch_size};
  }
  switch (pick(request.alphas, "--alphas", "--alpha")) {
    case 2: spec.alphas = parse_number_list(request.alphas, "--alphas"); break;
    case 1: spec.alphas = {f.alpha}; break;
    default: if (spec.alphas.empty()) spec.alphas = {f.alpha};
  }
  switch (pick(request.seeds, "--seeds", "--seed")) {
    case 2: {
      spec.seeds.clear();
      for (int64_t v : parse_int_list(request.seeds, "--seeds")) spec.seeds.push_back(static_cast<uint64_t>(v));
      break;
    }
    case 1: spec.seeds = {f.seed}; break;
    default: if (spec.seeds.empty()) spec.seeds = {f.seed};
  }
  if (!request.name.empty()) spec.name = request.name;
  return spec;
}

}  // namespace nesgd::exp
