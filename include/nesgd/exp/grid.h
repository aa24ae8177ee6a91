// nesgd/exp/grid.h - what a sweep is: a base run configuration and the lists
// it is crossed over, the paper's studies as presets, and sharding (torch-free).
//
// A SweepSpec is plain data. expand() turns it into the ordered list of runs
// (one train::RunConfig each, validated, paper defaults filled); shards split
// that list so several processes or Slurm array tasks each take a disjoint
// part. Nothing here trains, reads data or touches the result store.
//
// Run order: config, then seed, then alpha, then batch size. A sweep stopped
// early therefore holds whole curves (every B and alpha) for its first seeds
// rather than ten seeds of its first batch sizes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/exp/toml.h"  // toml_to_json: sweep files in TOML
#include "nesgd/train/run_config.h"

namespace nesgd::exp {

// Seeds per point in the paper: each point is repeated 10 times from
// different random initializations.
constexpr int kPaperSeeds = 10;
// Seeds per point in the --quick presets: enough for a standard deviation.
constexpr int kQuickSeeds = 3;
// Bounds that turn a typo ("1..1e9") or a hostile sweep file into an error
// instead of an allocation of gigabytes: values in one list, runs in one sweep.
// The paper's largest study has 520 runs.
constexpr size_t kMaxListValues = 100000;
constexpr size_t kMaxSweepRuns = 100000;

struct SweepSpec {
  std::string name;                   // e.g. "f1-fig2", "f1-fig2-quick" or "custom"; recorded in the store
  train::RunConfig base;              // every option but the crossed ones; l_star/l_stop < 0 = per config
  std::vector<std::string> configs;   // paper configs by model name: "f1", "c1", "c2"
  std::vector<int64_t> batch_sizes;
  std::vector<double> alphas;
  std::vector<uint64_t> seeds;
  std::string dataset_override;       // non-empty: use this dataset for every config (else the paper's)

  size_t size() const { return configs.size() * batch_sizes.size() * alphas.size() * seeds.size(); }
};

// The runs of a sweep in the documented order. Each config gets its paper
// dataset (unless dataset_override) and its paper L*/L** (unless the base
// sets them); every run is validated. Throws nesgd::Error on an empty list, a
// duplicate value, more than kMaxSweepRuns runs or a bad configuration, naming the field.
std::vector<train::RunConfig> expand(const SweepSpec& spec);

// --- presets ----------------------------------------------------------------------------------------

struct PresetInfo {
  std::string name;         // "f1-fig2"
  std::string description;  // one line
};
// f1-fig2, c1-fig1, c2-fig2 (B grid x alpha grid) and f1-table3, c1-table3,
// c2-table3 (B = 5000, alpha = 1..11 or 1..7), all with 10 seeds.
const std::vector<PresetInfo>& presets();

// The preset's spec; `quick` gives its reduced variant (name + "-quick"): a
// training subset, a few batch sizes, two alphas (fig) or a short alpha grid
// (table3), 3 seeds and an iteration cap. Throws nesgd::Error for unknown names.
SweepSpec preset(const std::string& name, bool quick);

// --- lists and files --------------------------------------------------------------------------------

// "100,200,500", "1..11", "1..2:0.5" (a..b with step, both ends included) or a
// mix: "1,1.5,2..4". Values are computed as a + k * step, never accumulated.
std::vector<double> parse_number_list(const std::string& text, const std::string& what);
std::vector<int64_t> parse_int_list(const std::string& text, const std::string& what);

// A sweep described by a JSON object (or a TOML table converted to one): keys
// "name", "preset", "quick", "configs", "batch_sizes", "alphas", "seeds",
// "dataset", and any key of train::to_json(RunConfig) for the base. Lists may
// be arrays or strings in the parse_number_list syntax. "preset" starts from
// that preset; the other keys override it. Unknown keys are an error.
SweepSpec sweep_spec_from_json(const nlohmann::json& j);
// Reads a .json or .toml file (by extension) as JSON; TOML through
// toml_to_json (exp/toml.h: TOML 1.0 without dates and times).
nlohmann::json sweep_json_from_file(const std::string& path);
SweepSpec sweep_spec_from_file(const std::string& path);

nlohmann::json to_json(const SweepSpec& spec);

// --- sharding ---------------------------------------------------------------------------------------

// Shard `index` of `count` takes the runs at positions p with p % count == index
// (round robin over the ordered grid, so every shard sees every batch size).
struct Shard {
  int64_t index = 0;
  int64_t count = 1;
  bool contains(size_t position) const { return static_cast<int64_t>(position % static_cast<size_t>(count)) == index; }
  std::string to_string() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// "I/N" with 0 <= I < N. Throws nesgd::Error naming the fix.
Shard parse_shard(const std::string& text);

// Slurm job arrays: SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and
// SLURM_ARRAY_TASK_MIN (ids need not start at 0: --array=1-10 gives 1..10).
// Returns false when the variables are not set. `getenv` is injectable for tests.
using GetEnv = std::function<const char*(const char*)>;
bool shard_from_slurm(Shard& shard, const GetEnv& getenv_fn = {});

}  // namespace nesgd::exp
