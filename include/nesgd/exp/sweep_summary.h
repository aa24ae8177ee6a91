// nesgd/exp/sweep_summary.h - what a sweep did, counted: the runs of its grid
// and shard, those stored before it started, those it ran and how they ended
// (torch-free).
//
// run_sweep counts as it goes; a sweep run by worker processes (exp/workers.h)
// is counted afterwards from what the store holds, by the same rule, so both
// print the same summary for the same runs. Nothing here writes the store.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/exp/plan.h"

namespace nesgd::exp {

struct SweepSummary {
  size_t grid_size = 0;
  size_t shard_size = 0;
  size_t already_done = 0;  // stored before this process started
  size_t ran_here = 0;
  size_t converged = 0;     // of ran_here
  size_t not_converged = 0;
  size_t diverged = 0;
  size_t missing = 0;       // of the shard, not stored when run_sweep returned
  bool interrupted = false;
  size_t exported_rows = 0;
  size_t packs = 0;         // packs of two or more runs trained here
};

// One more run ran here and ended with `status` as a stored record spells it
// ("converged", "not_converged", "diverged"; other statuses count only in ran_here).
void count_run(SweepSummary& summary, const std::string& status);

// The summary of runs that other processes trained: `plan` as it stood before
// they started (PlannedRun::done: stored then), `records` the store's results
// afterwards. Sets every count but interrupted and exported_rows; a pack is
// counted by its first member (its record's "pack" index 0).
SweepSummary recount_sweep(const std::vector<PlannedRun>& plan, const std::vector<nlohmann::json>& records);

}  // namespace nesgd::exp
