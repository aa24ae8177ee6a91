// Sweeps described in files (exp/sweep_file.h): TOML or JSON into a SweepSpec.
#include "nesgd/exp/sweep_file.h"

#include <fstream>
#include <set>
#include <sstream>

#include "nesgd/error.h"
#include "nesgd/exp/lists.h"
#include "nesgd/exp/presets.h"
#include "nesgd/exp/toml.h"
#include "nesgd/json_read.h"
#include "nesgd/text.h"

namespace nesgd::exp {
namespace {

// The list key that replaces a key the sweep crosses ("model" -> "configs").
std::string crossed_key_fix(const std::string& key) {
  return key == "model" ? "configs" : key == "batch_size" ? "batch_sizes" : key == "alpha" ? "alphas" : "seeds";
}

// The file's run-configuration keys laid over `s.base` (a preset's, or the defaults).
void apply_run_keys(const nlohmann::json& j, SweepSpec& s) {
  namespace jr = json_read;
  const train::RunConfig defaults;  // a named object: GCC 12 misreads a temporary here (-Wmaybe-uninitialized)
  const nlohmann::json run_keys = train::to_json(defaults);
  static const std::set<std::string> sweep_keys{"name",  "preset", "quick",      "configs", "batch_sizes",
                                                "alphas", "seeds", "optimizers", "noises"};
  nlohmann::json base = train::to_json(s.base);
  for (const auto& [key, value] : j.items()) {
    if (sweep_keys.count(key) > 0) continue;
    if (key == "model" || key == "batch_size" || key == "alpha" || key == "seed") {
      throw Error("sweep file: '" + key + "' is crossed by the sweep; use '" + crossed_key_fix(key) + "' (a list)");
    }
    if (!run_keys.contains(key)) {
      throw Error("sweep file: unknown key '" + key + "'; known keys are name, preset, quick, configs, batch_sizes, "
                  "alphas, seeds, optimizers, noises and the fields of a run configuration (see `nesgd train --help`)");
    }
    if (key == "dataset") {
      s.dataset_override = jr::string(value, "sweep file: 'dataset'");
    } else if (key == "optimizer") {
      if (!value.is_object()) throw Error("sweep file: 'optimizer' must be a table/object");
      for (const auto& [k, v] : value.items()) {
        if (!run_keys["optimizer"].contains(k)) throw Error("sweep file: unknown optimizer key '" + k + "'");
        base["optimizer"][k] = v;
      }
    } else {
      base[key] = value;
    }
  }
  try {
    s.base = train::run_config_from_json(base);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("sweep file: a value has the wrong type: ") + e.what());
  }
}

// A list of names as an array or a comma-separated string, each through `name` ("configs" lower-cased).
template <typename Name>
std::vector<std::string> names_from_json(const nlohmann::json& c, const std::string& key, Name name) {
  std::vector<std::string> names;
  if (c.is_string()) {
    std::stringstream ss(c.get<std::string>());
    std::string item;
    while (std::getline(ss, item, ',')) names.push_back(name(item));
  } else {
    for (const auto& e : json_read::array(c, "sweep file: '" + key + "'")) {
      names.push_back(name(json_read::string(e, "sweep file: each of '" + key + "'")));
    }
  }
  check_list_length(names.size(), key);
  return names;
}

// The crossed lists the file gives, each replacing the preset's.
void apply_lists(const nlohmann::json& j, SweepSpec& s) {
  if (const auto* c = json_read::find(j, "configs")) s.configs = names_from_json(*c, "configs", config_name);
  const auto as_is = [](const std::string& item) { return trim(item); };
  if (const auto* o = json_read::find(j, "optimizers")) s.optimizers = names_from_json(*o, "optimizers", as_is);
  if (const auto* n = json_read::find(j, "noises")) s.noises = names_from_json(*n, "noises", as_is);
  if (j.contains("batch_sizes")) {
    s.batch_sizes = whole_numbers<int64_t>(json_number_list(j.at("batch_sizes"), "batch_sizes"), "batch_sizes", false);
  }
  if (j.contains("alphas")) s.alphas = json_number_list(j.at("alphas"), "alphas");
  if (j.contains("seeds")) s.seeds = whole_numbers<uint64_t>(json_number_list(j.at("seeds"), "seeds"), "seeds", true);
}

}  // namespace

SweepSpec sweep_spec_from_json(const nlohmann::json& j) {
  namespace jr = json_read;
  if (!j.is_object()) throw Error("a sweep description must be an object (JSON {...} or a TOML document)");
  SweepSpec s;
  if (const auto* p = jr::find(j, "preset")) {
    bool quick = false;
    jr::get(j, "quick", quick, "sweep file");
    s = preset(jr::string(*p, "sweep file: 'preset'"), quick);
  }
  apply_run_keys(j, s);
  jr::get(j, "name", s.name, "sweep file");
  apply_lists(j, s);
  if (s.name.empty()) s.name = "custom";
  return s;
}

nlohmann::json sweep_json_from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read sweep file " + path + ": check the path");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const bool is_toml = path.size() >= 5 && lower(path.substr(path.size() - 5)) == ".toml";
  if (is_toml) return toml_to_json(text, path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
    throw Error(path + ": invalid JSON (" + e.what() + "); sweep files are .json or .toml");
  }
  if (!j.is_object()) {
    throw Error(path + ": a sweep file holds one JSON object {\"configs\": ..., \"batch_sizes\": ...}, not " +
                json_read::excerpt(j));
  }
  return j;
}

SweepSpec sweep_spec_from_file(const std::string& path) {
  const nlohmann::json j = sweep_json_from_file(path);
  try {
    return sweep_spec_from_json(j);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace nesgd::exp
