// nesgd/train/pack.h - many runs of the study trained at once, as one stacked network.
//
// The paper's study is about 1,300 runs, and a single F1 run cannot keep a
// GPU (or even two CPU cores) busy at small B. A pack trains K runs that share
// the model, dataset, batch size, training subset, loss measure, sampling and
// optimizer kind, and differ in seed, alpha and learning rate, as one network
// with K weight stacks (models/packed.h) and one per-member optimizer
// (optim/pack_optimizer.h). Each member keeps everything its single run has:
//   - its initialization, drawn exactly as train_run draws it for that seed;
//   - its own streams B and B' (the same sample sequence as the single run);
//   - its own optimizer state and learning rate, halved at its own L*;
//   - its own protocol (L*, L**, the cap, divergence). A member that stops is
//     frozen at that step: its weights, test evaluation and record are those
//     of that step, and it leaves the pack, which shrinks; the others go on.
// In float64 every member follows its single run step for step (tested to
// 1e-9); in float32 they agree up to the rounding of summation order.
//
// No host synchronization per step: the minibatch losses stay on the device
// and are read at the training-loss checks (and at the iteration cap), where
// the protocol runs for every member on the losses since the last check. A
// member whose loss turned non-finite between checks is recorded as diverged
// at that step (as a single run is); its weights are then those of the check.
// Not packable (pack_unsupported_reason): --load-model, --log-noise-scale, --noise
// isotropic, TorchScript models, and optimizers without a packed form (rmsprop, pnm, adapnm).
//
// Torch-free header: the trainer is in pack.cpp. Never prints; hooks report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nesgd/data/dataset.h"
#include "nesgd/train/run_config.h"
#include "nesgd/train/trainer.h"

namespace nesgd::train {

struct PackProgress {
  int64_t iteration = 0;
  size_t members = 0;          // K at the start
  size_t running = 0;          // members still training
  double min_train_loss = 0.0; // over running members, last measured (NaN before the first check)
  double max_train_loss = 0.0;
  double samples_per_second = 0.0;  // all members together
  double seconds = 0.0;
  bool is_check = false;
};

struct PackHooks {
  std::function<void(const PackProgress&)> on_progress;  // throttled to progress_interval, plus every check
  double progress_interval_seconds = 2.0;
  std::function<bool()> should_stop;                     // polled every step: true ends every running member as interrupted
  // Member `index` (position in the configs) has ended (converged, not_converged or
  // diverged) with this final result, while the others may go on: store it now.
  std::function<void(size_t index, const RunResult&)> on_member_done;
};

// Empty when `config` can be trained in a pack; else why not, with the fix.
std::string pack_unsupported_reason(const RunConfig& config);

// Runs that may share a pack have equal keys: the resolved configuration
// without seed, alpha and learning rate.
std::string pack_key(const RunConfig& config);

// Trains the configs as one pack; returns one result per config, in order.
// Each result is what train_run gives for that config, plus pack_size and
// pack_index. Members still running when should_stop turns true end as
// kInterrupted. Throws nesgd::Error if the configs cannot share a pack.
std::vector<RunResult> train_pack(std::vector<RunConfig> configs, const data::DatasetSplits& data,
                                  const PackHooks& hooks = {});

// A pack size for `config` on its device. On a GPU: as many members as fit in
// half the card's memory (estimated from the model's parameters and its
// activations at B), at most kMaxAutoPackGpu. On a CPU: 1, since a pack there
// does each member's work at the speed of its single run (measured 0.94-0.97x
// on 2 cores, docs/PERFORMANCE.md), so it has nothing to gain.
constexpr int64_t kMaxAutoPackGpu = 64;
int64_t auto_pack_size(const RunConfig& config);

}  // namespace nesgd::train
