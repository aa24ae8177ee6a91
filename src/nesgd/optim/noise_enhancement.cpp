#include "nesgd/optim/noise_enhancement.h"

#include <limits>

#include "nesgd/error.h"

namespace nesgd::optim {

bool needs_second_batch(const NoiseEnhancementOptions& options) { return options.alpha() != 1.0; }

NEWeights ne_weights(double alpha) { return {alpha, 1.0 - alpha}; }

torch::Tensor ne_term(const torch::Tensor& loss, double weight) { return weight == 1.0 ? loss : loss * weight; }

torch::Tensor ne_objective(const torch::Tensor& loss_b, const torch::Tensor& w_b, const torch::Tensor& loss_b_prime,
                           const torch::Tensor& w_b_prime) {
  torch::Tensor total = (w_b * loss_b).sum();
  if (loss_b_prime.defined()) total = total + (w_b_prime * loss_b_prime).sum();
  return total;
}

NEBackwardResult ne_backward(const MinibatchLoss& loss_b, const MinibatchLoss& loss_b_prime,
                             const NoiseEnhancementOptions& options, const std::function<void()>& after_b) {
  const NEWeights w = ne_weights(options.alpha());
  NEBackwardResult result;
  result.loss_b_prime = std::numeric_limits<double>::quiet_NaN();

  // B first, B' second, each forward+backward before the next forward: peak
  // memory is that of one batch of size B, not 2B.
  torch::Tensor lb = loss_b();
  result.loss_b = lb.item<double>();
  const bool two = needs_second_batch(options);
  if (two && !loss_b_prime) throw Error("noise enhancement with alpha != 1 needs the second minibatch B'");
  ne_term(lb, w.b).backward();  // alpha == 1: exactly the plain step, no scaling
  if (after_b) after_b();
  if (!two) return result;
  torch::Tensor lbp = loss_b_prime();
  result.loss_b_prime = lbp.item<double>();
  result.used_b_prime = true;
  ne_term(lbp, w.b_prime).backward();
  return result;
}

NEBackwardResult ne_backward_joint(const JointMinibatchLosses& losses, const NoiseEnhancementOptions& options) {
  if (!needs_second_batch(options)) {
    throw Error("the joint NE pass needs alpha != 1 (at alpha = 1 there is no B'; call ne_backward)");
  }
  const NEWeights w = ne_weights(options.alpha());
  const auto [lb, lbp] = losses();
  NEBackwardResult result;
  result.loss_b = lb.item<double>();
  result.loss_b_prime = lbp.item<double>();
  result.used_b_prime = true;
  (ne_term(lb, w.b) + ne_term(lbp, w.b_prime)).backward();
  return result;
}

NEBackwardResult ne_step(torch::optim::Optimizer& optimizer, const MinibatchLoss& loss_b,
                         const MinibatchLoss& loss_b_prime, const NoiseEnhancementOptions& options) {
  optimizer.zero_grad();
  NEBackwardResult r = ne_backward(loss_b, loss_b_prime, options);
  optimizer.step();
  return r;
}

}  // namespace nesgd::optim
