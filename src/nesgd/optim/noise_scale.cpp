#include "nesgd/optim/noise_scale.h"

#include <cstdio>
#include <limits>

#include "nesgd/error.h"

namespace nesgd::optim {

NoiseScaleEstimate estimate_noise_scale(double sq_norm_small, int64_t b_small, double sq_norm_big, int64_t b_big) {
  if (b_small <= 0 || b_big <= b_small) throw Error("noise scale needs 0 < B_small < B_big");
  const double bs = static_cast<double>(b_small), bb = static_cast<double>(b_big);
  NoiseScaleEstimate e;
  e.g_squared = (bb * sq_norm_big - bs * sq_norm_small) / (bb - bs);
  e.trace_sigma = (sq_norm_small - sq_norm_big) / (1.0 / bs - 1.0 / bb);
  e.b_simple = e.g_squared > 0 ? e.trace_sigma / e.g_squared : std::numeric_limits<double>::quiet_NaN();
  return e;
}

NoiseScaleTracker::NoiseScaleTracker(double decay) : decay_(decay) {
  if (!(decay >= 0.0 && decay < 1.0)) throw Error("noise-scale EMA decay must be in [0, 1)");
}

void NoiseScaleTracker::add(const NoiseScaleEstimate& e) {
  g2_ = decay_ * g2_ + (1.0 - decay_) * e.g_squared;
  trace_ = decay_ * trace_ + (1.0 - decay_) * e.trace_sigma;
  weight_ = decay_ * weight_ + (1.0 - decay_);
  ++count_;
}

NoiseScaleEstimate NoiseScaleTracker::smoothed() const {
  NoiseScaleEstimate e;
  if (count_ == 0) {
    e.g_squared = e.trace_sigma = e.b_simple = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  e.g_squared = g2_ / weight_;
  e.trace_sigma = trace_ / weight_;
  e.b_simple = e.g_squared > 0 ? e.trace_sigma / e.g_squared : std::numeric_limits<double>::quiet_NaN();
  return e;
}

std::string NoiseScaleTracker::save_state() const {
  // %a: hexadecimal floating point, exact round trip.
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%a %a %a %a %lld", decay_, g2_, trace_, weight_, static_cast<long long>(count_));
  return buf;
}

void NoiseScaleTracker::load_state(const std::string& state) {
  // Read into locals and checked: a damaged checkpoint leaves the tracker as it was.
  double decay = 0.0, g2 = 0.0, trace = 0.0, weight = 0.0;
  long long count = 0;
  if (std::sscanf(state.c_str(), "%la %la %la %la %lld", &decay, &g2, &trace, &weight, &count) != 5) {
    throw Error("invalid noise-scale tracker state in checkpoint");
  }
  if (!(decay >= 0.0 && decay < 1.0) || count < 0) {
    throw Error("invalid noise-scale tracker state in checkpoint: decay " + std::to_string(decay) + ", count " +
                std::to_string(count));
  }
  decay_ = decay;
  g2_ = g2;
  trace_ = trace;
  weight_ = weight;
  count_ = count;
}

}  // namespace nesgd::optim
