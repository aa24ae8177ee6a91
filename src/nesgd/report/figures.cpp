// The report's figures (report/figures.h): Figures 1-3 and the loss curves, as gnuplot plots.
#include "nesgd/report/figures.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace nesgd::report {
namespace {

// Log-scaled batch axis: room around the first and last B (10^0.25).
constexpr double kLogMargin = 1.7782794100389228;

// Figure number in the paper: 1 for C1, 2 for F1 and C2.
int figure_number(const std::string& config) { return config == "C1" ? 1 : 2; }

std::string xtics(const std::vector<int64_t>& values) {
  std::string s = "set xtics (";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  return s + ")\n";
}

// Figures 1/2 show the alphas swept over B; an alpha run at one B only
// (Table 3's alpha grid) is a point of Figure 3, not a curve here.
struct SweptAlphas {
  std::map<double, std::vector<PointSummary>> by_alpha;  // each sorted by B (summarize's order)
  std::set<int64_t> batch_sizes;
};

SweptAlphas swept_alphas(const std::vector<PointSummary>& setting_points) {
  SweptAlphas s;
  for (const auto& p : setting_points) s.by_alpha[p.alpha].push_back(p);
  for (auto it = s.by_alpha.begin(); it != s.by_alpha.end();) {
    if (it->second.size() < 2) {
      it = s.by_alpha.erase(it);
      continue;
    }
    for (const auto& p : it->second) s.batch_sizes.insert(p.batch_size);
    ++it;
  }
  return s;
}

// One curve per alpha: test accuracy (percent) or convergence time against B, with the std and run counts.
std::vector<Series> b_series(const SweptAlphas& swept, bool accuracy) {
  std::vector<Series> series;
  for (const auto& [alpha, curve] : swept.by_alpha) {
    Series s;
    s.title = "alpha = " + fmt_alpha(alpha);
    for (const auto& p : curve) {
      const Stat& st = accuracy ? p.accuracy : p.time;
      if (st.n == 0) continue;
      const double scale = accuracy ? 100.0 : 1.0;
      s.data_rows += fmt::format("{} {} {} {} {}\n", p.batch_size, scale * st.mean,
                                 std::isfinite(st.std) ? scale * st.std : 0.0, p.n_converged, p.n_runs);
    }
    series.push_back(s);
  }
  return series;
}

// Figures 1/2 of one setting: accuracy and time against B, one curve per alpha.
void draw_b_figures(Plotter& plotter, const std::string& config, const std::string& setting,
                    const std::vector<PointSummary>& setting_points, const Labels& labels,
                    const std::string& seeds_note, std::vector<Figure>& figures) {
  const SweptAlphas swept = swept_alphas(setting_points);
  const std::set<int64_t>& bs = swept.batch_sizes;
  if (bs.size() < 2) return;
  for (const bool accuracy : {true, false}) {
    const std::string what = accuracy ? "accuracy" : "time";
    const std::string stem =
        fmt::format("figure{}-{}-{}", figure_number(config), labels.file_stem(config, setting), what);
    const std::string title = fmt::format("{}: {} against batch size ({})", labels.label(config, setting),
                                          accuracy ? "test accuracy" : "convergence time", seeds_note);
    // Margins of a quarter decade either side, so the end points and their tics show.
    const std::string setup = fmt::format(
        "set title \"{}\"\nset logscale x\nset xrange [{}:{}]\n{}set xlabel \"batch size B (log scale)\"\n"
        "set ylabel \"{}\"\n",
        title, static_cast<double>(*bs.begin()) / kLogMargin, static_cast<double>(*bs.rbegin()) * kLogMargin,
        xtics({bs.begin(), bs.end()}),
        accuracy ? "test accuracy (%), mean +- std over converged seeds" : "convergence time (iterations), mean +- std");
    if (plotter.draw(stem, setup, b_series(swept, accuracy), PlotSpec{"1:2:3", "yerrorlines", true, "", ""})) {
      figures.push_back({stem, title, config, setting});
    }
  }
}

// Figure 3's data lines of one path: time, accuracy, their stds and the point's label.
std::string figure3_rows(const std::vector<PointSummary>& path, bool by_b) {
  std::string r;
  for (const auto& p : path) {
    if (p.accuracy.n == 0 || p.time.n == 0) continue;
    // alpha = 1 at the large B is where both paths start: labelled once, as B.
    const std::string label = by_b ? "B=" + std::to_string(p.batch_size) : p.alpha == 1.0 ? "" : "a=" + fmt_alpha(p.alpha);
    r += fmt::format("{} {} {} {} \"{}\"\n", p.time.mean, 100.0 * p.accuracy.mean,
                     std::isfinite(p.time.std) ? p.time.std : 0.0,
                     std::isfinite(p.accuracy.std) ? 100.0 * p.accuracy.std : 0.0, label);
  }
  return r;
}

// Figure 3 of one setting: accuracy against convergence time, reduce B vs raise alpha.
void draw_figure3(Plotter& plotter, const Figure3Series& s, const Labels& labels, const std::string& seeds_note,
                  std::vector<Figure>& figures) {
  if (s.reduce_b.size() + s.raise_alpha.size() < 2) return;
  std::vector<Series> series{
      {fmt::format("reduce B at alpha = 1 (B = {} down to {})", s.large_batch,
                   s.reduce_b.empty() ? s.large_batch : s.reduce_b.back().batch_size),
       figure3_rows(s.reduce_b, true)},
      {fmt::format("raise alpha at B = {}", s.large_batch), figure3_rows(s.raise_alpha, false)}};
  if (series[1].data_rows.find('\n') == series[1].data_rows.rfind('\n')) {
    series[1].data_rows.clear();  // alpha = 1 alone is the first curve's start, not a path
  }
  const std::string stem = "figure3-" + labels.file_stem(s.config, s.setting_id);
  const std::string title = fmt::format("{}: test accuracy against convergence time ({})",
                                        labels.label(s.config, s.setting_id), seeds_note);
  const std::string setup = fmt::format(
      "set title \"{}\"\nset xlabel \"convergence time (iterations)\"\n"
      "set ylabel \"test accuracy (%)\"\n",
      title);
  const PlotSpec spec{"1:2:3:4", "xyerrorlines", true,
                      "using 1:2:5 with labels offset char 1,0.7 font \",9\" notitle", ""};
  if (plotter.draw(stem, setup, series, spec)) figures.push_back({stem, title, s.config, s.setting_id});
}

// One seed's training loss against iteration, titled with how the run ended.
Series curve_series(const LossCurve& c) {
  Series s;
  s.title = c.status == "converged" ? fmt::format("seed {}: converged at {}", c.seed, c.iterations)
                                    : fmt::format("seed {}: {} at {}", c.seed, c.status, c.iterations);
  for (const auto& [iteration, loss] : c.points) s.data_rows += fmt::format("{} {:.10g}\n", iteration, loss);
  return s;
}

// The thresholds as horizontal lines (one setting has one of each; more are drawn if records disagree).
std::string threshold_lines(const std::vector<LossCurve>& curves) {
  std::set<double> l_stars, l_stops;
  for (const auto& c : curves) {
    if (std::isfinite(c.l_star) && c.l_star > 0.0) l_stars.insert(c.l_star);
    if (std::isfinite(c.l_stop) && c.l_stop > 0.0) l_stops.insert(c.l_stop);
  }
  std::string lines;
  for (double l : l_stars) {
    lines += fmt::format("{}{:g} with lines dt 2 lw 2 lc rgb \"#555555\" title \"L* = {:g} (LR halved)\"",
                         lines.empty() ? "" : ", \\\n     ", l, l);
  }
  for (double l : l_stops) {
    lines += fmt::format("{}{:g} with lines dt 3 lw 2 lc rgb \"black\" title \"L** = {:g} (stop)\"",
                         lines.empty() ? "" : ", \\\n     ", l, l);
  }
  return lines;
}

// The loss measures of a point's runs, as the axis names them: "epoch-mean", or "epoch-mean, full".
std::string loss_measures(const std::vector<RunRow>& rows, const std::vector<size_t>& indices) {
  std::set<std::string> measures;
  for (size_t i : indices) measures.insert(rows[i].loss_measure);
  std::string text;
  for (const auto& m : measures) text += (text.empty() ? "" : ", ") + m;
  return text;
}

}  // namespace

