#include "nesgd/noise/noise_meter.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "nesgd/clock.h"
#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/optim/noise_control.h"
#include "nesgd/optim/noise_scale.h"
#include "nesgd/noise/statistics.h"
#include "nesgd/numeric.h"

namespace nesgd::noise {
namespace {

// Draws of one kind of noise vector e = g - centre, reduced to what the
// estimators need: |e|^2 per draw, the projections on the fixed directions per
// draw, and the running sum of e (for the sample-mean correction).
struct NoiseDraws {
  std::vector<double> sq;                 // [K] |e_k|^2
  std::vector<std::vector<double>> proj;  // [directions (+1 principal)][K]
  std::vector<double> sum;                // [P] sum_k e_k

  void init(size_t params, size_t n_directions) {
    sum.assign(params, 0.0);
    proj.assign(n_directions, {});
  }
};

// A plain-batch column: one batch size b and its own stream (none when b == B:
// then plain batches of b are the draws of B themselves).
struct PlainColumn {
  int64_t b = 0;
  std::optional<data::BatchStream> stream;
  NoiseDraws draws;
  std::vector<double> grad;
};
using PlainColumns = std::map<int64_t, PlainColumn>;  // by plain batch size b

// Sample covariance trace from K draws of e with squared norms sq_k and mean e_bar:
//   tr S = 1/(K-1) sum_k |e_k - e_bar|^2 = K/(K-1) (mean_k |e_k|^2 - |e_bar|^2),
// an algebraic identity, so the centre needs not be the true mean; it only
// keeps the numbers well conditioned.
double sample_trace(double mean_sq, double mean_norm_sq, double k) {
  return k / (k - 1.0) * (mean_sq - mean_norm_sq);
}

double kurtosis_or_nan(const std::vector<double>& z) {
  return z.size() >= 4 ? excess_kurtosis(z) : kNaN;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

void NoiseMeterOptions::validate(int64_t dataset_size) const {
  if (batch_size < 1) throw Error("--batch-size must be positive, got " + std::to_string(batch_size));
  if (batch_size >= dataset_size) {
    throw Error("--batch-size " + std::to_string(batch_size) + " must be below the " + std::to_string(dataset_size) +
                " training samples (a batch of all samples has no noise to measure): lower --batch-size or "
                "raise --train-subset");
  }
  if (alphas.empty()) throw Error("--alphas is empty: give at least one, e.g. --alphas 1,1.5,2,3");
  for (double a : alphas) {
    if (!std::isfinite(a)) throw Error("--alphas holds a non-finite value");
  }
  if (draws < kMinDraws) {
    throw Error("--draws must be at least " + std::to_string(kMinDraws) + " (got " + std::to_string(draws) +
                "); a few hundred give intervals of a few percent");
  }
  if (directions < 0) throw Error("--directions must be >= 0");
  if (pilot_draws != 0 && pilot_draws < 2) throw Error("--pilot must be 0 (no principal direction) or >= 2");
  if (!(confidence > 0.0 && confidence < 1.0)) throw Error("--confidence must be strictly between 0 and 1");
  if (centre_chunk < 0) throw Error("centre_chunk must be >= 0");
}

double ne_factor(double alpha) { return optim::ne_noise_factor(alpha); }

double effective_batch(int64_t batch_size, double alpha) {
  return optim::effective_batch(static_cast<double>(batch_size), alpha);
}

int64_t rounded_effective_batch(int64_t batch_size, double alpha) {
  return std::max<int64_t>(1, std::llround(effective_batch(batch_size, alpha)));
}

double finite_population_factor(int64_t n, int64_t b) {
  if (n < 2) return kNaN;
  return static_cast<double>(n - b) / static_cast<double>(n - 1);
}

double plain_factor(int64_t n, int64_t batch_size, int64_t b) {
  return static_cast<double>(batch_size) * static_cast<double>(n - b) /
         (static_cast<double>(b) * static_cast<double>(n - batch_size));
}

namespace {

// The oracle, with the check that every gradient has the size of the first.
class CheckedOracle {
 public:
  CheckedOracle(const GradientOracle& oracle, const NoiseMeterHooks& hooks) : oracle_(oracle), hooks_(hooks) {}

  double operator()(const std::vector<int64_t>& idx, std::vector<double>& out) const {
    const double loss = oracle_(idx, out);
    if (params_ != 0 && out.size() != params_) {
      throw Error("gradient oracle returned " + std::to_string(out.size()) + " values after " +
                  std::to_string(params_));
    }
    return loss;
  }
  void fix_params(size_t p) { params_ = p; }
  void progress(const char* phase, int64_t done, int64_t total) const {
    if (hooks_.on_progress) hooks_.on_progress(phase, done, total);
  }

 private:
  const GradientOracle& oracle_;
  const NoiseMeterHooks& hooks_;
  size_t params_ = 0;  // 0 until the first gradient
};

// What every draw is measured against: the centre (the full-data gradient G,
// the exact mean of g_B when the gradient of a batch is the mean of per-sample
// gradients) and the fixed directions of the kurtosis.
struct Frame {
  std::vector<double> centre;
  std::vector<std::vector<float>> random_dirs;  // float: D x P is the meter's largest buffer
  std::vector<double> principal;                // empty: none

  size_t params() const { return centre.size(); }
  size_t n_random() const { return random_dirs.size(); }
  size_t n_dirs() const { return n_random() + (principal.empty() ? 0 : 1); }  // principal last

  // e = g - centre into `e`; appends |e|^2 and the projections, adds e to the sum.
  void reduce(const std::vector<double>& g, std::vector<double>& e, NoiseDraws& d) const {
    const size_t p = params();
    for (size_t i = 0; i < p; ++i) {
      e[i] = g[i] - centre[i];
      d.sum[i] += e[i];
    }
    d.sq.push_back(dot(e.data(), e.data(), p));
    for (size_t j = 0; j < n_random(); ++j) d.proj[j].push_back(dot(random_dirs[j].data(), e.data(), p));
    if (!principal.empty()) d.proj[n_random()].push_back(dot(principal.data(), e.data(), p));
  }
};

// The full-data gradient, in chunks of centre_chunk samples (B by default);
// fixes the parameter count P and sets the report's training loss.
std::vector<double> full_gradient(CheckedOracle& call, int64_t n, const NoiseMeterOptions& opt, NoiseReport& r) {
  const int64_t chunk = opt.centre_chunk > 0 ? opt.centre_chunk : opt.batch_size;
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::vector<double> centre, grad;
  std::vector<int64_t> idx;
  double loss_sum = 0.0;
  size_t p = 0;
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t start = c * chunk, len = std::min(chunk, n - start);
    idx.resize(static_cast<size_t>(len));
    for (int64_t i = 0; i < len; ++i) idx[static_cast<size_t>(i)] = start + i;
    const double loss = call(idx, grad);
    if (c == 0) {
      p = grad.size();
      if (p == 0) throw Error("the model has no parameters to measure the gradient noise of");
      call.fix_params(p);
      centre.assign(p, 0.0);
    }
    const double w = static_cast<double>(len);
    for (size_t i = 0; i < p; ++i) centre[i] += w * grad[i];
    loss_sum += w * loss;
    call.progress("full gradient", c + 1, chunks);
  }
  for (double& g : centre) g /= static_cast<double>(n);
  r.train_loss = loss_sum / static_cast<double>(n);
  return centre;
}

// Random unit vectors of P entries from the meter's own stream.
std::vector<std::vector<float>> random_directions(size_t p, const NoiseMeterOptions& opt) {
  std::vector<std::vector<float>> dirs(static_cast<size_t>(opt.directions));
  std::mt19937_64 rng(data::derive_seed(opt.seed, kStreamDirections));
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> tmp(p);
  for (auto& d : dirs) {
    double sq = 0.0;
    for (double& x : tmp) {
      x = normal(rng);
      sq += x * x;
    }
    const double inv = 1.0 / std::sqrt(sq);
    d.resize(p);
    for (size_t i = 0; i < p; ++i) d[i] = static_cast<float>(tmp[i] * inv);
  }
  return dirs;
}

// The pilot's differences d_m = g_B - g_B' (float) and their M x M Gram matrix.
struct Pilot {
  std::vector<std::vector<float>> diffs;
  std::vector<double> gram;
};

Pilot pilot_draws(const CheckedOracle& call, int64_t n, const NoiseMeterOptions& opt, size_t p) {
  const int64_t m = opt.pilot_draws;
  data::BatchStream sb(n, opt.batch_size, data::derive_seed(opt.seed, kStreamPilotB), data::Sampling::kIid);
  data::BatchStream sbp(n, opt.batch_size, data::derive_seed(opt.seed, kStreamPilotBPrime), data::Sampling::kIid);
  Pilot pilot;
  pilot.diffs.resize(static_cast<size_t>(m));
  pilot.gram.assign(static_cast<size_t>(m * m), 0.0);
  std::vector<double> grad, other, diff(p);
  for (int64_t i = 0; i < m; ++i) {
    call(sb.next(), grad);
    call(sbp.next(), other);
    auto& di = pilot.diffs[static_cast<size_t>(i)];
    di.resize(p);
    for (size_t t = 0; t < p; ++t) {
      di[t] = static_cast<float>(grad[t] - other[t]);
      diff[t] = static_cast<double>(di[t]);
    }
    for (int64_t j = 0; j <= i; ++j) {
      const double g = dot(pilot.diffs[static_cast<size_t>(j)].data(), diff.data(), p);
      pilot.gram[static_cast<size_t>(i * m + j)] = pilot.gram[static_cast<size_t>(j * m + i)] = g;
    }
    call.progress("pilot", i + 1, m);
  }
  return pilot;
}

// The principal direction comes from separate pilot draws, so the draws
// whose kurtosis is measured did not choose the direction (choosing it on
// them would select for their own extremes). d = g_B - g_B' has mean zero
// and covariance 2 Cov[g_B], so its principal axes are those of the noise
// with no centring. PCA through the M x M Gram matrix (the snapshot method):
// with Gram w = lambda w, v = sum_m w_m d_m / sqrt(lambda) is the unit
// leading eigenvector of sum_m d_m d_m^T. Empty without a pilot or when the
// pilot saw no noise; `variance_share` is then NaN.
std::vector<double> principal_direction(const CheckedOracle& call, int64_t n, const NoiseMeterOptions& opt,
                                        size_t p, double& variance_share) {
  variance_share = kNaN;
  if (opt.pilot_draws <= 0) return {};
  const int64_t m = opt.pilot_draws;
  const Pilot pilot = pilot_draws(call, n, opt, p);
  double trace = 0.0;
  for (int64_t i = 0; i < m; ++i) trace += pilot.gram[static_cast<size_t>(i * m + i)];
  const Eigenpair top = leading_eigenpair(pilot.gram, m);
  if (!(top.value > 0.0)) return {};
  std::vector<double> principal(p, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    const double w = top.vector[static_cast<size_t>(i)] / std::sqrt(top.value);
    const auto& di = pilot.diffs[static_cast<size_t>(i)];
    for (size_t t = 0; t < p; ++t) principal[t] += w * static_cast<double>(di[t]);
  }
  variance_share = top.value / trace;
  return principal;
}

// One column per distinct round(B_eff) <= N, in the order of the alphas.
PlainColumns plain_columns(int64_t n, const NoiseMeterOptions& opt, const Frame& frame) {
  PlainColumns columns;
  for (double a : opt.alphas) {
    const int64_t b = rounded_effective_batch(opt.batch_size, a);
    if (b > n || columns.count(b)) continue;
    PlainColumn& col = columns[b];
    col.b = b;
    if (b != opt.batch_size) {
      col.stream.emplace(n, b, data::derive_seed(opt.seed, kStreamPlainBase + static_cast<uint64_t>(b)),
                         data::Sampling::kIid);
      col.draws.init(frame.params(), frame.n_dirs());
    }
  }
  return columns;
}

// The K draws of (B, B'), reduced per draw; plain columns draw alongside.
struct PairDraws {
  NoiseDraws u, v;                            // e_B, e_B'
  std::vector<double> uv, raw_u, raw_v, raw_uv;  // <e_u, e_v>, |g_B|^2, |g_B'|^2, <g_B, g_B'>
  int64_t k = 0;
  bool interrupted = false;
};

PairDraws take_draws(const CheckedOracle& call, int64_t n, const NoiseMeterOptions& opt, const Frame& frame,
                     PlainColumns& columns, const NoiseMeterHooks& hooks) {
  const size_t p = frame.params();
  data::BatchStream stream_b(n, opt.batch_size, data::derive_seed(opt.seed, data::kStreamB), data::Sampling::kIid);
  data::BatchStream stream_bp(n, opt.batch_size, data::derive_seed(opt.seed, data::kStreamBPrime),
                              data::Sampling::kIid);
  PairDraws d;
  d.u.init(p, frame.n_dirs());
  d.v.init(p, frame.n_dirs());
  std::vector<double> u, v, eu(p), ev(p);
  for (; d.k < opt.draws; ++d.k) {
    if (hooks.should_stop && hooks.should_stop()) {
      d.interrupted = true;
      break;
    }
    call(stream_b.next(), u);
    call(stream_bp.next(), v);
    frame.reduce(u, eu, d.u);
    frame.reduce(v, ev, d.v);
    d.uv.push_back(dot(eu.data(), ev.data(), p));
    d.raw_u.push_back(dot(u.data(), u.data(), p));
    d.raw_v.push_back(dot(v.data(), v.data(), p));
    d.raw_uv.push_back(dot(u.data(), v.data(), p));
    for (auto& [b, col] : columns) {
      if (!col.stream) continue;
      call(col.stream->next(), col.grad);
      frame.reduce(col.grad, eu, col.draws);  // eu is free again: reuse it as scratch
    }
    call.progress("draws", d.k + 1, opt.draws);
  }
  if (d.k < kMinDraws) {
    throw Error("stopped after " + std::to_string(d.k) + " draws; the estimates need at least " +
                std::to_string(kMinDraws));
  }
  return d;
}

// Sums of e over the draws become means (the sample-mean correction of sample_trace).
void sums_to_means(PairDraws& d, PlainColumns& columns) {
  const double kk = static_cast<double>(d.k);
  for (auto* x : {&d.u, &d.v}) {
    for (double& s : x->sum) s /= kk;
  }
  for (auto& [b, col] : columns) {
    if (col.stream) {
      for (double& s : col.draws.sum) s /= kk;
    }
  }
}

// e_NE = alpha e_B + (1 - alpha) e_B', so every |e_NE|^2 and every
// projection follows from the per-draw scalars of B and B': all alphas are
// measured on the same draws at no extra gradient cost.
class NeNoise {
 public:
  // `d` after sums_to_means: its sums are the means of e_B and e_B' over the draws.
  explicit NeNoise(const PairDraws& d) : d_(d), k_(static_cast<size_t>(d.k)), kk_(static_cast<double>(d.k)) {
    const size_t p = d.u.sum.size();
    ubar2_ = dot(d.u.sum.data(), d.u.sum.data(), p);
    vbar2_ = dot(d.v.sum.data(), d.v.sum.data(), p);
    uvbar_ = dot(d.u.sum.data(), d.v.sum.data(), p);
  }
  // |e_NE|^2 per draw.
  std::vector<double> sq(double a) const {
    std::vector<double> s(k_);
    for (size_t i = 0; i < s.size(); ++i) {
      s[i] = a * a * d_.u.sq[i] + (1 - a) * (1 - a) * d_.v.sq[i] + 2 * a * (1 - a) * d_.uv[i];
    }
    return s;
  }
  // tr Cov[g_NE] from sq(a).
  double trace(double a, const std::vector<double>& s) const {
    const double bar2 = a * a * ubar2_ + (1 - a) * (1 - a) * vbar2_ + 2 * a * (1 - a) * uvbar_;
    return sample_trace(mean_of(s), bar2, kk_);
  }
  // The projections of e_NE on direction `dir`, per draw.
  std::vector<double> proj(double a, size_t dir) const {
    std::vector<double> z(k_);
    for (size_t i = 0; i < z.size(); ++i) z[i] = a * d_.u.proj[dir][i] + (1 - a) * d_.v.proj[dir][i];
    return z;
  }
  const PairDraws& draws() const { return d_; }
  double draws_count() const { return kk_; }

 private:
  const PairDraws& d_;
  size_t k_;
  double kk_;
  double ubar2_ = 0.0, vbar2_ = 0.0, uvbar_ = 0.0;
};

// tr Cov[g_B] with its interval, tr Sigma and the direct B_simple.
void estimate_plain_b(const NeNoise& ne, int64_t n, const NoiseMeterOptions& opt, NoiseReport& r) {
  const double trace_b = ne.trace(1.0, ne.sq(1.0));
  r.trace_cov_b = trace_b;
  const Interval trace_b_ci =
      normal_interval(trace_b, mean_interval(ne.draws().u.sq, opt.confidence).standard_error, opt.confidence);
  r.trace_cov_b_ci_low = trace_b_ci.low;
  r.trace_cov_b_ci_high = trace_b_ci.high;
  r.finite_population_b = finite_population_factor(n, opt.batch_size);
  r.trace_sigma = trace_b * static_cast<double>(opt.batch_size) / r.finite_population_b;
  r.b_simple_direct = r.full_gradient_sq_norm > 0 ? r.trace_sigma / r.full_gradient_sq_norm : kNaN;
  r.kurtosis_standard_error = excess_kurtosis_standard_error(ne.draws().k);
}

// The mean excess kurtosis over the random directions (NaN with none), and along the principal one.
double mean_random_kurtosis(size_t n_random, const std::function<std::vector<double>(size_t)>& projections) {
  double sum = 0.0;
  for (size_t j = 0; j < n_random; ++j) sum += kurtosis_or_nan(projections(j));
  return n_random > 0 ? sum / static_cast<double>(n_random) : kNaN;
}

// The plain batch of round(B_eff) beside NE (left NaN when b > N: not drawn).
void compare_plain(AlphaReport& ar, const PlainColumns& columns, const NeNoise& ne, const Frame& frame,
                   const NoiseReport& r, double confidence) {
  ar.plain_measured_factor = ar.plain_ci_low = ar.plain_ci_high = kNaN;
  ar.kurtosis_random_plain = ar.kurtosis_principal_plain = kNaN;
  const auto it = columns.find(ar.b_eff_rounded);
  ar.plain_measured = it != columns.end();
  if (!ar.plain_measured) return;
  const PlainColumn& col = it->second;
  const NoiseDraws& du = ne.draws().u;
  const NoiseDraws& d = col.stream ? col.draws : du;  // b == B: the draws of B are plain batches of b
  const double bar2 = dot(d.sum.data(), d.sum.data(), frame.params());
  const double t = col.stream ? sample_trace(mean_of(d.sq), bar2, ne.draws_count()) : r.trace_cov_b;
  ar.plain_measured_factor = t / r.trace_cov_b;
  const Interval pci = normal_interval(ar.plain_measured_factor,
                                       ratio_standard_error(d.sq, du.sq, ar.plain_measured_factor), confidence);
  ar.plain_ci_low = pci.low;
  ar.plain_ci_high = pci.high;
  ar.kurtosis_random_plain = mean_random_kurtosis(frame.n_random(), [&d](size_t j) { return d.proj[j]; });
  ar.kurtosis_principal_plain = frame.principal.empty() ? kNaN : kurtosis_or_nan(d.proj[frame.n_random()]);
}

// NE at one alpha: its covariance factor against theory, B_eff, the kurtosis, and the plain batch beside it.
AlphaReport alpha_report(double a, const NeNoise& ne, const PlainColumns& columns, const Frame& frame, int64_t n,
                         const NoiseMeterOptions& opt, const NoiseReport& r) {
  AlphaReport ar;
  ar.alpha = a;
  ar.theory_factor = ne_factor(a);
  const auto s = ne.sq(a);
  ar.trace_cov = ne.trace(a, s);
  ar.measured_factor = ar.trace_cov / r.trace_cov_b;
  const Interval ci = normal_interval(
      ar.measured_factor, ratio_standard_error(s, ne.draws().u.sq, ar.measured_factor), opt.confidence);
  ar.ci_low = ci.low;
  ar.ci_high = ci.high;
  ar.b_eff = effective_batch(opt.batch_size, a);
  ar.b_eff_rounded = rounded_effective_batch(opt.batch_size, a);
  ar.plain_theory_factor = plain_factor(n, opt.batch_size, ar.b_eff_rounded);
  // Kurtosis along the fixed directions, NE at B.
  ar.kurtosis_random_ne = mean_random_kurtosis(frame.n_random(), [&ne, a](size_t j) { return ne.proj(a, j); });
  ar.kurtosis_principal_ne = frame.principal.empty() ? kNaN : kurtosis_or_nan(ne.proj(a, frame.n_random()));
  compare_plain(ar, columns, ne, frame, r, opt.confidence);
  return ar;
}

// B_simple from the B and 2B gradients of each draw.
// |g_2B|^2 with g_2B = (g_B + g_B') / 2; the small-batch norm is the mean of
// |g_B|^2 and |g_B'|^2 (both unbiased, half the variance). Without
// replacement E|g_B|^2 = |G|^2 + f_B tr Sigma / B and E|g_2B|^2 =
// |G|^2 + f_B tr Sigma / (2B) (two independent batches of B, f_B =
// (N - B)/(N - 1)), so McCandlish's |G|^2 is unbiased and his tr Sigma
// estimates f_B tr Sigma: divide by f_B.
void estimate_b_simple(const PairDraws& d, const NoiseMeterOptions& opt, NoiseReport& r) {
  const int64_t big_b = opt.batch_size;
  std::vector<double> g2(static_cast<size_t>(d.k)), tr(static_cast<size_t>(d.k));
  for (size_t i = 0; i < g2.size(); ++i) {
    const double small = 0.5 * (d.raw_u[i] + d.raw_v[i]);
    const double big = 0.25 * (d.raw_u[i] + d.raw_v[i] + 2.0 * d.raw_uv[i]);
    const optim::NoiseScaleEstimate e = optim::estimate_noise_scale(small, big_b, big, 2 * big_b);
    g2[i] = e.g_squared;
    tr[i] = e.trace_sigma;
  }
  r.g_squared = mean_of(g2);
  r.trace_sigma_simple = mean_of(tr) / r.finite_population_b;
  if (r.g_squared > 0.0) {
    const double raw_ratio = mean_of(tr) / r.g_squared;
    const Interval bci = normal_interval(raw_ratio, ratio_standard_error(tr, g2, raw_ratio), opt.confidence);
    r.b_simple = raw_ratio / r.finite_population_b;
    r.b_simple_ci_low = bci.low / r.finite_population_b;
    r.b_simple_ci_high = bci.high / r.finite_population_b;
  } else {
    r.b_simple = r.b_simple_ci_low = r.b_simple_ci_high = kNaN;  // |G|^2 not resolved from the noise
  }
}

}  // namespace

NoiseReport measure_noise(const GradientOracle& oracle, int64_t n, const NoiseMeterOptions& opt,
                          const NoiseMeterHooks& hooks) {
  opt.validate(n);
  const auto t_start = Clock::now();
  NoiseReport r;
  r.dataset_size = n;
  r.batch_size = opt.batch_size;
  r.seed = opt.seed;
  r.confidence = opt.confidence;
  r.directions = opt.directions;
  r.pilot_draws = opt.pilot_draws;

  CheckedOracle call(oracle, hooks);
  Frame frame;
  frame.centre = full_gradient(call, n, opt, r);
  const size_t p = frame.params();
  r.parameters = static_cast<int64_t>(p);
  r.full_gradient_sq_norm = dot(frame.centre.data(), frame.centre.data(), p);
  frame.random_dirs = random_directions(p, opt);
  frame.principal = principal_direction(call, n, opt, p, r.principal_variance_share);

  PlainColumns columns = plain_columns(n, opt, frame);
  PairDraws draws = take_draws(call, n, opt, frame, columns, hooks);
  r.interrupted = draws.interrupted;
  r.draws = draws.k;
  sums_to_means(draws, columns);
  const NeNoise ne(draws);
  estimate_plain_b(ne, n, opt, r);
  for (double a : opt.alphas) r.alphas.push_back(alpha_report(a, ne, columns, frame, n, opt, r));
  estimate_b_simple(draws, opt, r);
  r.seconds = seconds_since(t_start);
  return r;
}

nlohmann::json to_json(const NoiseReport& r) {
  nlohmann::json alphas = nlohmann::json::array();
  for (const auto& a : r.alphas) {
    alphas.push_back({
        {"alpha", a.alpha},
        {"theory_factor", a.theory_factor},
        {"measured_factor", number(a.measured_factor)},
        {"ci_low", number(a.ci_low)},
        {"ci_high", number(a.ci_high)},
        {"trace_cov", number(a.trace_cov)},
        {"b_eff", a.b_eff},
        {"b_eff_rounded", a.b_eff_rounded},
        {"plain_measured", a.plain_measured},
        {"plain_theory_factor", number(a.plain_theory_factor)},
        {"plain_measured_factor", number(a.plain_measured_factor)},
        {"plain_ci_low", number(a.plain_ci_low)},
        {"plain_ci_high", number(a.plain_ci_high)},
        {"kurtosis_random_ne", number(a.kurtosis_random_ne)},
        {"kurtosis_random_plain", number(a.kurtosis_random_plain)},
        {"kurtosis_principal_ne", number(a.kurtosis_principal_ne)},
        {"kurtosis_principal_plain", number(a.kurtosis_principal_plain)},
    });
  }
  return {
      {"dataset_size", r.dataset_size},
      {"batch_size", r.batch_size},
      {"draws", r.draws},
      {"parameters", r.parameters},
      {"directions", r.directions},
      {"pilot_draws", r.pilot_draws},
      {"seed", r.seed},
      {"confidence", r.confidence},
      {"sampling", "iid"},
      {"interrupted", r.interrupted},
      {"train_loss", number(r.train_loss)},
      {"full_gradient_sq_norm", number(r.full_gradient_sq_norm)},
      {"trace_cov_b", number(r.trace_cov_b)},
      {"trace_cov_b_ci_low", number(r.trace_cov_b_ci_low)},
      {"trace_cov_b_ci_high", number(r.trace_cov_b_ci_high)},
      {"finite_population_b", number(r.finite_population_b)},
      {"trace_sigma", number(r.trace_sigma)},
      {"g_squared", number(r.g_squared)},
      {"trace_sigma_simple", number(r.trace_sigma_simple)},
      {"b_simple", number(r.b_simple)},
      {"b_simple_ci_low", number(r.b_simple_ci_low)},
      {"b_simple_ci_high", number(r.b_simple_ci_high)},
      {"b_simple_direct", number(r.b_simple_direct)},
      {"principal_variance_share", number(r.principal_variance_share)},
      {"kurtosis_standard_error", number(r.kurtosis_standard_error)},
      {"seconds", r.seconds},
      {"alphas", alphas},
  };
}

std::string format_table(const NoiseReport& r) {
  const auto num = [](double v, const char* f) { return std::isfinite(v) ? fmt::format(fmt::runtime(f), v) : "-"; };
  const int pct = static_cast<int>(std::lround(100.0 * r.confidence));
  std::string s = fmt::format(
      "gradient noise at fixed weights: N = {}, B = {}, K = {} draws{}, P = {} parameters, train loss {}\n", r.dataset_size,
      r.batch_size, r.draws, r.interrupted ? " (interrupted)" : "", r.parameters, num(r.train_loss, "{:.4f}"));
  s += fmt::format("tr Cov[g_B] = {} [{}, {}]   tr Sigma = {}   |G|^2 = {}\n", num(r.trace_cov_b, "{:.4g}"),
                   num(r.trace_cov_b_ci_low, "{:.4g}"), num(r.trace_cov_b_ci_high, "{:.4g}"),
                   num(r.trace_sigma, "{:.4g}"), num(r.full_gradient_sq_norm, "{:.4g}"));
  s += fmt::format("B_simple = {} [{}, {}] (from |g_B|^2, |g_2B|^2); direct tr Sigma / |G|^2 = {}\n",
                   num(r.b_simple, "{:.4g}"), num(r.b_simple_ci_low, "{:.4g}"), num(r.b_simple_ci_high, "{:.4g}"),
                   num(r.b_simple_direct, "{:.4g}"));
  s += fmt::format("excess kurtosis: SE {} per direction under Gaussian noise; principal direction holds {} of the "
                   "pilot's noise variance\n\n",
                   num(r.kurtosis_standard_error, "{:.3f}"), num(100.0 * r.principal_variance_share, "{:.1f}%"));
  s += fmt::format("{:>6} | {:>7} | {:>25} | {:>7} | {:>7} | {:>7} | {:>25} | {:>15} | {:>15}\n", "alpha", "theory",
                   fmt::format("NE factor [{}% CI]", pct), "B_eff", "plain b", "theory",
                   fmt::format("plain factor [{}% CI]", pct), "kurt rand NE/pl", "kurt PC NE/pl");
  for (const auto& a : r.alphas) {
    s += fmt::format("{:>6} | {:>7.4f} | {:>25} | {:>7.1f} | {:>7} | {:>7.4f} | {:>25} | {:>15} | {:>15}\n",
                     num(a.alpha, "{:g}"), a.theory_factor,
                     fmt::format("{} [{}, {}]", num(a.measured_factor, "{:.4f}"), num(a.ci_low, "{:.4f}"),
                                 num(a.ci_high, "{:.4f}")),
                     a.b_eff, a.b_eff_rounded, a.plain_theory_factor,
                     a.plain_measured ? fmt::format("{} [{}, {}]", num(a.plain_measured_factor, "{:.4f}"),
                                                    num(a.plain_ci_low, "{:.4f}"), num(a.plain_ci_high, "{:.4f}"))
                                      : std::string("b > N"),
                     fmt::format("{} / {}", num(a.kurtosis_random_ne, "{:.2f}"), num(a.kurtosis_random_plain, "{:.2f}")),
                     fmt::format("{} / {}", num(a.kurtosis_principal_ne, "{:.2f}"),
                                 num(a.kurtosis_principal_plain, "{:.2f}")));
  }
  return s;
}

}  // namespace nesgd::noise
