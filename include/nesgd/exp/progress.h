// nesgd/exp/progress.h - the progress of a training run, a pack or a
// measurement as one line of text, and how often a log gets such a line
// (torch-free).
//
// `nesgd train`, `nesgd sweep` and `nesgd noise` print these lines on a
// terminal (one line redrawn) or into a log (one line per call, throttled);
// the wording and the throttling live here so that the commands agree.
// Nothing here prints or reads a clock.
#pragma once

#include <cstdint>
#include <string>

#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"

namespace nesgd::exp {

// "hh:mm:ss"
std::string format_duration(double seconds);

// "it    1200 | ep   12 | train loss 0.01234 | batch loss 0.01100 | lr 1.00e-03 |    5000 samples/s | 00:01:02"
std::string progress_line(const train::Progress& p);

// "pack: 3 of 8 running | it 1200 | train loss 0.0123..0.0456 | 40000 samples/s | 00:01:02"
std::string pack_progress_line(const train::PackProgress& p);

// "draws             12/200    00:00:03": `done` of `total` units of a phase (the noise meter's).
std::string phase_progress_line(const std::string& phase, int64_t done, int64_t total, double seconds);

// Lets a line through when `interval_seconds` have passed since the last one
// it let through; the first, a forced one and the first after restart() always.
class LineThrottle {
 public:
  explicit LineThrottle(double interval_seconds) : interval_(interval_seconds) {}
  bool due(double seconds, bool force = false) {
    if (!force && seconds - last_ < interval_) return false;
    last_ = seconds;
    return true;
  }
  void restart() { last_ = kNever; }

 private:
  static constexpr double kNever = -1e9;
  double interval_;
  double last_ = kNever;
};

}  // namespace nesgd::exp
