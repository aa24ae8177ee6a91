// bench/timing.h - timing helpers shared by every model benchmark (torch-free).
//
// The machine is small and shared, so a single timing means little. Every
// figure the benchmark prints is a median over repeated blocks, each block
// long enough (--min-block-seconds) that clock resolution and one-off stalls
// vanish; the spread (max - min) / median is printed beside it as the noise.
// Ratios (ours / ceiling, NE / plain) are taken per repeat from blocks timed
// back to back, then the median of those ratios is reported: drift in the
// machine's load then cancels instead of landing on one side of the ratio.
// Nothing here knows about models, torch or output formats.
#pragma once

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

namespace nesgd::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds used by all threads of this process so far. On a loaded
// machine, CPU time per step with one thread in total is the contention-free
// figure; with more threads it also counts spin-waiting workers.
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median of the samples (mean of the two middle ones for an even count); NaN if empty.
inline double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 == 1 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// (max - min) / median: the noise figure printed beside a median.
inline double spread(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return (*hi - *lo) / median(v);
}

// Seconds per call of fn over `calls` back-to-back calls.
template <typename Fn>
double seconds_per_call(Fn&& fn, int64_t calls) {
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < calls; ++i) fn();
  return seconds_since(t0) / static_cast<double>(calls);
}

struct BlockTime {
  double wall = 0.0;  // seconds per call
  double cpu = 0.0;   // process CPU seconds per call
};

// Wall and process CPU time per call of fn over `calls` back-to-back calls.
template <typename Fn>
BlockTime time_block(Fn&& fn, int64_t calls) {
  const double c0 = process_cpu_seconds();
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < calls; ++i) fn();
  const double n = static_cast<double>(calls);
  return {seconds_since(t0) / n, (process_cpu_seconds() - c0) / n};
}

// Calls per timed block so that a block lasts about min_seconds.
inline int64_t calls_per_block(double seconds_per_call, double min_seconds) {
  if (!(seconds_per_call > 0.0)) return 1;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(min_seconds / seconds_per_call)));
}

// Warms fn up (at least `min_calls` calls and `min_seconds`) and returns the
// time of one call measured at the end of the warm-up, for calls_per_block.
template <typename Fn>
double warm_up(Fn&& fn, int min_calls, double min_seconds) {
  const auto t0 = Clock::now();
  double last = 0.0;
  for (int i = 0; i < min_calls || seconds_since(t0) < min_seconds; ++i) last = seconds_per_call(fn, 1);
  return last;
}

}  // namespace nesgd::bench
