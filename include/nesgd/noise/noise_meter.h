// nesgd/noise/noise_meter.h - measures NE's gradient noise at fixed weights (torch-free).
//
// The paper's method rests on two statements (Mori & Ueda): the NE gradient
//   g_NE = alpha g_B + (1 - alpha) g_B'      (B, B' independent minibatches of size B)
// has its noise covariance multiplied by exactly alpha^2 + (1 - alpha)^2, and
// that noise is NOT the noise of a plain batch of B_eff = B / (alpha^2 + (1 - alpha)^2)
// because minibatch noise is not Gaussian. measure_noise() checks both on any
// model: it draws K independent pairs (B, B') with the training code's
// BatchStream, asks a GradientOracle for g_B and g_B' (no parameter update),
// forms g_NE for every alpha from the SAME draws, draws plain batches of
// round(B_eff) for comparison, and reports per alpha the trace of the noise
// covariance relative to plain B (with a confidence interval) next to the
// theory, the excess kurtosis of the noise along fixed random unit directions
// and along the leading principal direction, and the gradient noise scale
// B_simple (McCandlish et al. 2018) from the B and 2B gradients.
// Estimators, the interval method, the finite-population factors and the
// kurtosis definitions are derived in docs/NOISE.md.
//
// Memory is O(P) per gradient kept (P = parameter count), never O(K P): each
// draw is reduced to a few scalars (squared norms, inner products,
// projections) plus running sums, so K is limited only by time.
// The meter never changes weights and never touches torch: the oracle does
// (noise/network_gradients.h wraps a models::Network; tests use exact toys).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nesgd::noise {

// The mean-loss gradient over the samples `indices` at the current (fixed)
// weights, flattened into `grad` (the oracle sizes it; the same size every
// call). Returns the mean loss over those samples.
using GradientOracle = std::function<double(const std::vector<int64_t>& indices, std::vector<double>& grad)>;

// Defaults of the meter; the paper's alphas for F1 plus 2 and 3.
constexpr int64_t kDefaultDraws = 200;
constexpr int64_t kDefaultDirections = 16;   // random unit directions for the kurtosis
constexpr int64_t kDefaultPilotDraws = 32;   // pairs that fix the leading principal direction
constexpr double kDefaultConfidence = 0.95;
constexpr int64_t kMinDraws = 8;             // below this neither the interval nor G2 means much

// Stream ids of the meter's own minibatch streams (data::derive_seed(seed, id)).
// The pair (B, B') uses the trainer's data::kStreamB / kStreamBPrime, so the
// first B of the meter is the first B of `nesgd train --sampling iid` with the
// same seed. The others sit far from the trainer's ids (1, 2, 3).
constexpr uint64_t kStreamPilotB = 0x4e01;
constexpr uint64_t kStreamPilotBPrime = 0x4e02;
constexpr uint64_t kStreamDirections = 0x4e03;
constexpr uint64_t kStreamPlainBase = 0x4e000000;  // + the plain batch size b: one stream per size

struct NoiseMeterOptions {
  int64_t batch_size = 100;
  std::vector<double> alphas = {1.0, 1.5, 2.0, 3.0};
  int64_t draws = kDefaultDraws;            // K independent (B, B') pairs
  uint64_t seed = 0;                        // seeds every stream of the meter
  int64_t directions = kDefaultDirections;  // random unit directions (0: none)
  int64_t pilot_draws = kDefaultPilotDraws; // 0: no principal direction
  double confidence = kDefaultConfidence;
  int64_t centre_chunk = 0;                 // samples per oracle call for the full gradient (0: batch_size)

  // Throws nesgd::Error naming the bad field and what is allowed.
  void validate(int64_t dataset_size) const;
};

// -- theory ------------------------------------------------------------------------------------
// alpha^2 + (1 - alpha)^2: Cov[g_NE] / Cov[g_B], exact for independent B, B'.
double ne_factor(double alpha);
// B / (alpha^2 + (1 - alpha)^2).
double effective_batch(int64_t batch_size, double alpha);
// round(B_eff), at least 1.
int64_t rounded_effective_batch(int64_t batch_size, double alpha);
// (N - b) / (N - 1): Cov of the mean of b samples drawn without replacement
// from N is this times Sigma / b (Sigma: the per-sample covariance, 1/N normalized).
double finite_population_factor(int64_t dataset_size, int64_t b);
// Cov[g_b] / Cov[g_B] for plain batches without replacement: B (N - b) / (b (N - B)).
double plain_factor(int64_t dataset_size, int64_t batch_size, int64_t b);

