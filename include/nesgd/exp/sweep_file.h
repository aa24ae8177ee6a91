// nesgd/exp/sweep_file.h - sweeps described in files (--config study.toml or
// .json): the keys a file may hold and how they override a preset. Torch-free.
//
// A file is read whole, parsed (TOML through exp/toml.h, JSON through
// nlohmann), and every value checked before a SweepSpec exists: a wrong key,
// type or value is an nesgd::Error naming the file and the fix. Nothing here
// expands the grid or trains.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "nesgd/exp/grid.h"

namespace nesgd::exp {

// A sweep described by a JSON object (or a TOML table converted to one): keys
// "name", "preset", "quick", "configs", "batch_sizes", "alphas", "seeds",
// "optimizers", "noises", "dataset", and any key of train::to_json(RunConfig) for the base. Lists may
// be arrays or strings in the parse_number_list syntax (exp/lists.h). "preset"
// starts from that preset; the other keys override it. Unknown keys are an error.
SweepSpec sweep_spec_from_json(const nlohmann::json& j);
// Reads a .json or .toml file (by extension) as JSON; TOML through
// toml_to_json (exp/toml.h: TOML 1.0 without dates and times).
nlohmann::json sweep_json_from_file(const std::string& path);
SweepSpec sweep_spec_from_file(const std::string& path);

}  // namespace nesgd::exp
