// nesgd/exp/sweep.h - running a sweep into a result store, resumably.
//
// run_sweep() walks the runs of this process's shard in grid order. For each:
// skip it if the store has its result; claim it (another live process may
// hold it: skip it for now); train it with train::train_run; store the result
// durably; release the claim. Runs held elsewhere are revisited at the end
// and waited for, so a sweep returns only when its whole shard is stored (or
// it was asked to stop). Each dataset is loaded once and shared by its runs.
//
// Guarantees (docs/EXPERIMENTS.md): a run is stored at most once and done by
// at most one process at a time; a process killed at any moment loses only
// its run in progress (only the part since its last checkpoint, with
// checkpoints on); an interrupted run (should_stop) is never stored. Runs
// that end diverged or not_converged are results and are stored as such.
//
// The header is torch-free; the work happens in train_run. It never prints:
// the caller gets events through SweepHooks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/data/resolve.h"
#include "nesgd/exp/grid.h"
#include "nesgd/exp/pack_policy.h"
#include "nesgd/exp/plan.h"
#include "nesgd/exp/shard.h"
#include "nesgd/exp/store.h"
#include "nesgd/exp/sweep_summary.h"
#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"

namespace nesgd::exp {

struct SweepOptions {
  Shard shard;
  data::DataOptions data;
  bool wait_for_others = true;  // revisit runs held by other processes until they are stored
  double poll_seconds = 2.0;    // how often to look at them
  bool write_exports = true;    // rebuild runs.csv / runs.jsonl at the end
  // > 0: checkpoint each run to DIR/checkpoints/<id>.pt this often (and on
  // Ctrl-C), so a killed or stopped run continues where it was instead of
  // starting over (train/trainer.h: the continued run is step for step the
  // uninterrupted one). The checkpoint is deleted once the result is stored.
  double checkpoint_every_seconds = 0.0;
  // Runs trained together as one pack (train/pack.h): 1 = one run at a time;
  // K > 1 = packs of up to K runs; kAutoPack = auto (train::auto_pack_size,
  // from the device's memory). Runs that share everything but seed, alpha and
  // learning rate (and whether alpha is 1) are packed in grid order
  // (exp/pack_policy.h); others, and runs a pack cannot hold
  // (train::pack_unsupported_reason), train alone. A pack member's record is
  // the single run's plus "pack". Packs keep no checkpoint: a pack killed
  // midway loses its unfinished members (those that had stopped are stored
  // the moment they stop), and the rerun redoes them.
  int64_t pack = 1;
};

struct SweepProgress {
  size_t grid_size = 0;      // runs in the whole grid
  size_t shard_size = 0;     // runs in this shard
  size_t done = 0;           // of the shard, stored (by anyone)
  size_t ran_here = 0;       // stored by this process
  double mean_run_seconds = 0.0;  // of the runs done here
  double eta_seconds = -1.0;      // remaining runs x mean run time; < 0 before the first run
};

struct FinishedRun {
  const PlannedRun* run = nullptr;
  train::RunResult result;
  bool stored = false;  // false only for an interrupted run
};

struct SweepHooks {
  std::function<void(const PlannedRun&, const SweepProgress&)> on_run_start;
  // A pack of these runs starts (on_run_start is not called for them); its progress.
  std::function<void(const std::vector<const PlannedRun*>&, const SweepProgress&)> on_pack_start;
  std::function<void(const train::PackProgress&)> on_pack_progress;
  std::function<void(const PlannedRun&, const train::Progress&)> on_train_progress;
  std::function<void(const FinishedRun&, const SweepProgress&)> on_run_end;
  std::function<void(const std::string&)> on_message;  // "waiting for 2 runs held by other processes"
  std::function<bool()> should_stop;
  double progress_interval_seconds = 2.0;
};

SweepSummary run_sweep(const SweepSpec& spec, ResultStore& store, const SweepOptions& options,
                       const SweepHooks& hooks = {});

// The stored record: train::to_json(result, config) plus "run_id",
// "setting_id", "config_name", "batch_size", "alpha", "sweep" and "worker".
nlohmann::json result_record(const train::RunResult& result, const train::RunConfig& config,
                             const std::string& sweep_name);

}  // namespace nesgd::exp
