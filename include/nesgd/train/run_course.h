// nesgd/train/run_course.h - the protocol's side of one run, for every way of training it.
//
// A single run, each member of a pack and each data-parallel rank hand every
// finished step to their RunCourse, which does the rest of the paper's
// protocol the same way for all of them:
//   1. the step's minibatch loss joins the epoch-mean window, weighted by its
//      batch's size as Keras weights it (a full batch: weight 1 exactly);
//   2. at a check (every eval_every steps, or once an epoch) the training
//      loss is measured: the epoch mean, or the full-set loss the caller
//      computes only then; the Protocol halves the LR at L* and stops below L**;
//   3. the Protocol sees the minibatch loss (non-finite: diverged) and the cap.
// The caller acts on the outcome (scales its optimizer's LR, records the
// curve point) and keeps its own tensors: this part is torch-free.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nesgd/numeric.h"
#include "nesgd/train/protocol.h"
#include "nesgd/train/run_config.h"

namespace nesgd::train {

// L*, L** and the cap of a run whose defaults are resolved; the LR factor is
// the paper's (kPaperLrFactorAtLStar).
ProtocolOptions protocol_options(const RunConfig& config);

struct CheckOutcome {
  bool checked = false;   // the training loss was measured after this step
  double measured = kNaN;
  bool scale_lr = false;  // it reached L*: multiply the LR by lr_factor() now
};

class RunCourse {
 public:
  // `batches_per_epoch` of the run's B stream: the epoch-mean window, and the
  // check interval when config.eval_every is 0.
  RunCourse(const RunConfig& config, int64_t batches_per_epoch);

  // Step `iteration` is done; its minibatch loss was over `samples` samples (B,
  // or fewer for a keras epoch's short last batch). `full_loss` is called only
  // at a check of the full loss measure.
  CheckOutcome after_step(int64_t iteration, double minibatch_loss, int64_t samples,
                          const std::function<double()>& full_loss);

  bool is_check(int64_t iteration) const { return iteration % check_every_ == 0; }
  const Protocol& protocol() const { return protocol_; }
  Protocol& protocol() { return protocol_; }
  double last_train_loss() const { return last_train_loss_; }  // NaN before the first check
  double lr_factor() const { return protocol_.options().lr_factor; }
  // What the configured LR is multiplied by now: lr_factor() once L* was reached, else 1.
  double lr_multiplier() const { return protocol_.lr_scaled() ? lr_factor() : 1.0; }

  // Checkpoints: the state after_step builds up, and its restoration (the
  // window is checked against this run's; `path` names the file in errors).
  std::vector<double> epoch_mean_values() const { return epoch_mean_.values(); }
  std::vector<double> epoch_mean_weights() const { return epoch_mean_.weights(); }
  void restore(int64_t iterations_to_l_star, double last_train_loss, const std::vector<double>& epoch_mean_values,
               const std::vector<double>& epoch_mean_weights, const std::string& path);

 private:
  int64_t batch_size_;
  LossMeasure measure_;
  int64_t check_every_;
  Protocol protocol_;
  EpochMeanLoss epoch_mean_;
  double last_train_loss_ = kNaN;
};

}  // namespace nesgd::train
