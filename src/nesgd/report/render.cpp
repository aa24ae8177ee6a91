#include "nesgd/report/render.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "nesgd/durable_write.h"
#include "nesgd/error.h"
#include "nesgd/json_read.h"
#include "nesgd/exp/store.h"
#include "nesgd/report/table.h"

namespace nesgd::report {
namespace fs = std::filesystem;

namespace {

constexpr const char* kPlotsDir = "plots";
constexpr const char* kInstallGnuplot = "install gnuplot (Debian: apt install gnuplot-nox) or set NESGD_GNUPLOT";
// Figure sizes in pixels: SVG scales anyway; PNG at 1.5x for sharper text.
constexpr int kSvgWidth = 720, kSvgHeight = 480;
constexpr int kPngWidth = 1080, kPngHeight = 720;
// Log-scaled batch axis: room around the first and last B (10^0.25).
constexpr double kLogMargin = 1.7782794100389228;
// Why the seeds of one point scatter in convergence time: what the loss curves show.
constexpr const char* kCurveCaption =
    "The convergence time is a first-passage time: the loss sits on a noisy plateau between L* and roughly 3 L* "
    "until it first dips below L* (the learning rate is halved) and then reaches L** within a few epochs; when "
    "that first dip comes is luck, which is why the seeds' convergence times scatter.";

// --- formatting -------------------------------------------------------------------------------------

std::string num(double v, const char* spec = "{:.10g}") { return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : ""; }
std::string fmt_alpha(double a) { return fmt::format("{:g}", a); }

// "90.17 +- 0.14" from fractions; the paper's style (mean +- std).
std::string fmt_pct(const Stat& s) {
  if (s.n == 0 || !std::isfinite(s.mean)) return "-";
  if (!std::isfinite(s.std)) return fmt::format("{:.2f}", 100.0 * s.mean);
  return fmt::format("{:.2f} +- {:.2f}", 100.0 * s.mean, 100.0 * s.std);
}
std::string fmt_iter(const Stat& s) {
  if (s.n == 0 || !std::isfinite(s.mean)) return "-";
  if (!std::isfinite(s.std)) return fmt::format("{:.0f}", s.mean);
  return fmt::format("{:.0f} +- {:.0f}", s.mean, s.std);
}
std::string fmt_paper(double mean, double std, const char* spec) {
  return fmt::format(fmt::runtime(spec), mean) + " +- " + fmt::format(fmt::runtime(spec), std);
}
std::string fmt_counts(const PointSummary& p) {
  std::string s = fmt::format("{}/{}", p.n_converged, p.n_runs);
  if (p.n_not_converged > 0) s += fmt::format(", {} not conv.", p.n_not_converged);
  if (p.n_diverged > 0) s += fmt::format(", {} diverged", p.n_diverged);
  return s;
}

// An interval as "[89.98, 90.50]" (percent, 2 decimals) or "[10301, 11049]" (iterations, 0);
// `sign`: "+" on positive bounds (intervals of differences).
std::string fmt_interval(const Interval& ci, double scale, int decimals, bool sign = false) {
  if (!std::isfinite(ci.low) || !std::isfinite(ci.high)) return "-";
  const char* spec = sign ? "{:+.{}f}" : "{:.{}f}";
  return "[" + fmt::format(fmt::runtime(spec), scale * ci.low, decimals) + ", " +
         fmt::format(fmt::runtime(spec), scale * ci.high, decimals) + "]";
}
// The 95 % t interval of a point's mean.
std::string fmt_pct_ci(const Stat& s) { return fmt_interval(mean_interval(s), 100.0, 2); }
std::string fmt_iter_ci(const Stat& s) { return fmt_interval(mean_interval(s), 1.0, 0); }

// A test's cells: the difference (signed), its interval, p (two significant digits).
struct TestCells {
  std::string difference, interval, p;
};
TestCells test_cells(const TTest& t, double scale, int decimals) {
  TestCells c;
  c.difference = std::isfinite(t.difference) ? fmt::format("{:+.{}f}", scale * t.difference, decimals) : "-";
  c.interval = t.pairing == Pairing::kNone ? "-" : fmt_interval(t.interval, scale, decimals, true);
  c.p = std::isfinite(t.p) ? fmt::format("{:.2g}", t.p) : "-";
  return c;
}

// How a test was made, in words: "paired by seed, 3 pairs", "Welch, 2 vs 10 runs".
std::string pairing_text(const TTest& t) {
  // A test without a p had no spread to scale the difference by.
  const std::string flat = std::isnan(t.p) ? " (no spread: no p)" : "";
  switch (t.pairing) {
    case Pairing::kPaired: return fmt::format("paired by seed, {} pairs{}", t.n_x, flat);
    case Pairing::kWelch: return fmt::format("Welch, {} vs {} runs{}", t.n_x, t.n_y, flat);
    case Pairing::kNone: break;
  }
  return fmt::format("no test: {} vs {} converged runs (2 each needed)", t.n_x, t.n_y);
}
std::string pairing_text(const PointComparison& c) {
  const std::string acc = pairing_text(c.accuracy), time = pairing_text(c.time);
  if (c.time.pairing == Pairing::kNone && c.time.n_x == 0 && c.time.n_y == 0) return acc;  // no time compared
  return acc == time ? acc : "accuracy: " + acc + "; time: " + time;
}

// Table 2's B: a B_opt only where there was a choice.
std::string fmt_b_opt(int64_t batch_size, int64_t batch_sizes_run) {
  return batch_sizes_run >= 2 ? fmt::format("{} (B_opt of {} B)", batch_size, batch_sizes_run)
                              : fmt::format("{} (only B run)", batch_size);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Paper order of the configs in Table 2 (C1, F1, C2) and Table 3 (F1, C1, C2).
int rank(const std::string& config, bool table3) {
  static const std::vector<std::string> t2{"C1", "F1", "C2"}, t3{"F1", "C1", "C2"};
  const auto& order = table3 ? t3 : t2;
  const auto it = std::find(order.begin(), order.end(), config);
  return it == order.end() ? 100 : static_cast<int>(it - order.begin());
}

// Which configs have more than one setting: their labels and file names carry the setting id.
class Labels {
 public:
  explicit Labels(const std::vector<PointSummary>& points) {
    std::map<std::string, std::set<std::string>> settings;
    for (const auto& p : points) settings[p.config].insert(p.setting_id);
    for (const auto& [c, s] : settings) {
      if (s.size() > 1) multi_.insert(c);
    }
  }
  std::string label(const std::string& config, const std::string& setting) const {
    return multi_.count(config) ? config + " [" + setting + "]" : config;
  }
  std::string file_stem(const std::string& config, const std::string& setting) const {
    return multi_.count(config) ? lower(config) + "-" + setting : lower(config);
  }

 private:
  std::set<std::string> multi_;
};

// Figure number in the paper: 1 for C1, 2 for F1 and C2.
int figure_number(const std::string& config) { return config == "C1" ? 1 : 2; }

const PointSummary& key_of(const Table2Row& r) { return r.point; }
const Table3Row& key_of(const Table3Row& r) { return r; }

template <typename Row>
void sort_rows(std::vector<Row>& rows, bool table3) {
  std::stable_sort(rows.begin(), rows.end(), [table3](const Row& x, const Row& y) {
    const auto& a = key_of(x);
    const auto& b = key_of(y);
    const int ra = rank(a.config, table3), rb = rank(b.config, table3);
    if (ra != rb) return ra < rb;
    if (a.config != b.config) return a.config < b.config;
    return a.setting_id < b.setting_id;
  });
}

// --- gnuplot ----------------------------------------------------------------------------------------

bool is_executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// Runs `program args...` in `cwd` with stdout and stderr appended to `log`
// (fork + exec: no shell, so no quoting of paths). Returns the exit status.
int run_program(const std::string& program, const std::vector<std::string>& args, const std::string& cwd,
                const std::string& log) {
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, STDIN_FILENO);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Gnuplot {
  std::string program;
  std::string png_terminal;  // pngcairo when built in, else libgd's png
};

struct Series {
  std::string title;
  std::string data_rows;  // "x y dy ..." lines
};

// How draw() plots its series: `using` columns, the style after "with", and
// what follows each series or the whole plot.
struct PlotSpec {
  std::string using_spec;        // "1:2:3"
  std::string with;              // "yerrorlines": each series adds lw 2 and a point type
  bool point_types = true;       // false for styles without points ("lines")
  std::string per_series_extra;  // one more plot of each series' block (labels), or ""
  std::string trailing;          // plot items after the series (horizontal lines), or ""
};

// Writes plots/<stem>.dat and plots/<stem>.gp and runs gnuplot for <stem>.svg and <stem>.png.
bool draw(const Gnuplot& gp, const fs::path& out, const std::string& stem, const std::string& setup,
          const std::vector<Series>& series, const PlotSpec& spec, std::vector<std::string>& files,
          std::vector<std::string>& warnings) {
  std::string dat = "# data for " + stem + ".svg; one block per curve (gnuplot `index`)\n";
  std::string plot = "plot ";
  int index = 0;
  for (const auto& s : series) {
    if (s.data_rows.empty()) continue;
    if (index > 0) dat += "\n\n";
    dat += "# " + s.title + "\n" + s.data_rows;
    const std::string file = index == 0 ? "\"" + std::string(kPlotsDir) + "/" + stem + ".dat\"" : "\"\"";
    if (index > 0) plot += ", \\\n     ";
    plot += fmt::format("{} index {} using {} with {} lw 2", file, index, spec.using_spec, spec.with);
    if (spec.point_types) plot += fmt::format(" pt {}", index % 2 == 0 ? 7 : 5);
    plot += fmt::format(" title \"{}\"", s.title);
    if (!spec.per_series_extra.empty()) {
      plot += fmt::format(", \\\n     \"\" index {} {}", index, spec.per_series_extra);
    }
    ++index;
  }
  if (index == 0) return false;
  if (!spec.trailing.empty()) plot += ", \\\n     " + spec.trailing;
  const std::string script =
      fmt::format("# gnuplot script written by `nesgd report`; run from the report folder: gnuplot {}/{}.gp\n"
                  "set encoding utf8\n"
                  "set terminal svg size {},{} dynamic noenhanced font \"sans,12\" background \"white\"\n"
                  "set output \"{}.svg\"\n"
                  "set grid\n"
                  "set key below\n"
                  "{}"
                  "{}\n"
                  "set terminal {} size {},{} noenhanced font \"sans,12\" background \"white\"\n"
                  "set output \"{}.png\"\n"
                  "replot\n",
                  kPlotsDir, stem, kSvgWidth, kSvgHeight, stem, setup, plot, gp.png_terminal,
                  kPngWidth, kPngHeight, stem);
  write_file_durable((out / kPlotsDir / (stem + ".dat")).string(), dat);
  write_file_durable((out / kPlotsDir / (stem + ".gp")).string(), script);
  files.push_back(std::string(kPlotsDir) + "/" + stem + ".dat");
  files.push_back(std::string(kPlotsDir) + "/" + stem + ".gp");
  const std::string log = (out / kPlotsDir / "gnuplot.log").string();
  const int rc = run_program(gp.program, {std::string(kPlotsDir) + "/" + stem + ".gp"}, out.string(), log);
  if (rc != 0 || !fs::exists(out / (stem + ".svg")) || !fs::exists(out / (stem + ".png"))) {
    warnings.push_back("gnuplot failed on " + stem + " (exit " + std::to_string(rc) + "): see " + log);
    return false;
  }
  files.push_back(stem + ".svg");
  files.push_back(stem + ".png");
  return true;
}

std::string xtics(const std::vector<int64_t>& values) {
  std::string s = "set xtics (";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  return s + ")\n";
}

struct Figure {
  std::string file_stem;  // without extension
  std::string caption;
  std::string config;
  std::string setting_id;
};

std::vector<Figure> draw_figures(const Gnuplot& gp, const fs::path& out, const std::vector<PointSummary>& points,
                                 const Labels& labels, const std::string& seeds_note,
                                 std::vector<std::string>& files, std::vector<std::string>& warnings) {
  std::vector<Figure> figures;
  std::map<std::pair<std::string, std::string>, std::vector<PointSummary>> settings;
  for (const auto& p : points) settings[{p.config, p.setting_id}].push_back(p);

  for (const auto& [key, ps] : settings) {
    const auto& [config, setting] = key;
    const std::string label = labels.label(config, setting);
    const std::string stem_cfg = labels.file_stem(config, setting);
    // Figures 1/2 show the alphas swept over B; an alpha run at one B only
    // (Table 3's alpha grid) is a point of Figure 3, not a curve here.
    std::map<double, std::vector<PointSummary>> by_alpha;
    for (const auto& p : ps) by_alpha[p.alpha].push_back(p);
    std::set<int64_t> bs;
    for (auto it = by_alpha.begin(); it != by_alpha.end();) {
      if (it->second.size() < 2) {
        it = by_alpha.erase(it);
        continue;
      }
      for (const auto& p : it->second) bs.insert(p.batch_size);
      ++it;
    }
    if (bs.size() >= 2) {
      // Figures 1/2: against B, one curve per alpha.
      for (const bool accuracy : {true, false}) {
        std::vector<Series> series;
        for (const auto& [alpha, curve] : by_alpha) {
          Series s;
          s.title = "alpha = " + fmt_alpha(alpha);
          for (const auto& p : curve) {  // sorted by B (summarize's order)
            const Stat& st = accuracy ? p.accuracy : p.time;
            if (st.n == 0) continue;
            const double scale = accuracy ? 100.0 : 1.0;
            s.data_rows += fmt::format("{} {} {} {} {}\n", p.batch_size, scale * st.mean,
                                       std::isfinite(st.std) ? scale * st.std : 0.0, p.n_converged, p.n_runs);
          }
          series.push_back(s);
        }
        const std::string what = accuracy ? "accuracy" : "time";
        const std::string stem = fmt::format("figure{}-{}-{}", figure_number(config), stem_cfg, what);
        const std::string title = fmt::format("{}: {} against batch size ({})", label,
                                              accuracy ? "test accuracy" : "convergence time", seeds_note);
        // Margins of a quarter decade either side, so the end points and their tics show.
        const std::string setup = fmt::format(
            "set title \"{}\"\nset logscale x\nset xrange [{}:{}]\n{}set xlabel \"batch size B (log scale)\"\n"
            "set ylabel \"{}\"\n",
            title, static_cast<double>(*bs.begin()) / kLogMargin, static_cast<double>(*bs.rbegin()) * kLogMargin,
            xtics({bs.begin(), bs.end()}),
            accuracy ? "test accuracy (%), mean +- std over converged seeds"
                     : "convergence time (iterations), mean +- std");
        if (draw(gp, out, stem, setup, series, PlotSpec{"1:2:3", "yerrorlines", true, "", ""}, files, warnings)) {
          figures.push_back({stem, title, config, setting});
        }
      }
    }
  }
  // Figure 3: accuracy against convergence time, reduce B vs raise alpha.
  for (const auto& s : figure3_series(points)) {
    if (s.reduce_b.size() + s.raise_alpha.size() < 2) continue;
    auto rows = [](const std::vector<PointSummary>& v, bool by_b) {
      std::string r;
      for (const auto& p : v) {
        if (p.accuracy.n == 0 || p.time.n == 0) continue;
        // alpha = 1 at the large B is where both paths start: labelled once, as B.
        const std::string label = by_b ? "B=" + std::to_string(p.batch_size) : p.alpha == 1.0 ? "" : "a=" + fmt_alpha(p.alpha);
        r += fmt::format("{} {} {} {} \"{}\"\n", p.time.mean, 100.0 * p.accuracy.mean,
                         std::isfinite(p.time.std) ? p.time.std : 0.0,
                         std::isfinite(p.accuracy.std) ? 100.0 * p.accuracy.std : 0.0, label);
      }
      return r;
    };
    const std::string label = labels.label(s.config, s.setting_id);
    std::vector<Series> series{
        {fmt::format("reduce B at alpha = 1 (B = {} down to {})", s.large_batch,
                     s.reduce_b.empty() ? s.large_batch : s.reduce_b.back().batch_size),
         rows(s.reduce_b, true)},
        {fmt::format("raise alpha at B = {}", s.large_batch), rows(s.raise_alpha, false)}};
    if (series[1].data_rows.find('\n') == series[1].data_rows.rfind('\n')) {
      series[1].data_rows.clear();  // alpha = 1 alone is the first curve's start, not a path
    }
    const std::string stem = "figure3-" + labels.file_stem(s.config, s.setting_id);
    const std::string title = fmt::format("{}: test accuracy against convergence time ({})", label, seeds_note);
    const std::string setup = fmt::format(
        "set title \"{}\"\nset xlabel \"convergence time (iterations)\"\n"
        "set ylabel \"test accuracy (%)\"\n",
        title);
    const PlotSpec spec{"1:2:3:4", "xyerrorlines", true,
                        "using 1:2:5 with labels offset char 1,0.7 font \",9\" notitle", ""};
    if (draw(gp, out, stem, setup, series, spec, files, warnings)) {
      figures.push_back({stem, title, s.config, s.setting_id});
    }
  }
  return figures;
}

// The loss-curve figures: one per point (config, setting, B, alpha), every
// seed's training loss against iteration on a log axis, with L* and L**.
// Curves are read from the records one point at a time and dropped once its
// data file is written, so a store of thousands of runs never holds them twice.
struct CurveFigures {
  std::vector<Figure> figures;
  size_t points_without_curves = 0;
};

CurveFigures draw_loss_curves(const Gnuplot& gp, const fs::path& out, const std::vector<nlohmann::json>& records,
                              const std::vector<RunRow>& rows, const Labels& labels, std::vector<std::string>& files,
                              std::vector<std::string>& warnings) {
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
    std::set<double> l_stars, l_stops;
    std::set<std::string> measures;
    for (size_t i : indices) measures.insert(rows[i].loss_measure);
    for (const auto& c : curves) {
      Series s;
      s.title = c.status == "converged" ? fmt::format("seed {}: converged at {}", c.seed, c.iterations)
                                        : fmt::format("seed {}: {} at {}", c.seed, c.status, c.iterations);
      for (const auto& [iteration, loss] : c.points) s.data_rows += fmt::format("{} {:.10g}\n", iteration, loss);
      if (std::isfinite(c.l_star) && c.l_star > 0.0) l_stars.insert(c.l_star);
      if (std::isfinite(c.l_stop) && c.l_stop > 0.0) l_stops.insert(c.l_stop);
      series.push_back(std::move(s));
    }
    if (std::all_of(series.begin(), series.end(), [](const Series& s) { return s.data_rows.empty(); })) {
      ++result.points_without_curves;
      continue;
    }
    // The thresholds as horizontal lines (one setting has one of each; more are drawn if records disagree).
    std::string trailing;
    for (double l : l_stars) {
      trailing += fmt::format("{}{:g} with lines dt 2 lw 2 lc rgb \"#555555\" title \"L* = {:g} (LR halved)\"",
                              trailing.empty() ? "" : ", \\\n     ", l, l);
    }
    for (double l : l_stops) {
      trailing += fmt::format("{}{:g} with lines dt 3 lw 2 lc rgb \"black\" title \"L** = {:g} (stop)\"",
                              trailing.empty() ? "" : ", \\\n     ", l, l);
    }
    std::string measure;
    for (const auto& m : measures) measure += (measure.empty() ? "" : ", ") + m;
    const std::string point = fmt::format("{}, B = {}, alpha = {}", labels.label(config, setting), batch, fmt_alpha(alpha));
    const std::string stem =
        fmt::format("curves-{}-b{}-alpha{}", labels.file_stem(config, setting), batch, fmt_alpha(alpha));
    const std::string setup = fmt::format(
        "set title \"{}: training loss of each seed\"\nset logscale y\nset format y \"%g\"\n"
        "set xlabel \"iteration\"\nset ylabel \"training loss ({}; log scale)\"\n",
        point, measure);
    if (draw(gp, out, stem, setup, series, PlotSpec{"1:2", "lines", false, "", trailing}, files, warnings)) {
      result.figures.push_back(
          {stem, fmt::format("{}: training loss of {} seed{} against iteration, with L* and L**. {}", point,
                             curves.size(), curves.size() == 1 ? "" : "s", kCurveCaption),
           config, setting});
    }
  }
  return result;
}

// --- page pieces ------------------------------------------------------------------------------------

struct StoreFacts {
  size_t runs = 0, converged = 0, not_converged = 0, diverged = 0;
  std::set<int64_t> subsets;         // train_subset values (0 = whole set)
  std::set<int64_t> caps;            // max_iterations values
  std::set<std::string> loss_measures;
  std::set<int64_t> seeds_per_point;
};

std::string quick_banner(const StoreFacts& f) {
  bool reduced = false;
  for (int64_t s : f.subsets) reduced = reduced || s > 0;
  if (!reduced) return "";
  std::string subsets, caps;
  for (int64_t s : f.subsets) subsets += (subsets.empty() ? "" : ", ") + (s > 0 ? std::to_string(s) : "all");
  for (int64_t c : f.caps) caps += (caps.empty() ? "" : ", ") + (c > 0 ? std::to_string(c) : "none");
  return "QUICK / REDUCED RUNS: trained on a training subset (" + subsets +
         " samples), iteration cap " + caps +
         ". They keep the shape of the paper's study, not its scale: absolute accuracies, convergence times "
         "and batch sizes are not comparable with the paper's numbers shown beside them.";
}

std::string seeds_note(const StoreFacts& f) {
  if (f.seeds_per_point.empty()) return "no runs";
  const int64_t lo = *f.seeds_per_point.begin(), hi = *f.seeds_per_point.rbegin();
  return lo == hi ? fmt::format("{} seeds per point", lo) : fmt::format("{}-{} seeds per point", lo, hi);
}

}  // namespace

// --- tables -----------------------------------------------------------------------------------------

namespace {

Table summary_table(const std::vector<PointSummary>& points) {
  Table t;
  t.header = {"config", "setting_id", "batch_size", "alpha", "n_runs", "n_converged", "n_not_converged",
              "n_diverged", "test_accuracy_mean", "test_accuracy_std", "test_accuracy_ci_low",
              "test_accuracy_ci_high", "convergence_time_mean", "convergence_time_std", "convergence_time_ci_low",
              "convergence_time_ci_high"};
  for (const auto& p : points) {
    const Interval acc = mean_interval(p.accuracy), time = mean_interval(p.time);
    t.rows.push_back({p.config, p.setting_id, std::to_string(p.batch_size), fmt_alpha(p.alpha),
                      std::to_string(p.n_runs), std::to_string(p.n_converged), std::to_string(p.n_not_converged),
                      std::to_string(p.n_diverged), num(p.accuracy.mean), num(p.accuracy.std), num(acc.low),
                      num(acc.high), num(p.time.mean), num(p.time.std), num(time.low), num(time.high)});
  }
  return t;
}

std::vector<Table2Row> sorted_table2(const std::vector<PointSummary>& points) {
  auto rows = table2(points);
  sort_rows(rows, false);
  return rows;
}
std::vector<Table3Row> sorted_table3(const std::vector<PointSummary>& points) {
  auto rows = table3(points);
  sort_rows(rows, true);
  return rows;
}

// Table 2 to read (Markdown, HTML): formatted, ours beside the paper's.
Table table2_table(const std::vector<PointSummary>& points) {
  const Labels labels(points);
  Table t;
  t.header = {"config", "alpha", "B", "runs (conv./all)", "test acc (%)", "95 % CI", "conv. time (iterations)",
              "95 % CI", "paper B_opt", "paper test acc (%)", "paper conv. time"};
  for (const auto& row : sorted_table2(points)) {
    const PointSummary& r = row.point;
    const PaperTable2Row* paper = row.paper;
    t.rows.push_back({labels.label(r.config, r.setting_id), fmt_alpha(r.alpha),
                      fmt_b_opt(r.batch_size, row.batch_sizes_run), fmt_counts(r), fmt_pct(r.accuracy),
                      fmt_pct_ci(r.accuracy), fmt_iter(r.time), fmt_iter_ci(r.time),
                      paper ? std::to_string(paper->b_opt) : "-",
                      paper ? fmt_paper(paper->acc_mean, paper->acc_std, "{:.2f}") : "-",
                      paper ? fmt_paper(paper->time_mean, paper->time_std, "{:.0f}") : "-"});
  }
  return t;
}

// Table 2 to compute with (CSV): one number per column, fractions not percent.
Table table2_data(const std::vector<PointSummary>& points) {
  Table t;
  t.header = {"config", "setting_id", "alpha", "batch_size", "batch_sizes_run", "test_accuracy_mean",
              "test_accuracy_std", "test_accuracy_ci_low", "test_accuracy_ci_high", "convergence_time_mean",
              "convergence_time_std", "convergence_time_ci_low", "convergence_time_ci_high", "n_runs", "n_converged",
              "paper_b_opt", "paper_test_accuracy_mean", "paper_test_accuracy_std", "paper_convergence_time_mean",
              "paper_convergence_time_std"};
  for (const auto& row : sorted_table2(points)) {
    const PointSummary& r = row.point;
    const PaperTable2Row* p = row.paper;
    const Interval acc = mean_interval(r.accuracy), time = mean_interval(r.time);
    t.rows.push_back({r.config, r.setting_id, fmt_alpha(r.alpha), std::to_string(r.batch_size),
                      std::to_string(row.batch_sizes_run), num(r.accuracy.mean), num(r.accuracy.std), num(acc.low),
                      num(acc.high), num(r.time.mean), num(r.time.std), num(time.low), num(time.high),
                      std::to_string(r.n_runs), std::to_string(r.n_converged), p ? std::to_string(p->b_opt) : "",
                      p ? num(p->acc_mean / 100.0) : "", p ? num(p->acc_std / 100.0) : "",
                      p ? num(p->time_mean) : "", p ? num(p->time_std) : ""});
  }
  return t;
}

// --- the tests behind Tables 2 and 3 ---

// One comparison: what is compared with what, and the test of each quantity.
struct ComparisonLine {
  std::string config;       // label
  std::string config_name;  // F1 (CSV)
  std::string setting_id;
  std::string row;      // "alpha 1.5, B 2000"
  std::string against;  // "alpha 1, B 900" or "paper: ..."
  PointComparison test;
};

Table comparisons_table(const std::vector<ComparisonLine>& lines) {
  Table t;
  t.header = {"config", "row", "against", "test", "diff. test acc (pp)", "95 % CI", "p", "diff. conv. time (it.)",
              "95 % CI", "p"};
  for (const auto& l : lines) {
    const TestCells acc = test_cells(l.test.accuracy, 100.0, 2), time = test_cells(l.test.time, 1.0, 0);
    t.rows.push_back({l.config, l.row, l.against, pairing_text(l.test), acc.difference, acc.interval, acc.p,
                      time.difference, time.interval, time.p});
  }
  return t;
}

// Long form for pandas: one row per comparison and quantity, numbers only
// (differences in the quantity's unit: accuracy as a fraction, time in iterations).
Table comparisons_data(const std::vector<ComparisonLine>& lines) {
  Table t;
  t.header = {"config", "setting_id", "row", "against", "quantity", "test", "n_x", "n_y", "difference", "ci_low",
              "ci_high", "standard_error", "t", "df", "p"};
  auto test_name = [](const TTest& x) {
    return x.pairing == Pairing::kPaired ? "paired" : x.pairing == Pairing::kWelch ? "welch" : "none";
  };
  for (const auto& l : lines) {
    for (const auto& [quantity, x] : {std::pair<const char*, const TTest&>{"test_accuracy", l.test.accuracy},
                                      std::pair<const char*, const TTest&>{"convergence_time", l.test.time}}) {
      if (x.pairing == Pairing::kNone && x.n_x == 0 && x.n_y == 0) continue;  // not compared (no published time)
      t.rows.push_back({l.config_name, l.setting_id, l.row, l.against, quantity, test_name(x), std::to_string(x.n_x),
                        std::to_string(x.n_y), num(x.difference), num(x.interval.low), num(x.interval.high),
                        num(x.standard_error), num(x.t), num(x.df), num(x.p)});
    }
  }
  return t;
}

std::string point_text(const PointSummary& p) { return fmt::format("alpha {}, B {}", fmt_alpha(p.alpha), p.batch_size); }

std::vector<ComparisonLine> table2_comparisons(const std::vector<PointSummary>& points) {
  const Labels labels(points);
  std::vector<ComparisonLine> lines;
  for (const auto& r : sorted_table2(points)) {
    const ComparisonLine base{labels.label(r.point.config, r.point.setting_id), r.point.config, r.point.setting_id,
                              point_text(r.point), "", {}};
    if (r.against_reference) {
      ComparisonLine l = base;
      l.against = point_text(*r.reference) + " (ours)";
      l.test = *r.against_reference;
      lines.push_back(l);
    }
    if (r.against_paper) {
      ComparisonLine l = base;
      l.against = fmt::format("paper: alpha {}, B {}, {} runs", fmt_alpha(r.paper->alpha), r.paper->b_opt,
                              kPaperRunsPerPoint);
      l.test = *r.against_paper;
      lines.push_back(l);
    }
  }
  return lines;
}

std::vector<ComparisonLine> table3_comparisons(const std::vector<PointSummary>& points) {
  const Labels labels(points);
  std::vector<ComparisonLine> lines;
  for (const auto& r : sorted_table3(points)) {
    const ComparisonLine base{labels.label(r.config, r.setting_id), r.config, r.setting_id, "", "", {}};
    if (r.with_vs_without) {
      ComparisonLine l = base;
      l.row = "with NE: " + point_text(*r.with_ne);
      l.against = "without NE: " + point_text(*r.without_ne);
      l.test = *r.with_vs_without;
      lines.push_back(l);
    }
    if (r.without_vs_paper) {
      ComparisonLine l = base;
      l.row = "without NE: " + point_text(*r.without_ne);
      l.against = fmt::format("paper without NE: alpha 1, B {}, {} runs", r.paper->b_without, kPaperRunsPerPoint);
      l.test = *r.without_vs_paper;
      lines.push_back(l);
    }
    if (r.with_vs_paper) {
      ComparisonLine l = base;
      l.row = "with NE: " + point_text(*r.with_ne);
      l.against = fmt::format("paper with NE: alpha {}, B {}, {} runs", fmt_alpha(r.paper->alpha_with),
                              r.paper->b_with, kPaperRunsPerPoint);
      l.test = *r.with_vs_paper;
      lines.push_back(l);
    }
  }
  return lines;
}

// Table 3's large batch, said plainly when it is not the paper's.
std::string fmt_large_batch(int64_t b) {
  return b == kPaperLargeBatch ? std::to_string(b) : fmt::format("{} (largest B run; the paper's is {})", b, kPaperLargeBatch);
}

Table table3_table(const std::vector<PointSummary>& points) {
  const Labels labels(points);
  Table t;
  t.header = {"config", "without NE: B", "test acc (%)", "95 % CI", "conv. time", "with NE at large B: B", "alpha",
              "runs (conv./all)", "test acc (%)", "95 % CI", "conv. time", "paper without NE (B, acc)",
              "paper with NE at B = 5000 (alpha, acc)"};
  for (const auto& r : sorted_table3(points)) {
    const PaperTable3Row* p = r.paper;
    const auto& wo = r.without_ne;
    const auto& w = r.with_ne;
    t.rows.push_back(
        {labels.label(r.config, r.setting_id), wo ? fmt_b_opt(wo->batch_size, r.without_ne_batch_sizes) : "-",
         wo ? fmt_pct(wo->accuracy) : "-", wo ? fmt_pct_ci(wo->accuracy) : "-", wo ? fmt_iter(wo->time) : "-",
         w ? fmt_large_batch(w->batch_size) : "-", w ? fmt_alpha(w->alpha) : "-", w ? fmt_counts(*w) : "-",
         w ? fmt_pct(w->accuracy) : "-", w ? fmt_pct_ci(w->accuracy) : "-", w ? fmt_iter(w->time) : "-",
         p ? fmt::format("{}, {}", p->b_without, fmt_paper(p->acc_without_mean, p->acc_without_std, "{:.2f}")) : "-",
         p ? fmt::format("{}, {}", fmt_alpha(p->alpha_with), fmt_paper(p->acc_with_mean, p->acc_with_std, "{:.2f}"))
           : "-"});
  }
  return t;
}

Table table3_data(const std::vector<PointSummary>& points) {
  Table t;
  t.header = {"config", "setting_id", "b_without", "b_without_batch_sizes_run", "test_accuracy_without_mean",
              "test_accuracy_without_std", "convergence_time_without_mean", "b_with", "alpha_with",
              "test_accuracy_with_mean", "test_accuracy_with_std", "convergence_time_with_mean", "n_runs_with",
              "n_converged_with", "paper_b_without", "paper_test_accuracy_without_mean",
              "paper_test_accuracy_without_std", "paper_b_with", "paper_alpha_with", "paper_test_accuracy_with_mean",
              "paper_test_accuracy_with_std"};
  for (const auto& r : sorted_table3(points)) {
    const PaperTable3Row* p = r.paper;
    const auto& wo = r.without_ne;
    const auto& w = r.with_ne;
    t.rows.push_back({r.config, r.setting_id, wo ? std::to_string(wo->batch_size) : "",
                      wo ? std::to_string(r.without_ne_batch_sizes) : "", wo ? num(wo->accuracy.mean) : "",
                      wo ? num(wo->accuracy.std) : "", wo ? num(wo->time.mean) : "",
                      w ? std::to_string(w->batch_size) : "", w ? fmt_alpha(w->alpha) : "",
                      w ? num(w->accuracy.mean) : "", w ? num(w->accuracy.std) : "", w ? num(w->time.mean) : "",
                      w ? std::to_string(w->n_runs) : "", w ? std::to_string(w->n_converged) : "",
                      p ? std::to_string(p->b_without) : "", p ? num(p->acc_without_mean / 100.0) : "",
                      p ? num(p->acc_without_std / 100.0) : "", p ? std::to_string(p->b_with) : "",
                      p ? fmt_alpha(p->alpha_with) : "", p ? num(p->acc_with_mean / 100.0) : "",
                      p ? num(p->acc_with_std / 100.0) : ""});
  }
  return t;
}

// Every point and the runs behind it.
Table points_table(const std::vector<PointSummary>& points, const Labels& labels) {
  Table t;
  t.header = {"config", "B", "alpha", "converged / runs", "not converged", "diverged", "test acc (%)", "95 % CI",
              "conv. time", "95 % CI"};
  for (const auto& p : points) {
    t.rows.push_back({labels.label(p.config, p.setting_id), std::to_string(p.batch_size), fmt_alpha(p.alpha),
                      fmt::format("{}/{}", p.n_converged, p.n_runs), std::to_string(p.n_not_converged),
                      std::to_string(p.n_diverged), fmt_pct(p.accuracy), fmt_pct_ci(p.accuracy), fmt_iter(p.time),
                      fmt_iter_ci(p.time)});
  }
  return t;
}

// The runs that stopped without converging (none: no rows).
Table failed_runs_table(const std::vector<RunRow>& runs) {
  Table t;
  t.header = {"run", "config", "B", "alpha", "seed", "status", "iterations"};
  for (const auto& r : runs) {
    if (r.status == "converged") continue;
    t.rows.push_back({r.run_id, r.config, std::to_string(r.batch_size), fmt_alpha(r.alpha), std::to_string(r.seed),
                      r.status, std::to_string(r.iterations)});
  }
  return t;
}

}  // namespace

std::string summary_csv(const std::vector<PointSummary>& points) { return to_csv(summary_table(points)); }
std::string table2_markdown(const std::vector<PointSummary>& points) { return to_markdown(table2_table(points)); }
std::string table2_csv(const std::vector<PointSummary>& points) { return to_csv(table2_data(points)); }
std::string table3_markdown(const std::vector<PointSummary>& points) { return to_markdown(table3_table(points)); }
std::string table3_csv(const std::vector<PointSummary>& points) { return to_csv(table3_data(points)); }
std::string table2_tests_markdown(const std::vector<PointSummary>& points) {
  return to_markdown(comparisons_table(table2_comparisons(points)));
}
std::string table2_tests_csv(const std::vector<PointSummary>& points) {
  return to_csv(comparisons_data(table2_comparisons(points)));
}
std::string table3_tests_markdown(const std::vector<PointSummary>& points) {
  return to_markdown(comparisons_table(table3_comparisons(points)));
}
std::string table3_tests_csv(const std::vector<PointSummary>& points) {
  return to_csv(comparisons_data(table3_comparisons(points)));
}

std::string find_gnuplot(const std::string& hint) {
  std::string name = hint;
  if (name.empty()) {
    if (const char* env = std::getenv("NESGD_GNUPLOT")) name = env;
  }
  if (name.empty()) name = "gnuplot";
  if (name.find('/') != std::string::npos) return is_executable(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / name;
    if (is_executable(candidate)) return candidate.string();
  }
  return "";
}

// --- the whole report -------------------------------------------------------------------------------

ReportOutput write_report(const std::vector<nlohmann::json>& records, const std::vector<nlohmann::json>& sweeps,
                          const ReportOptions& options) {
  if (options.out_dir.empty()) throw Error("--out: give a folder for the report");
  const fs::path out(options.out_dir);
  std::error_code ec;
  fs::create_directories(out / kPlotsDir, ec);
  if (ec) throw Error("cannot create " + (out / kPlotsDir).string() + ": " + ec.message());

  ReportOutput result;
  std::vector<RunRow> rows;
  StoreFacts facts;
  std::set<std::string> stored_ids;
  for (const auto& r : records) {
    rows.push_back(run_row_from_record(r));
    const RunRow& row = rows.back();
    stored_ids.insert(row.run_id);
    ++facts.runs;
    if (row.status == "converged") ++facts.converged;
    if (row.status == "not_converged") ++facts.not_converged;
    if (row.status == "diverged") ++facts.diverged;
    facts.subsets.insert(row.train_subset);
    facts.caps.insert(row.max_iterations);
    facts.loss_measures.insert(row.loss_measure);
  }
  const std::vector<PointSummary> points = summarize(rows);
  for (const auto& p : points) facts.seeds_per_point.insert(p.n_runs);
  result.runs = rows.size();
  result.points = points.size();
  const Labels labels(points);

  auto write = [&](const std::string& name, const std::string& text) {
    write_file_durable((out / name).string(), text);
    result.files.push_back(name);
  };
  const Table t2 = table2_table(points), t3 = table3_table(points);
  const auto c2 = table2_comparisons(points), c3 = table3_comparisons(points);
  const Table t2_tests = comparisons_table(c2), t3_tests = comparisons_table(c3);
  write("summary.csv", to_csv(summary_table(points)));
  write("table2.md", to_markdown(t2));
  write("table2.csv", to_csv(table2_data(points)));
  write("table2-tests.md", to_markdown(t2_tests));
  write("table2-tests.csv", to_csv(comparisons_data(c2)));
  write("table3.md", to_markdown(t3));
  write("table3.csv", to_csv(table3_data(points)));
  write("table3-tests.md", to_markdown(t3_tests));
  write("table3-tests.csv", to_csv(comparisons_data(c3)));

  // Figures.
  std::vector<Figure> figures;
  CurveFigures curves;
  if (options.figures) {
    const std::string program = find_gnuplot(options.gnuplot);
    if (program.empty()) {
      result.warnings.push_back("figures not drawn: gnuplot not found; " + std::string(kInstallGnuplot) +
                                ", then run `nesgd report` again");
    } else {
      Gnuplot gp{program, "png"};
      const std::string log = (out / kPlotsDir / "gnuplot.log").string();
      fs::remove(log, ec);
      if (run_program(program, {"-e", "set terminal pngcairo"}, "", "/dev/null") == 0) gp.png_terminal = "pngcairo";
      figures = draw_figures(gp, out, points, labels, seeds_note(facts), result.files, result.warnings);
      curves = draw_loss_curves(gp, out, records, rows, labels, result.files, result.warnings);
      result.figures_drawn = !figures.empty() || !curves.figures.empty();
      if (fs::exists(log, ec) && fs::file_size(log, ec) == 0) fs::remove(log, ec);  // gnuplot had nothing to say
    }
  } else {
    result.warnings.push_back("figures not drawn (--no-figures)");
  }

  // Sweeps: how much of each grid is stored.
  // A grid swept again with other execution-only settings (threads, say) is
  // a second record of the same runs: it is listed once.
  struct SweepFacts {
    std::string name;
    std::set<std::string> ids;
    size_t grid = 0, stored = 0;
  };
  std::vector<SweepFacts> sweep_facts;
  for (const auto& s : sweeps) {
    SweepFacts f;
    f.name = "?";
    json_read::get(s, "name", f.name, "sweep record");
    if (const auto* ids = json_read::find(s, "run_ids")) {
      for (const auto& id : json_read::array(*ids, "sweep record " + f.name + ": 'run_ids'")) {
        const std::string text = json_read::string(id, "sweep record " + f.name + ": each of 'run_ids'");
        f.ids.insert(text);
        ++f.grid;
        if (stored_ids.count(text)) ++f.stored;
      }
    }
    const bool seen = std::any_of(sweep_facts.begin(), sweep_facts.end(),
                                  [&f](const SweepFacts& g) { return g.name == f.name && g.ids == f.ids; });
    if (!seen) sweep_facts.push_back(f);
  }
  Table sweeps_table;
  sweeps_table.header = {"sweep", "runs in grid", "stored"};
  for (const auto& f : sweep_facts) {
    sweeps_table.rows.push_back({f.name, std::to_string(f.grid), std::to_string(f.stored)});
  }
  const Table every_point = points_table(points, labels);
  const Table failed = failed_runs_table(rows);

  const std::string banner = quick_banner(facts);
  const std::string counts = fmt::format("{} runs stored: {} converged, {} not converged (iteration cap), {} diverged.",
                                         facts.runs, facts.converged, facts.not_converged, facts.diverged);
  std::string loss_measures;
  for (const auto& m : facts.loss_measures) loss_measures += (loss_measures.empty() ? "" : ", ") + m;
  const std::string method_note =
      "Means, sample standard deviations (n - 1) and 95 % confidence intervals of the mean (Student t, n - 1 "
      "degrees of freedom) are over the converged runs of each point; runs that hit the iteration cap or diverged "
      "are counted (converged/all), not averaged. B is called B_opt (the batch size with the best mean test "
      "accuracy for its alpha) only where two or more batch sizes were run at that alpha; a single one is labelled "
      "\"only B run\". Training loss for L*/L**: " +
      (loss_measures.empty() ? std::string("-") : loss_measures) + ".";
  const std::string tests_note =
      "Each comparison gives the difference of means (the row minus what it is compared against; accuracy in "
      "percentage points), its 95 % confidence interval and the two-sided p-value of a t-test. Two of our points "
      "are compared paired by seed when they share two or more converged seeds (only the shared seeds enter; the "
      "test column gives the number of pairs). Pairing is valid because a seed fixes the initial weights and the "
      "data order: the initialization and the B and B' batch streams are all derived from the seed, so the two "
      "runs of one seed start from the same weights and see the training samples in the same order (the same "
      "shuffles, cut into batches of their own B), and the seed's share of the scatter cancels in the per-seed "
      "difference. Otherwise the test is Welch's unpaired t-test (Welch-Satterthwaite degrees of freedom). "
      "Against the paper: Welch's test from its mean +- sd with n = 10 runs per point (its +- read as the sample "
      "standard deviation); the paper's Table 3 gives no times, so those rows compare accuracy only. p-values are "
      "per comparison, not corrected for the number of comparisons.";
  std::string curves_note = kCurveCaption;
  if (curves.points_without_curves > 0) {
    curves_note += fmt::format(" ({} point{} stored no loss curve.)", curves.points_without_curves,
                               curves.points_without_curves == 1 ? "" : "s");
  }

  // report.md: everything on one Markdown page (renders on Git hosts).
  {
    std::string md = "# " + options.title + "\n\n";
    if (!banner.empty()) md += "> **" + banner + "**\n\n";
    md += counts + " " + method_note + "\n\n";
    for (const auto& w : result.warnings) md += "> Warning: " + w + "\n\n";
    if (!sweeps_table.rows.empty()) md += to_markdown(sweeps_table) + "\n";
    md += "## Table 2: best batch size per alpha\n\n" + to_markdown(t2) +
          "\n### Table 2: the tests behind it\n\n" + tests_note + "\n\n" + to_markdown(t2_tests) +
          "\n## Table 3: large batch with NE vs best small batch without\n\n" + to_markdown(t3) +
          "\n### Table 3: the tests behind it\n\n" + to_markdown(t3_tests) + "\n## Figures\n\n";
    for (const auto& f : figures) md += "![" + f.caption + "](" + f.file_stem + ".svg)\n\n";
    if (figures.empty()) md += "(no figures)\n\n";
    if (!curves.figures.empty() || curves.points_without_curves > 0) {
      md += "## Training-loss curves (every seed of every point)\n\n" + curves_note + "\n\n";
      for (const auto& f : curves.figures) {
        md += "![training-loss curves: " + f.file_stem + "](" + f.file_stem + ".svg)\n\n*" + f.caption + "*\n\n";
      }
    }
    md += "## Every point (runs behind it)\n\n" + to_markdown(every_point);
    md += "\nFiles: summary.csv, table2.md/.csv, table2-tests.md/.csv, table3.md/.csv, table3-tests.md/.csv, "
          "figure*.svg/.png, curves-*.svg/.png, plots/ (gnuplot scripts and data).\n";
    write("report.md", md);
  }

  // index.html: the same with figures inline.
  {
    std::string h =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + html_escape(options.title) +
        "</title>\n<style>\nbody{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}\n"
        "th{background:#eee}.banner{background:#fff3cd;border:1px solid #e0b000;padding:.8em;font-weight:bold}\n"
        ".warn{background:#fde;border:1px solid #c66;padding:.5em}figure{margin:1.5em 0}img{max-width:100%}\n"
        "</style>\n</head>\n<body>\n<h1>" + html_escape(options.title) + "</h1>\n";
    if (!banner.empty()) h += "<p class=\"banner\">" + html_escape(banner) + "</p>\n";
    h += "<p>" + html_escape(counts) + " " + html_escape(method_note) +
         " Paper values: Mori &amp; Ueda, \"Improved generalization by noise enhancement\", arXiv 2009.13094, "
         "Tables 2 and 3, 10 seeds per point.</p>\n";
    for (const auto& w : result.warnings) h += "<p class=\"warn\">" + html_escape(w) + "</p>\n";
    if (!sweeps_table.rows.empty()) h += "<h2>Sweeps in the store</h2>\n" + to_html(sweeps_table);
    h += "<h2>Table 2: best batch size B_opt per alpha (ours beside the paper's)</h2>\n" + to_html(t2);
    h += "<h3>Table 2: the tests behind it</h3>\n<p>" + html_escape(tests_note) + "</p>\n" + to_html(t2_tests);
    h += "<h2>Table 3: large batch with NE vs best small batch without</h2>\n" + to_html(t3);
    h += "<h3>Table 3: the tests behind it</h3>\n" + to_html(t3_tests);
    auto figure_html = [](const Figure& f) {
      return "<figure><img src=\"" + f.file_stem + ".svg\" alt=\"" + html_escape(f.caption) + "\"><figcaption>" +
             html_escape(f.caption) + " (<a href=\"" + f.file_stem + ".png\">PNG</a>, <a href=\"" + kPlotsDir + "/" +
             f.file_stem + ".gp\">gnuplot script</a>)</figcaption></figure>\n";
    };
    h += "<h2>Figures</h2>\n";
    if (figures.empty()) h += "<p>No figures: see the warnings above.</p>\n";
    for (const auto& f : figures) h += figure_html(f);
    if (!curves.figures.empty() || curves.points_without_curves > 0) {
      h += "<h2>Training-loss curves (every seed of every point)</h2>\n<p>" + html_escape(curves_note) + "</p>\n";
      for (const auto& f : curves.figures) h += figure_html(f);
    }
    h += "<h2>Every point and the runs behind it</h2>\n" + to_html(every_point);
    if (!failed.rows.empty()) h += "<h2>Runs that did not converge</h2>\n" + to_html(failed);
    h += "<p>Data: <a href=\"summary.csv\">summary.csv</a>, <a href=\"table2.csv\">table2.csv</a>, "
         "<a href=\"table2-tests.csv\">table2-tests.csv</a>, <a href=\"table3.csv\">table3.csv</a>, "
         "<a href=\"table3-tests.csv\">table3-tests.csv</a>, <a href=\"report.md\">report.md</a>.</p>\n"
         "</body>\n</html>\n";
    write("index.html", h);
  }
  return result;
}

}  // namespace nesgd::report
