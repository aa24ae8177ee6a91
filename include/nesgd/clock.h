// nesgd/clock.h - the monotonic clock that wall and step times are measured with.
#pragma once

#include <chrono>

namespace nesgd {

using Clock = std::chrono::steady_clock;

// Seconds from t0 to now.
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace nesgd