// -- results -----------------------------------------------------------------------------------
struct AlphaReport {
  double alpha = 0.0;
  double theory_factor = 0.0;    // alpha^2 + (1 - alpha)^2
  double measured_factor = 0.0;  // tr Cov[g_NE] / tr Cov[g_B] on the same draws
  double ci_low = 0.0, ci_high = 0.0;
  double trace_cov = 0.0;        // tr Cov[g_NE], absolute
  double b_eff = 0.0;            // B / theory_factor
  int64_t b_eff_rounded = 0;     // the plain batch size actually drawn
  bool plain_measured = false;   // false when round(B_eff) > N
  double plain_theory_factor = 0.0;    // plain_factor(N, B, b_eff_rounded)
  double plain_measured_factor = 0.0;  // tr Cov[g_plain] / tr Cov[g_B]
  double plain_ci_low = 0.0, plain_ci_high = 0.0;
  // Excess kurtosis (G2) of the noise projected on fixed directions; "random"
  // is the mean over the random unit directions, "principal" the leading
  // principal direction of the pilot (NaN when not measured).
  double kurtosis_random_ne = 0.0;
  double kurtosis_random_plain = 0.0;
  double kurtosis_principal_ne = 0.0;
  double kurtosis_principal_plain = 0.0;
};

struct NoiseReport {
  int64_t dataset_size = 0;  // N
  int64_t batch_size = 0;    // B
  int64_t draws = 0;         // K actually taken (fewer than asked when stopped)
  int64_t parameters = 0;    // P
  int64_t directions = 0;
  int64_t pilot_draws = 0;
  uint64_t seed = 0;
  double confidence = 0.0;
  bool interrupted = false;

  double train_loss = 0.0;              // mean loss over the N samples at these weights
  double full_gradient_sq_norm = 0.0;   // |G|^2 of the full-data gradient (the centre)
  double trace_cov_b = 0.0;             // tr Cov[g_B]
  double trace_cov_b_ci_low = 0.0, trace_cov_b_ci_high = 0.0;
  double finite_population_b = 0.0;     // (N - B) / (N - 1)
  double trace_sigma = 0.0;             // per-sample tr Sigma = tr Cov[g_B] B / finite_population_b
  // McCandlish's estimator from |g_B|^2 and |g_2B|^2, g_2B = (g_B + g_B') / 2,
  // averaged over the draws; tr Sigma corrected by 1 / finite_population_b.
  double g_squared = 0.0;
  double trace_sigma_simple = 0.0;
  double b_simple = 0.0;
  double b_simple_ci_low = 0.0, b_simple_ci_high = 0.0;
  double b_simple_direct = 0.0;         // trace_sigma / full_gradient_sq_norm, a cross-check
  double principal_variance_share = 0.0;  // pilot: top eigenvalue / trace (how dominant the direction is)
  double kurtosis_standard_error = 0.0;   // SE of G2 for one direction with K Gaussian draws
  std::vector<AlphaReport> alphas;
  double seconds = 0.0;
};

struct NoiseMeterHooks {
  // phase: "full gradient", "pilot" or "draws"; done of total units.
  std::function<void(const std::string& phase, int64_t done, int64_t total)> on_progress;
  std::function<bool()> should_stop;  // polled per draw: true ends the draws early (report.interrupted)
};

// Runs the measurement. `dataset_size` is N (indices 0..N-1 go to the oracle).
NoiseReport measure_noise(const GradientOracle& oracle, int64_t dataset_size, const NoiseMeterOptions& options,
                          const NoiseMeterHooks& hooks = {});

// {"alphas": [{"alpha", "theory_factor", "measured_factor", "ci_low", "ci_high", "b_eff", ...}], "b_simple", ...}
nlohmann::json to_json(const NoiseReport& report);

// The per-alpha table printed by `nesgd noise` (plain text, one line per alpha, plus a summary).
std::string format_table(const NoiseReport& report);

}  // namespace nesgd::noise
