// tests/support/tolerance.h - how close float64 results must come to hand-worked values.
#pragma once

namespace nesgd::testing {

// float64 arithmetic against values worked out by hand (or in exact
// arithmetic): a few rounding errors of numbers of order one.
inline constexpr double kExact = 1e-12;

}  // namespace nesgd::testing
