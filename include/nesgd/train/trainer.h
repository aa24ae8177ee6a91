// nesgd/train/trainer.h - one training run under the paper's protocol.
//
// Reads top to bottom: build model and optimizer, then per step draw B (and
// B' when alpha != 1) from their own streams, take the NE step, feed the
// minibatch loss to the training-loss measure, and let the Protocol decide
// when to halve the LR and when to stop. At the end: test accuracy and loss
// in evaluation mode, and a RunResult that records the configuration, the
// environment (versions, device, threads) and the training-loss curve.
//
// The header is torch-free (the CLI and sweep code include it cheaply). The
// trainer never prints: progress reaches the caller through TrainHooks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/data/dataset.h"
#include "nesgd/train/protocol.h"
#include "nesgd/train/run_config.h"

namespace nesgd::dist {
class Group;
}

namespace nesgd::train {

struct CurvePoint {
  int64_t iteration = 0;
  double train_loss = 0.0;      // by the run's loss measure
  double minibatch_loss = 0.0;  // L_B of the step at this iteration
  double lr = 0.0;              // learning rate in force after this check
  double seconds = 0.0;         // wall time since the run started
  // With RunConfig::log_noise_scale: EMA-smoothed gradient noise scale from
  // the B and 2B gradients (optim/noise_scale.h); NaN otherwise.
  double b_simple = 0.0;
  double g_squared = 0.0;
  double trace_sigma = 0.0;
};

struct Progress {
  int64_t iteration = 0;
  int64_t epoch = 0;
  double train_loss = 0.0;  // last measured (NaN before the first check)
  double minibatch_loss = 0.0;
  double lr = 0.0;
  double samples_per_second = 0.0;
  double seconds = 0.0;
  bool is_check = false;  // true when a training-loss check just happened
};

struct TrainHooks {
  std::function<void(const Progress&)> on_progress;  // throttled to progress_interval, plus every check
  double progress_interval_seconds = 2.0;
  std::function<bool()> should_stop;                 // polled every step: true ends the run as interrupted
};

// Files a run reads or writes besides its result; none changes the result.
struct RunFiles {
  std::string save_model;                 // final weights (models/serialize.h); empty = none
  std::string save_model_at_l_star;       // the weights when the loss first reaches L* (for `nesgd noise`)
  std::string checkpoint;                 // resume from here if it exists; write here periodically
  double checkpoint_every_seconds = 300;  // and on interrupt
};

struct RunResult {
  RunStatus status = RunStatus::kRunning;
  int64_t iterations = 0;            // optimizer steps taken: the convergence time when converged
  int64_t iterations_to_l_star = -1;
  double test_accuracy = 0.0;        // fraction in [0, 1]
  double test_loss = 0.0;
  double train_loss = 0.0;           // last value of the run's loss measure
  double final_full_train_loss = 0.0;  // exact mean loss over the training set at the end
  double wall_seconds = 0.0;
  double step_seconds = 0.0;         // time inside training steps (no evaluation)
  double samples_per_second = 0.0;   // samples through forward+backward / step_seconds
  int64_t samples_processed = 0;     // B per step, 2B per NE step
  // The NE pass that ran (optim/ne_pass.h): joint, split, or single (alpha = 1: B alone).
  std::string ne_pass;
  int64_t epochs = 0;                // epochs started by the B stream
  int64_t train_size = 0;
  int64_t test_size = 0;
  int64_t parameters = 0;
  std::string dataset_source;
  int64_t resumed_from_iteration = 0;  // > 0 when continued from a checkpoint
  std::string init_model_sha256;     // of RunConfig::init_model, when set
  // Trained as member pack_index of a pack of pack_size runs (train/pack.h); 0 / -1 when alone.
  // A pack member's wall and step seconds are the pack's (shared by all its members).
  int64_t pack_size = 0;
  int64_t pack_index = -1;
  // Trained data-parallel over world_size ranks (dist/group.h); 1 and "" when in one process.
  int64_t world_size = 1;
  std::string dist_backend;
  std::vector<CurvePoint> curve;
  nlohmann::json environment;        // versions, device, threads, host
};

// Runs the protocol. `config` is validated (and its paper defaults filled)
// first; bad values throw nesgd::Error before any work is done.
// With files.checkpoint set, an existing checkpoint of the same configuration
// is resumed, and the continued run is step for step the uninterrupted one.
//
// With `group` (data-parallel over its ranks, every rank calling train_run
// with the same configuration): each rank draws the single run's batches B
// and B' and keeps its slice of each (whole ghost batches; dist/launch.h),
// backpropagates its share of alpha * L_B + (1 - alpha) * L_B', and one
// all-reduce per step sums gradients, losses, ghost batch norm's running
// statistics (recombined exactly as the single run's sequential updates) and
// the ranks' stop requests. So the run follows the single-process run of the
// same seed up to summation order. Only rank 0 writes checkpoints and model
// files; every rank returns the same result.
RunResult train_run(RunConfig config, const data::DatasetSplits& data, const TrainHooks& hooks = {},
                    const RunFiles& files = {}, dist::Group* group = nullptr);

// The result record: {"status", "iterations", ..., "config": {...}, "environment": {...}, "curve": [...]}.
nlohmann::json to_json(const RunResult& result, const RunConfig& config);

}  // namespace nesgd::train
