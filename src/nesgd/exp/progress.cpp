// Progress lines of runs, packs and measurements (exp/progress.h).
#include "nesgd/exp/progress.h"

#include <cmath>

#include <fmt/format.h>

namespace nesgd::exp {

std::string format_duration(double seconds) {
  const auto s = static_cast<long>(seconds);
  return fmt::format("{:02d}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

std::string progress_line(const train::Progress& p) {
  const std::string loss = std::isnan(p.train_loss) ? std::string("   -   ") : fmt::format("{:.5f}", p.train_loss);
  return fmt::format("it {:>7} | ep {:>4} | train loss {} | batch loss {:.5f} | lr {:.2e} | {:>7.0f} samples/s | {}",
                     p.iteration, p.epoch, loss, p.minibatch_loss, p.lr, p.samples_per_second,
                     format_duration(p.seconds));
}

std::string pack_progress_line(const train::PackProgress& p) {
  const std::string loss = std::isnan(p.min_train_loss)
                               ? std::string("--")
                               : fmt::format("{:.4g}..{:.4g}", p.min_train_loss, p.max_train_loss);
  return fmt::format("pack: {} of {} running | it {} | train loss {} | {:.0f} samples/s | {}", p.running, p.members,
                     p.iteration, loss, p.samples_per_second, format_duration(p.seconds));
}

std::string phase_progress_line(const std::string& phase, int64_t done, int64_t total, double seconds) {
  return fmt::format("{:<13} {:>6}/{:<6} {}", phase, done, total, format_duration(seconds));
}

}  // namespace nesgd::exp
