// nesgd/numeric.h - the quiet NaN that marks "not measured" in results and statistics.
#pragma once

#include <limits>

namespace nesgd {

// A value not measured (a loss never evaluated, a statistic of too few draws).
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace nesgd
