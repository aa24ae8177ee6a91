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

namespace {

bool flag_given(const SweepRequest& request, const std::string& flag) { return request.given_flags.count(flag) > 0; }

// The sweep file (or an empty object) with the command line's preset and --quick.
nlohmann::json request_json(const SweepRequest& request) {
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
  return j;
}

// Train flags given on the command line override the preset/file base.
void apply_train_flags(const SweepRequest& request, SweepSpec& spec) {
  const nlohmann::json flags = train::to_json(request.flags);
  nlohmann::json base = train::to_json(spec.base);
  std::set<std::string> handled{"--model", "--dataset", "--batch-size", "--alpha", "--seed"};  // crossed: below
  for (const auto& [key, value] : flags.items()) {
    if (key == "model" || key == "dataset" || key == "batch_size" || key == "alpha" || key == "seed") continue;
    if (key == "optimizer") {
      for (const auto& [sub, v] : value.items()) {
        handled.insert(flag_for_config_key(sub));
        if (flag_given(request, flag_for_config_key(sub))) base["optimizer"][sub] = v;
      }
    } else {
      handled.insert(flag_for_config_key(key));
      if (flag_given(request, flag_for_config_key(key))) base[key] = value;
    }
  }
  spec.base = train::run_config_from_json(base);
  // A train flag that maps to no configuration key would be dropped silently: refuse it instead.
  for (const std::string& flag : request.given_flags) {
    if (handled.count(flag) == 0) {
      throw Error("`nesgd sweep` cannot apply " + flag + " to its runs (no run-configuration key); leave it out");
    }
  }
}

// Which of a crossed field's flags the request gives: 2 the list (--batch-sizes), 1 the single value
// (--batch-size), 0 neither.
int crossed_source(const SweepRequest& request, const std::string& list, const char* list_flag,
                   const char* single_flag) {
  if (!list.empty() && flag_given(request, single_flag)) {
    throw Error(std::string("give ") + list_flag + " or " + single_flag + ", not both");
  }
  return !list.empty() ? 2 : flag_given(request, single_flag) ? 1 : 0;
}

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) names.push_back(trim(item));
  return names;
}

// --optimizers / --noises: the list, or (a single --optimizer / --noise, already in the base) none.
void apply_name_list(const SweepRequest& request, const std::string& list, const char* list_flag,
                     const char* single_flag, std::vector<std::string>& names) {
  switch (crossed_source(request, list, list_flag, single_flag)) {
    case 2: names = split_names(list); break;
    case 1: names.clear(); break;
    default: break;
  }
}

// The crossed lists: --batch-sizes etc., or a single --batch-size etc.
void apply_crossed_lists(const SweepRequest& request, bool from_preset_or_file, SweepSpec& spec) {
  const train::RunConfig& f = request.flags;
  switch (crossed_source(request, request.configs, "--configs", "--model")) {
    case 2: {
      spec.configs.clear();
      for (const std::string& item : split_names(request.configs)) spec.configs.push_back(config_name(item));
      break;
    }
    case 1: spec.configs = {f.model}; break;
    default: if (!from_preset_or_file && spec.configs.empty()) spec.configs = {f.model};
  }
  if (flag_given(request, "--dataset")) spec.dataset_override = f.dataset;
  switch (crossed_source(request, request.batch_sizes, "--batch-sizes", "--batch-size")) {
    case 2: spec.batch_sizes = parse_int_list(request.batch_sizes, "--batch-sizes"); break;
    case 1: spec.batch_sizes = {f.batch_size}; break;
    default: if (spec.batch_sizes.empty()) spec.batch_sizes = {f.batch_size};
  }
  switch (crossed_source(request, request.alphas, "--alphas", "--alpha")) {
    case 2: spec.alphas = parse_number_list(request.alphas, "--alphas"); break;
    case 1: spec.alphas = {f.alpha}; break;
    default: if (spec.alphas.empty()) spec.alphas = {f.alpha};
  }
  switch (crossed_source(request, request.seeds, "--seeds", "--seed")) {
    case 2: {
      spec.seeds.clear();
      for (int64_t v : parse_int_list(request.seeds, "--seeds")) spec.seeds.push_back(static_cast<uint64_t>(v));
      break;
    }
    case 1: spec.seeds = {f.seed}; break;
    default: if (spec.seeds.empty()) spec.seeds = {f.seed};
  }
  apply_name_list(request, request.optimizers, "--optimizers", "--optimizer", spec.optimizers);
  apply_name_list(request, request.noises, "--noises", "--noise", spec.noises);
}

}  // namespace

SweepSpec sweep_spec_from_request(const SweepRequest& request) {
  const nlohmann::json j = request_json(request);
  SweepSpec spec;
  try {
    spec = sweep_spec_from_json(j);
  } catch (const Error& e) {
    throw Error((request.config_file.empty() ? std::string() : request.config_file + ": ") + e.what());
  }
  apply_train_flags(request, spec);
  apply_crossed_lists(request, j.contains("preset") || !request.config_file.empty(), spec);
  if (!request.name.empty()) spec.name = request.name;
  return spec;
}

}  // namespace nesgd::exp
