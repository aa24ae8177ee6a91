// tests/support/compare.h - how close is close enough, named once, and the one
// relative difference the tests measure it with.
#pragma once

#include <algorithm>
#include <cmath>

namespace nesgd::testing {

// float64 arithmetic against values worked out by hand (or in exact
// arithmetic): a few rounding errors of numbers of order one.
inline constexpr double kExact = 1e-12;

// Two float64 runs whose arithmetic differs only in the order of summation
// (joint against split NE passes, a scripted network against the built-in
// one), compared over a few hundred steps of training: rounding compounds.
inline constexpr double kSameRunFp64 = 1e-9;

// |a - b| / |b| (0 when equal, infinities included): how far a result is
// from its reference, relative to the reference.
inline double rel_diff(double a, double b) {
  if (a == b) return 0.0;
  return std::abs(a - b) / std::max(std::abs(b), 1e-300);
}

// The same for two tensors of one shape, in the max norm: max |a - b| / max |b|.
// (A template, so torch-free tests include this header without LibTorch.)
template <class Tensor>
double max_rel_diff(const Tensor& a, const Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).template item<double>();
}

}  // namespace nesgd::testing
