#include "nesgd/noise/noise_meter.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
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

double ne_factor(double alpha) { return alpha * alpha + (1.0 - alpha) * (1.0 - alpha); }

double effective_batch(int64_t batch_size, double alpha) { return static_cast<double>(batch_size) / ne_factor(alpha); }

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

NoiseReport measure_noise(const GradientOracle& oracle, int64_t n, const NoiseMeterOptions& opt,
                          const NoiseMeterHooks& hooks) {
  opt.validate(n);
  const auto t_start = std::chrono::steady_clock::now();
  const auto progress = [&hooks](const char* phase, int64_t done, int64_t total) {
    if (hooks.on_progress) hooks.on_progress(phase, done, total);
  };
  const int64_t big_b = opt.batch_size;

  NoiseReport r;
  r.dataset_size = n;
  r.batch_size = big_b;
  r.seed = opt.seed;
  r.confidence = opt.confidence;
  r.directions = opt.directions;
  r.pilot_draws = opt.pilot_draws;

  // -- the centre: the full-data gradient G (the exact mean of g_B when the
  //    gradient of a batch is the mean of per-sample gradients) --------------------------------
  std::vector<double> centre, grad;
  size_t p = 0;
  const auto call = [&](const std::vector<int64_t>& idx, std::vector<double>& out) {
    const double loss = oracle(idx, out);
    if (p != 0 && out.size() != p) {
      throw Error("gradient oracle returned " + std::to_string(out.size()) + " values after " + std::to_string(p));
    }
    return loss;
  };
  {
    const int64_t chunk = opt.centre_chunk > 0 ? opt.centre_chunk : big_b;
    const int64_t chunks = (n + chunk - 1) / chunk;
    std::vector<int64_t> idx;
    double loss_sum = 0.0;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t start = c * chunk, len = std::min(chunk, n - start);
      idx.resize(static_cast<size_t>(len));
      for (int64_t i = 0; i < len; ++i) idx[static_cast<size_t>(i)] = start + i;
      const double loss = call(idx, grad);
      if (c == 0) {
        p = grad.size();
        if (p == 0) throw Error("the model has no parameters to measure the gradient noise of");
        centre.assign(p, 0.0);
      }
      const double w = static_cast<double>(len);
      for (size_t i = 0; i < p; ++i) centre[i] += w * grad[i];
      loss_sum += w * loss;
      progress("full gradient", c + 1, chunks);
    }
    for (double& g : centre) g /= static_cast<double>(n);
    r.train_loss = loss_sum / static_cast<double>(n);
  }
  r.parameters = static_cast<int64_t>(p);
  r.full_gradient_sq_norm = dot(centre.data(), centre.data(), p);

  // -- fixed directions: random unit vectors (stored as float: D x P is the
  //    meter's largest buffer), then the pilot's leading principal direction --------------------
  const size_t n_random = static_cast<size_t>(opt.directions);
  std::vector<std::vector<float>> random_dirs(n_random);
  {
    std::mt19937_64 rng(data::derive_seed(opt.seed, kStreamDirections));
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<double> tmp(p);
    for (auto& d : random_dirs) {
      double sq = 0.0;
      for (double& x : tmp) {
        x = normal(rng);
        sq += x * x;
      }
      const double inv = 1.0 / std::sqrt(sq);
      d.resize(p);
      for (size_t i = 0; i < p; ++i) d[i] = static_cast<float>(tmp[i] * inv);
    }
  }
  // The principal direction comes from separate pilot draws, so the draws
  // whose kurtosis is measured did not choose the direction (choosing it on
  // them would select for their own extremes). d = g_B - g_B' has mean zero
  // and covariance 2 Cov[g_B], so its principal axes are those of the noise
  // with no centring. PCA through the M x M Gram matrix (the snapshot method):
  // with Gram w = lambda w, v = sum_m w_m d_m / sqrt(lambda) is the unit
  // leading eigenvector of sum_m d_m d_m^T.
  std::vector<double> principal;
  if (opt.pilot_draws > 0) {
    const int64_t m = opt.pilot_draws;
    data::BatchStream sb(n, big_b, data::derive_seed(opt.seed, kStreamPilotB), data::Sampling::kIid);
    data::BatchStream sbp(n, big_b, data::derive_seed(opt.seed, kStreamPilotBPrime), data::Sampling::kIid);
    std::vector<std::vector<float>> diffs(static_cast<size_t>(m));
    std::vector<double> gram(static_cast<size_t>(m * m), 0.0), other, diff(p);
    for (int64_t i = 0; i < m; ++i) {
      call(sb.next(), grad);
      call(sbp.next(), other);
      auto& di = diffs[static_cast<size_t>(i)];
      di.resize(p);
      for (size_t t = 0; t < p; ++t) {
        di[t] = static_cast<float>(grad[t] - other[t]);
        diff[t] = static_cast<double>(di[t]);
      }
      for (int64_t j = 0; j <= i; ++j) {
        const double g = dot(diffs[static_cast<size_t>(j)].data(), diff.data(), p);
        gram[static_cast<size_t>(i * m + j)] = gram[static_cast<size_t>(j * m + i)] = g;
      }
      progress("pilot", i + 1, m);
    }
    double trace = 0.0;
    for (int64_t i = 0; i < m; ++i) trace += gram[static_cast<size_t>(i * m + i)];
    const Eigenpair top = leading_eigenpair(gram, m);
    if (top.value > 0.0) {
      principal.assign(p, 0.0);
      for (int64_t i = 0; i < m; ++i) {
        const double w = top.vector[static_cast<size_t>(i)] / std::sqrt(top.value);
        const auto& di = diffs[static_cast<size_t>(i)];
        for (size_t t = 0; t < p; ++t) principal[t] += w * static_cast<double>(di[t]);
      }
      r.principal_variance_share = top.value / trace;
    } else {
      r.principal_variance_share = kNaN;
    }
  } else {
    r.principal_variance_share = kNaN;
  }
  const size_t n_dirs = n_random + (principal.empty() ? 0 : 1);  // principal last

  // -- the draws -----------------------------------------------------------------------------
  data::BatchStream stream_b(n, big_b, data::derive_seed(opt.seed, data::kStreamB), data::Sampling::kIid);
  data::BatchStream stream_bp(n, big_b, data::derive_seed(opt.seed, data::kStreamBPrime), data::Sampling::kIid);
  std::map<int64_t, PlainColumn> columns;  // by plain batch size b
  for (double a : opt.alphas) {
    const int64_t b = rounded_effective_batch(big_b, a);
    if (b > n || columns.count(b)) continue;
    PlainColumn& col = columns[b];
    col.b = b;
    if (b != big_b) {
      col.stream.emplace(n, b, data::derive_seed(opt.seed, kStreamPlainBase + static_cast<uint64_t>(b)),
                         data::Sampling::kIid);
      col.draws.init(p, n_dirs);
    }
  }

  NoiseDraws du, dv;
  du.init(p, n_dirs);
  dv.init(p, n_dirs);
  std::vector<double> uv, raw_u, raw_v, raw_uv;  // <e_u, e_v>, |g_B|^2, |g_B'|^2, <g_B, g_B'>
  std::vector<double> u, v, eu(p), ev(p);

  // e = g - centre into `e`; appends |e|^2 and the projections, adds e to the sum.
  const auto reduce = [&](const std::vector<double>& g, std::vector<double>& e, NoiseDraws& d) {
    for (size_t i = 0; i < p; ++i) {
      e[i] = g[i] - centre[i];
      d.sum[i] += e[i];
    }
    d.sq.push_back(dot(e.data(), e.data(), p));
    for (size_t j = 0; j < n_random; ++j) d.proj[j].push_back(dot(random_dirs[j].data(), e.data(), p));
    if (!principal.empty()) d.proj[n_random].push_back(dot(principal.data(), e.data(), p));
  };

  int64_t k = 0;
  for (; k < opt.draws; ++k) {
    if (hooks.should_stop && hooks.should_stop()) {
      r.interrupted = true;
      break;
    }
    call(stream_b.next(), u);
    call(stream_bp.next(), v);
    reduce(u, eu, du);
    reduce(v, ev, dv);
    uv.push_back(dot(eu.data(), ev.data(), p));
    raw_u.push_back(dot(u.data(), u.data(), p));
    raw_v.push_back(dot(v.data(), v.data(), p));
    raw_uv.push_back(dot(u.data(), v.data(), p));
    for (auto& [b, col] : columns) {
      if (!col.stream) continue;
      call(col.stream->next(), col.grad);
      reduce(col.grad, eu, col.draws);  // eu is free again: reuse it as scratch
    }
    progress("draws", k + 1, opt.draws);
  }
  if (k < kMinDraws) {
    throw Error("stopped after " + std::to_string(k) + " draws; the estimates need at least " +
                std::to_string(kMinDraws));
  }
  r.draws = k;
  const double kk = static_cast<double>(k);

  // -- estimates -----------------------------------------------------------------------------
  // Means of e_B and e_B' over the draws (the sample-mean correction of sample_trace).
  for (auto* d : {&du, &dv}) {
    for (double& s : d->sum) s /= kk;
  }
  const double ubar2 = dot(du.sum.data(), du.sum.data(), p);
  const double vbar2 = dot(dv.sum.data(), dv.sum.data(), p);
  const double uvbar = dot(du.sum.data(), dv.sum.data(), p);

  // e_NE = alpha e_B + (1 - alpha) e_B', so every |e_NE|^2 and every
  // projection follows from the per-draw scalars of B and B': all alphas are
  // measured on the same draws at no extra gradient cost.
  const auto ne_sq = [&](double a) {
    std::vector<double> s(static_cast<size_t>(k));
    for (size_t i = 0; i < s.size(); ++i) {
      s[i] = a * a * du.sq[i] + (1 - a) * (1 - a) * dv.sq[i] + 2 * a * (1 - a) * uv[i];
    }
    return s;
  };
  const auto ne_trace = [&](double a, const std::vector<double>& s) {
    const double bar2 = a * a * ubar2 + (1 - a) * (1 - a) * vbar2 + 2 * a * (1 - a) * uvbar;
    return sample_trace(mean_of(s), bar2, kk);
  };
  const auto ne_proj = [&](double a, size_t dir) {
    std::vector<double> z(static_cast<size_t>(k));
    for (size_t i = 0; i < z.size(); ++i) z[i] = a * du.proj[dir][i] + (1 - a) * dv.proj[dir][i];
    return z;
  };

  const double trace_b = ne_trace(1.0, ne_sq(1.0));
  r.trace_cov_b = trace_b;
  const Interval trace_b_ci = normal_interval(trace_b, mean_interval(du.sq, opt.confidence).standard_error,
                                              opt.confidence);
  r.trace_cov_b_ci_low = trace_b_ci.low;
  r.trace_cov_b_ci_high = trace_b_ci.high;
  r.finite_population_b = finite_population_factor(n, big_b);
  r.trace_sigma = trace_b * static_cast<double>(big_b) / r.finite_population_b;
  r.b_simple_direct = r.full_gradient_sq_norm > 0 ? r.trace_sigma / r.full_gradient_sq_norm : kNaN;
  r.kurtosis_standard_error = excess_kurtosis_standard_error(k);

  for (auto& [b, col] : columns) {
    if (col.stream) {
      for (double& s : col.draws.sum) s /= kk;
    }
  }

  for (double a : opt.alphas) {
    AlphaReport ar;
    ar.alpha = a;
    ar.theory_factor = ne_factor(a);
    const auto s = ne_sq(a);
    ar.trace_cov = ne_trace(a, s);
    ar.measured_factor = ar.trace_cov / trace_b;
    const Interval ci =
        normal_interval(ar.measured_factor, ratio_standard_error(s, du.sq, ar.measured_factor), opt.confidence);
    ar.ci_low = ci.low;
    ar.ci_high = ci.high;
    ar.b_eff = effective_batch(big_b, a);
    ar.b_eff_rounded = rounded_effective_batch(big_b, a);
    ar.plain_theory_factor = plain_factor(n, big_b, ar.b_eff_rounded);

    // Kurtosis along the fixed directions, NE at B.
    double kurt_sum = 0.0;
    for (size_t j = 0; j < n_random; ++j) kurt_sum += kurtosis_or_nan(ne_proj(a, j));
    ar.kurtosis_random_ne = n_random > 0 ? kurt_sum / static_cast<double>(n_random) : kNaN;
    ar.kurtosis_principal_ne = principal.empty() ? kNaN : kurtosis_or_nan(ne_proj(a, n_random));

    const auto it = columns.find(ar.b_eff_rounded);
    ar.plain_measured = it != columns.end();
    ar.plain_measured_factor = ar.plain_ci_low = ar.plain_ci_high = kNaN;
    ar.kurtosis_random_plain = ar.kurtosis_principal_plain = kNaN;
    if (ar.plain_measured) {
      const PlainColumn& col = it->second;
      const NoiseDraws& d = col.stream ? col.draws : du;  // b == B: the draws of B are plain batches of b
      const double bar2 = dot(d.sum.data(), d.sum.data(), p);
      const double t = col.stream ? sample_trace(mean_of(d.sq), bar2, kk) : trace_b;
      ar.plain_measured_factor = t / trace_b;
      const Interval pci = normal_interval(ar.plain_measured_factor,
                                           ratio_standard_error(d.sq, du.sq, ar.plain_measured_factor),
                                           opt.confidence);
      ar.plain_ci_low = pci.low;
      ar.plain_ci_high = pci.high;
      double ks = 0.0;
      for (size_t j = 0; j < n_random; ++j) ks += kurtosis_or_nan(d.proj[j]);
      ar.kurtosis_random_plain = n_random > 0 ? ks / static_cast<double>(n_random) : kNaN;
      ar.kurtosis_principal_plain = principal.empty() ? kNaN : kurtosis_or_nan(d.proj[n_random]);
    }
    r.alphas.push_back(ar);
  }

  // -- B_simple from the B and 2B gradients of each draw ---------------------------------------
  // |g_2B|^2 with g_2B = (g_B + g_B') / 2; the small-batch norm is the mean of
  // |g_B|^2 and |g_B'|^2 (both unbiased, half the variance). Without
  // replacement E|g_B|^2 = |G|^2 + f_B tr Sigma / B and E|g_2B|^2 =
  // |G|^2 + f_B tr Sigma / (2B) (two independent batches of B, f_B =
  // (N - B)/(N - 1)), so McCandlish's |G|^2 is unbiased and his tr Sigma
  // estimates f_B tr Sigma: divide by f_B.
  std::vector<double> g2(static_cast<size_t>(k)), tr(static_cast<size_t>(k));
  for (size_t i = 0; i < g2.size(); ++i) {
    const double small = 0.5 * (raw_u[i] + raw_v[i]);
    const double big = 0.25 * (raw_u[i] + raw_v[i] + 2.0 * raw_uv[i]);
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
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
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
