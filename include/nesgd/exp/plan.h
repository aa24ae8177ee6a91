// nesgd/exp/plan.h - a sweep's runs as one process sees them before it
// trains: each run's id, whether it is in this process's shard, and whether
// the store already holds its result (torch-free).
//
// The plan is what `nesgd sweep --dry-run` lists, what run_sweep works
// through and what a sweep's record in the store names. Making it reads the
// store but never writes it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/exp/grid.h"
#include "nesgd/exp/shard.h"
#include "nesgd/exp/store.h"
#include "nesgd/train/run_config.h"

namespace nesgd::exp {

// One run of the grid as the sweep sees it.
struct PlannedRun {
  size_t position = 0;  // in the ordered grid
  std::string id;       // run_id(config)
  train::RunConfig config;
  bool in_shard = true;
  bool done = false;    // the store already holds its result
};

// The grid with ids, shard membership and what the store holds (store may be null).
std::vector<PlannedRun> plan_sweep(const SweepSpec& spec, const Shard& shard, const ResultStore* store);

// What sweeps/<name>.json records: the spec, the shard-independent run ids.
nlohmann::json sweep_description(const SweepSpec& spec, const std::vector<PlannedRun>& plan);

}  // namespace nesgd::exp