std::vector<Figure> draw_figures(Plotter& plotter, const std::vector<PointSummary>& points, const Labels& labels,
                                 const std::string& seeds_note) {
  std::vector<Figure> figures;
  std::map<std::pair<std::string, std::string>, std::vector<PointSummary>> settings;
  for (const auto& p : points) settings[{p.config, p.setting_id}].push_back(p);
  for (const auto& [key, setting_points] : settings) {
    draw_b_figures(plotter, key.first, key.second, setting_points, labels, seeds_note, figures);
  }
  for (const auto& s : figure3_series(points)) draw_figure3(plotter, s, labels, seeds_note, figures);
  return figures;
}

CurveFigures draw_loss_curves(Plotter& plotter, const std::vector<nlohmann::json>& records,
                              const std::vector<RunRow>& rows, const Labels& labels) {
  CurveFigures result;
  std::map<std::tuple<std::string, std::string, double, int64_t>, std::vector<size_t>> by_point;
  for (size_t i = 0; i < rows.size(); ++i) {
    by_point[{rows[i].config, rows[i].setting_id, rows[i].alpha, rows[i].batch_size}].push_back(i);
  }
  for (const auto& [key, indices] : by_point) {
    const auto& [config, setting, alpha, batch] = key;
    std::vector<LossCurve> curves;
    for (size_t i : indices) curves.push_back(loss_curve_from_record(records[i]));
    std::sort(curves.begin(), curves.end(), [](const LossCurve& a, const LossCurve& b) { return a.seed < b.seed; });
    std::vector<Series> series;
    for (const auto& c : curves) series.push_back(curve_series(c));
    if (std::all_of(series.begin(), series.end(), [](const Series& s) { return s.data_rows.empty(); })) {
      ++result.points_without_curves;
      continue;
    }
    const std::string point = fmt::format("{}, B = {}, alpha = {}", labels.label(config, setting), batch, fmt_alpha(alpha));
    const std::string stem =
        fmt::format("curves-{}-b{}-alpha{}", labels.file_stem(config, setting), batch, fmt_alpha(alpha));
    const std::string setup = fmt::format(
        "set title \"{}: training loss of each seed\"\nset logscale y\nset format y \"%g\"\n"
        "set xlabel \"iteration\"\nset ylabel \"training loss ({}; log scale)\"\n",
        point, loss_measures(rows, indices));
    if (plotter.draw(stem, setup, series, PlotSpec{"1:2", "lines", false, "", threshold_lines(curves)})) {
      result.figures.push_back(
          {stem, fmt::format("{}: training loss of {} seed{} against iteration, with L* and L**. {}", point,
                             curves.size(), curves.size() == 1 ? "" : "s", kCurveCaption),
           config, setting});
    }
  }
  return result;
}

}  // namespace nesgd::report
