#include "nesgd/optim/noise_enhancement.h"

#include <limits>

#include "nesgd/error.h"

namespace nesgd::optim {

bool needs_second_batch(const NoiseEnhancementOptions& options) { return options.alpha() != 1.0; }

NEBackwardResult ne_backward(const MinibatchLoss& loss_b, const MinibatchLoss& loss_b_prime,
                             const NoiseEnhancementOptions& options, const std::function<void()>& after_b) {
  const double alpha = options.alpha();
  NEBackwardResult result;
  result.loss_b_prime = std::numeric_limits<double>::quiet_NaN();

  // B first, B' second, each forward+backward before the next forward: peak
  // memory is that of one batch of size B, not 2B.
  torch::Tensor lb = loss_b();
  result.loss_b = lb.item<double>();
  if (!needs_second_batch(options)) {
    lb.backward();  // alpha == 1: exactly the plain step, no scaling
    if (after_b) after_b();
    return result;
  }
  if (!loss_b_prime) throw Error("noise enhancement with alpha != 1 needs the second minibatch B'");
  (lb * alpha).backward();
  if (after_b) after_b();
  torch::Tensor lbp = loss_b_prime();
  result.loss_b_prime = lbp.item<double>();
  result.used_b_prime = true;
  (lbp * (1.0 - alpha)).backward();
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
