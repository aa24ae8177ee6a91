#include "nesgd/train/protocol.h"

#include <cmath>
#include <limits>

#include "nesgd/error.h"

namespace nesgd::train {

std::string to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return "running";
    case RunStatus::kConverged: return "converged";
    case RunStatus::kNotConverged: return "not_converged";
    case RunStatus::kDiverged: return "diverged";
    case RunStatus::kInterrupted: return "interrupted";
  }
  return "unknown";
}

Protocol::Protocol(ProtocolOptions options) : options_(options) {
  if (!(options_.l_stop > 0.0) || !(options_.l_star > 0.0)) {
    throw Error("--l-star and --l-stop must be positive");
  }
  if (options_.l_stop > options_.l_star) {
    throw Error("--l-stop (" + std::to_string(options_.l_stop) + ") must not exceed --l-star (" +
                std::to_string(options_.l_star) + "): the LR is halved at L* on the way down to L**");
  }
  if (options_.max_iterations < 0) throw Error("--max-iterations must be >= 0 (0 means no cap)");
}

ProtocolDecision Protocol::finish(RunStatus status, int64_t iteration) {
  status_ = status;
  stop_iteration_ = iteration;
  ProtocolDecision d;
  d.stop = true;
  return d;
}

void Protocol::interrupt(int64_t iteration) {
  if (status_ == RunStatus::kRunning) finish(RunStatus::kInterrupted, iteration);
}

ProtocolDecision Protocol::after_step(int64_t iteration, double minibatch_loss) {
  if (status_ != RunStatus::kRunning) return ProtocolDecision{false, true};
  if (!std::isfinite(minibatch_loss)) return finish(RunStatus::kDiverged, iteration);
  if (options_.max_iterations > 0 && iteration >= options_.max_iterations) {
    return finish(RunStatus::kNotConverged, iteration);
  }
  return {};
}

ProtocolDecision Protocol::on_training_loss(int64_t iteration, double training_loss) {
  if (status_ != RunStatus::kRunning) return ProtocolDecision{false, true};
  if (!std::isfinite(training_loss)) return finish(RunStatus::kDiverged, iteration);
  ProtocolDecision d;
  if (iterations_to_l_star_ < 0 && training_loss <= options_.l_star) {
    iterations_to_l_star_ = iteration;
    d.scale_lr = true;
  }
  if (training_loss < options_.l_stop) {
    ProtocolDecision f = finish(RunStatus::kConverged, iteration);
    f.scale_lr = d.scale_lr;
    return f;
  }
  return d;
}

EpochMeanLoss::EpochMeanLoss(int64_t window) : window_(window) {
  if (window_ <= 0) throw Error("epoch-mean loss window must be positive");
}

void EpochMeanLoss::add(double minibatch_loss, double weight) {
  if (!(weight > 0.0 && weight <= 1.0)) {
    throw Error("epoch-mean loss: a batch's weight (its size relative to B) must lie in (0, 1], got " +
                std::to_string(weight));
  }
  losses_.push_back(minibatch_loss);
  weights_.push_back(weight);
  if (static_cast<int64_t>(losses_.size()) > window_) {
    losses_.pop_front();
    weights_.pop_front();
  }
}

double EpochMeanLoss::value() const {
  if (!ready()) return std::numeric_limits<double>::quiet_NaN();
  // Summed afresh: a running sum drifts by rounding over 10^4 steps, and the
  // window is short.
  double s = 0.0, w = 0.0;
  for (size_t i = 0; i < losses_.size(); ++i) {
    s += weights_[i] * losses_[i];
    w += weights_[i];
  }
  return s / w;
}

}  // namespace nesgd::train
