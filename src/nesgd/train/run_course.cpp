#include "nesgd/train/run_course.h"

#include <cmath>

#include "nesgd/error.h"

namespace nesgd::train {

ProtocolOptions protocol_options(const RunConfig& config) {
  ProtocolOptions o;
  o.l_star = config.l_star;
  o.l_stop = config.l_stop;
  o.max_iterations = config.max_iterations;
  return o;
}

RunCourse::RunCourse(const RunConfig& config, int64_t batches_per_epoch)
    : batch_size_(config.batch_size),
      measure_(config.loss_measure),
      check_every_(config.eval_every > 0 ? config.eval_every : batches_per_epoch),
      protocol_(protocol_options(config)),
      epoch_mean_(batches_per_epoch) {}

CheckOutcome RunCourse::after_step(int64_t iteration, double minibatch_loss, int64_t samples,
                                   const std::function<double()>& full_loss) {
  // Keras weights each batch's loss by its size; a full batch has weight 1 exactly.
  epoch_mean_.add(minibatch_loss, static_cast<double>(samples) / static_cast<double>(batch_size_));
  CheckOutcome out;
  if (is_check(iteration)) {
    double measured = kNaN;
    if (measure_ == LossMeasure::kFull) {
      measured = full_loss();
    } else if (epoch_mean_.ready()) {
      measured = epoch_mean_.value();
    }
    // The epoch mean is not measured before its first full window.
    if (!std::isnan(measured) || measure_ == LossMeasure::kFull) {
      out.checked = true;
      out.measured = measured;
      last_train_loss_ = measured;
      out.scale_lr = protocol_.on_training_loss(iteration, measured).scale_lr;
    }
  }
  protocol_.after_step(iteration, minibatch_loss);
  return out;
}

void RunCourse::restore(int64_t iterations_to_l_star, double last_train_loss,
                        const std::vector<double>& epoch_mean_values, const std::vector<double>& epoch_mean_weights,
                        const std::string& path) {
  if (static_cast<int64_t>(epoch_mean_values.size()) > epoch_mean_.window()) {
    throw Error("checkpoint " + path + " holds " + std::to_string(epoch_mean_values.size()) +
                " epoch-mean losses, more than the window of " + std::to_string(epoch_mean_.window()) +
                ": the checkpoint is damaged; delete it to start the run afresh");
  }
  protocol_.restore(iterations_to_l_star);
  last_train_loss_ = last_train_loss;
  for (size_t i = 0; i < epoch_mean_values.size(); ++i) {
    epoch_mean_.add(epoch_mean_values[i], epoch_mean_weights.empty() ? 1.0 : epoch_mean_weights[i]);
  }
}

}  // namespace nesgd::train
