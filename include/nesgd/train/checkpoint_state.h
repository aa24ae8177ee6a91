// nesgd/train/checkpoint_state.h - the training state a checkpoint holds beside the tensors (torch-free).
//
// A checkpoint (`nesgd train --checkpoint FILE`) is a LibTorch archive: the
// model's and the optimizer's tensors, read by LibTorch's own archive reader,
// and this state as JSON text, which is nesgd's to read: where the run stands
// (iterations, the protocol, both minibatch streams, the epoch-mean window,
// the noise-scale EMA) and its curve so far. Reading it back checks every
// field, so a damaged checkpoint is an nesgd::Error that says to delete it,
// never a crash or a silently wrong resume. The stream and EMA states are
// opaque text here; data::BatchStream::load_state and
// optim::NoiseScaleTracker::load_state check them against the run.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/train/trainer.h"

namespace nesgd::train {

// Bumped when the state's layout changes; a checkpoint of another version is refused.
constexpr int kCheckpointVersion = 1;

struct CheckpointState {
  nlohmann::json config;            // to_json(RunConfig) of the run that wrote it
  int64_t iterations = 0;
  int64_t iterations_to_l_star = -1;  // -1: L* not reached yet
  int64_t samples_processed = 0;
  double step_seconds = 0.0;
  double elapsed = 0.0;               // wall seconds of the run so far
  double last_train_loss = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> epoch_mean;     // minibatch losses in the epoch-mean window, oldest first
  // Each loss's batch size relative to a full batch (Keras's weighting; train/protocol.h).
  // Empty: every weight 1 (checkpoints written before weights existed held full batches only).
  std::vector<double> epoch_mean_weights;
  std::string stream_b;               // data::BatchStream::save_state of B
  std::string stream_b_prime;         // of B' (empty when alpha = 1)
  std::string noise_tracker;          // optim::NoiseScaleTracker::save_state
  std::vector<CurvePoint> curve;
};

nlohmann::json to_json(const CheckpointState& state);
// Parses the state text of the checkpoint at `origin`. Throws nesgd::Error
// naming the file and the field for anything missing, of the wrong type or
// out of range, and for another version.
CheckpointState checkpoint_state_from_text(const std::string& text, const std::string& origin);

}  // namespace nesgd::train
