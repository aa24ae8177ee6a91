// nesgd/train/protocol.h - the paper's stopping rule as a small state machine.
//
// The paper's protocol for every config: the learning rate is halved (once)
// when the training loss reaches L*; training stops when the training loss
// falls below L**; convergence time is the number of iterations (optimizer
// steps) until the stop. Guards we add so a run always ends: a cap on iterations (status
// not_converged) and a non-finite loss (status diverged).
//
// The Protocol sees only numbers (iteration counts and losses), never tensors
// or optimizers: the trainer asks it what to do and acts. That keeps the rule
// testable on scripted loss sequences. Comparisons: halve when loss <= L*
// ("reaches"), stop when loss < L** ("falls below").
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace nesgd::train {

// kInterrupted: the user stopped the run (SIGINT/SIGTERM); what was measured
// so far is still reported, marked as such.
enum class RunStatus { kRunning, kConverged, kNotConverged, kDiverged, kInterrupted };
std::string to_string(RunStatus s);

// The paper's protocol: the learning rate is "halved (once) when the training loss reaches L*".
constexpr double kPaperLrFactorAtLStar = 0.5;

struct ProtocolOptions {
  double l_star = 0.01;          // halve the LR once at this training loss
  double l_stop = 0.001;         // stop below this training loss (L**)
  double lr_factor = kPaperLrFactorAtLStar;
  int64_t max_iterations = 0;    // 0: no cap (a loss check still ends a diverged run)
};

struct ProtocolDecision {
  bool scale_lr = false;     // multiply the LR by lr_factor now
  bool stop = false;         // end the run now
};

class Protocol {
 public:
  explicit Protocol(ProtocolOptions options);

  // After optimizer step `iteration` (1-based count of steps done), with the
  // loss of that step's minibatch. Ends the run on a non-finite loss or at the
  // iteration cap.
  ProtocolDecision after_step(int64_t iteration, double minibatch_loss);

  // A measured training loss (epoch-mean or full) at `iteration`.
  ProtocolDecision on_training_loss(int64_t iteration, double training_loss);

  // Restores the state of a checkpointed run that was still running.
  void restore(int64_t iterations_to_l_star) { iterations_to_l_star_ = iterations_to_l_star; }

  // The run was stopped from outside (signal) at `iteration`.
  void interrupt(int64_t iteration);

  RunStatus status() const { return status_; }
  bool lr_scaled() const { return iterations_to_l_star_ >= 0; }
  int64_t iterations_to_l_star() const { return iterations_to_l_star_; }  // -1 if never reached
  int64_t stop_iteration() const { return stop_iteration_; }              // -1 while running
  const ProtocolOptions& options() const { return options_; }

 private:
  ProtocolDecision finish(RunStatus status, int64_t iteration);

  ProtocolOptions options_;
  RunStatus status_ = RunStatus::kRunning;
  int64_t iterations_to_l_star_ = -1;
  int64_t stop_iteration_ = -1;
};

// Keras-style "epoch-mean" training loss: the mean of the minibatch losses
// over the last epoch's worth of steps (the stream's batches_per_epoch():
// ceil(n / B) in keras sampling, floor(n / B) otherwise), i.e. what Keras
// prints as `loss` at an epoch's end. Keras's running mean weights each
// batch's loss by its size (its `loss` metric is a Mean updated with
// sample_weight = batch size), so a short last batch counts for less:
//
//     value = sum_i w_i L_i / sum_i w_i,   w_i = (size of batch i) / B
//
// which equals sum_i |B_i| L_i / sum_i |B_i|. Weights are relative to a full
// batch so that a window of full batches (w_i = 1 exactly) gives the plain
// mean bit for bit, as before weights existed. Not ready until a full window.
class EpochMeanLoss {
 public:
  explicit EpochMeanLoss(int64_t window);
  // `weight`: the batch's size relative to a full batch, in (0, 1].
  void add(double minibatch_loss, double weight = 1.0);
  bool ready() const { return static_cast<int64_t>(losses_.size()) == window_; }
  double value() const;  // weighted mean over the window; NaN if not ready
  int64_t window() const { return window_; }
  std::vector<double> values() const { return {losses_.begin(), losses_.end()}; }
  std::vector<double> weights() const { return {weights_.begin(), weights_.end()}; }

 private:
  int64_t window_;
  std::deque<double> losses_;
  std::deque<double> weights_;
};

}  // namespace nesgd::train
