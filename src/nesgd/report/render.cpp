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

// Table 2's rows: B_opt for the alphas swept over two or more batch sizes (an
// alpha run at one B only, as in Table 3's alpha grid, has no B to choose),
// and an alpha run at the paper's own B_opt only: the paper's row, repeated.
std::vector<PointSummary> table2_rows(const std::vector<PointSummary>& points) {
  std::map<std::tuple<std::string, std::string, double>, std::set<int64_t>> batch_sizes;
  for (const auto& p : points) batch_sizes[{p.config, p.setting_id, p.alpha}].insert(p.batch_size);
  std::vector<PointSummary> rows;
  for (const auto& r : best_batch_sizes(points)) {
    const auto& sizes = batch_sizes[{r.config, r.setting_id, r.alpha}];
    const PaperTable2Row* paper = find_paper_table2(r.config, r.alpha);
    if (sizes.size() >= 2 || (paper != nullptr && paper->b_opt == r.batch_size)) rows.push_back(r);
  }
  return rows;
}

// Figure number in the paper: 1 for C1, 2 for F1 and C2.
int figure_number(const std::string& config) { return config == "C1" ? 1 : 2; }

template <typename Row>
void sort_rows(std::vector<Row>& rows, bool table3) {
  std::stable_sort(rows.begin(), rows.end(), [table3](const Row& a, const Row& b) {
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

// Writes plots/<stem>.dat and plots/<stem>.gp and runs gnuplot for <stem>.svg and <stem>.png.
bool draw(const Gnuplot& gp, const fs::path& out, const std::string& stem, const std::string& setup,
          const std::vector<Series>& series, const std::string& using_spec, const std::string& style,
          const std::string& extra_plots_per_series, std::vector<std::string>& files,
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
    plot += fmt::format("{} index {} using {} with {} lw 2 pt {} title \"{}\"", file, index, using_spec, style,
                        index % 2 == 0 ? 7 : 5, s.title);
    if (!extra_plots_per_series.empty()) {
      plot += fmt::format(", \\\n     \"\" index {} {}", index, extra_plots_per_series);
    }
    ++index;
  }
  if (index == 0) return false;
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
        if (draw(gp, out, stem, setup, series, "1:2:3", "yerrorlines", "", files, warnings)) {
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
    if (draw(gp, out, stem, setup, series, "1:2:3:4", "xyerrorlines",
             "using 1:2:5 with labels offset char 1,0.7 font \",9\" notitle", files, warnings)) {
      figures.push_back({stem, title, s.config, s.setting_id});
    }
  }
  return figures;
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
              "n_diverged", "test_accuracy_mean", "test_accuracy_std", "convergence_time_mean",
              "convergence_time_std"};
  for (const auto& p : points) {
    t.rows.push_back({p.config, p.setting_id, std::to_string(p.batch_size), fmt_alpha(p.alpha),
                      std::to_string(p.n_runs), std::to_string(p.n_converged), std::to_string(p.n_not_converged),
                      std::to_string(p.n_diverged), num(p.accuracy.mean), num(p.accuracy.std), num(p.time.mean),
                      num(p.time.std)});
  }
  return t;
}

// Table 2 to read (Markdown, HTML): formatted, ours beside the paper's.
Table table2_table(const std::vector<PointSummary>& points) {
  const Labels labels(points);
  auto rows = table2_rows(points);
  sort_rows(rows, false);
  Table t;
  t.header = {"config", "alpha", "B_opt", "test acc (%)", "conv. time (iterations)", "runs (conv./all)",
              "paper B_opt", "paper test acc (%)", "paper conv. time"};
  for (const auto& r : rows) {
    const PaperTable2Row* paper = find_paper_table2(r.config, r.alpha);
    t.rows.push_back({labels.label(r.config, r.setting_id), fmt_alpha(r.alpha), std::to_string(r.batch_size),
                      fmt_pct(r.accuracy), fmt_iter(r.time), fmt_counts(r),
                      paper ? std::to_string(paper->b_opt) : "-",
                      paper ? fmt_paper(paper->acc_mean, paper->acc_std, "{:.2f}") : "-",
                      paper ? fmt_paper(paper->time_mean, paper->time_std, "{:.0f}") : "-"});
  }
  return t;
}

// Table 2 to compute with (CSV): one number per column, fractions not percent.
Table table2_data(const std::vector<PointSummary>& points) {
  auto rows = table2_rows(points);
  sort_rows(rows, false);
  Table t;
  t.header = {"config", "setting_id", "alpha", "b_opt", "test_accuracy_mean", "test_accuracy_std",
              "convergence_time_mean", "convergence_time_std", "n_runs", "n_converged", "paper_b_opt",
              "paper_test_accuracy_mean", "paper_test_accuracy_std", "paper_convergence_time_mean",
              "paper_convergence_time_std"};
  for (const auto& r : rows) {
    const PaperTable2Row* p = find_paper_table2(r.config, r.alpha);
    t.rows.push_back({r.config, r.setting_id, fmt_alpha(r.alpha), std::to_string(r.batch_size), num(r.accuracy.mean),
                      num(r.accuracy.std), num(r.time.mean), num(r.time.std), std::to_string(r.n_runs),
                      std::to_string(r.n_converged), p ? std::to_string(p->b_opt) : "",
                      p ? num(p->acc_mean / 100.0) : "", p ? num(p->acc_std / 100.0) : "",
                      p ? num(p->time_mean) : "", p ? num(p->time_std) : ""});
  }
  return t;
}

Table table3_table(const std::vector<PointSummary>& points) {
  const Labels labels(points);
  auto rows = table3(points);
  sort_rows(rows, true);
  Table t;
  t.header = {"config", "without NE (B, test acc %)", "conv. time", "with NE at large B (B, alpha, test acc %)",
              "conv. time", "runs with NE (conv./all)", "paper without NE (B, acc)",
              "paper with NE at B = 5000 (alpha, acc)"};
  for (const auto& r : rows) {
    const PaperTable3Row* p = find_paper_table3(r.config);
    const std::string without =
        r.without_ne ? fmt::format("{}, {}", r.without_ne->batch_size, fmt_pct(r.without_ne->accuracy)) : "-";
    const std::string with = r.with_ne ? fmt::format("{}, {}, {}", r.with_ne->batch_size, fmt_alpha(r.with_ne->alpha),
                                                     fmt_pct(r.with_ne->accuracy))
                                       : "-";
    t.rows.push_back(
        {labels.label(r.config, r.setting_id), without, r.without_ne ? fmt_iter(r.without_ne->time) : "-", with,
         r.with_ne ? fmt_iter(r.with_ne->time) : "-", r.with_ne ? fmt_counts(*r.with_ne) : "-",
         p ? fmt::format("{}, {}", p->b_without, fmt_paper(p->acc_without_mean, p->acc_without_std, "{:.2f}")) : "-",
         p ? fmt::format("{}, {}", fmt_alpha(p->alpha_with), fmt_paper(p->acc_with_mean, p->acc_with_std, "{:.2f}"))
           : "-"});
  }
  return t;
}

Table table3_data(const std::vector<PointSummary>& points) {
  auto rows = table3(points);
  sort_rows(rows, true);
  Table t;
  t.header = {"config", "setting_id", "b_without", "test_accuracy_without_mean", "test_accuracy_without_std",
              "convergence_time_without_mean", "b_with", "alpha_with", "test_accuracy_with_mean",
              "test_accuracy_with_std", "convergence_time_with_mean", "n_runs_with", "n_converged_with",
              "paper_b_without", "paper_test_accuracy_without_mean", "paper_test_accuracy_without_std",
              "paper_b_with", "paper_alpha_with", "paper_test_accuracy_with_mean", "paper_test_accuracy_with_std"};
  for (const auto& r : rows) {
    const PaperTable3Row* p = find_paper_table3(r.config);
    const auto& wo = r.without_ne;
    const auto& w = r.with_ne;
    t.rows.push_back({r.config, r.setting_id, wo ? std::to_string(wo->batch_size) : "",
                      wo ? num(wo->accuracy.mean) : "", wo ? num(wo->accuracy.std) : "", wo ? num(wo->time.mean) : "",
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
  t.header = {"config", "B", "alpha", "runs", "converged", "not converged", "diverged", "test acc (%)",
              "conv. time"};
  for (const auto& p : points) {
    t.rows.push_back({labels.label(p.config, p.setting_id), std::to_string(p.batch_size), fmt_alpha(p.alpha),
                      std::to_string(p.n_runs), std::to_string(p.n_converged), std::to_string(p.n_not_converged),
                      std::to_string(p.n_diverged), fmt_pct(p.accuracy), fmt_iter(p.time)});
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
  write("summary.csv", to_csv(summary_table(points)));
  write("table2.md", to_markdown(t2));
  write("table2.csv", to_csv(table2_data(points)));
  write("table3.md", to_markdown(t3));
  write("table3.csv", to_csv(table3_data(points)));

  // Figures.
  std::vector<Figure> figures;
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
      result.figures_drawn = !figures.empty();
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
      "Means and standard deviations (n - 1) are over the converged runs of each point; runs that hit the iteration "
      "cap or diverged are counted, not averaged. B_opt is the batch size with the best mean test accuracy for each "
      "alpha. Training loss for L*/L**: " + (loss_measures.empty() ? std::string("-") : loss_measures) + ".";

  // report.md: everything on one Markdown page (renders on Git hosts).
  {
    std::string md = "# " + options.title + "\n\n";
    if (!banner.empty()) md += "> **" + banner + "**\n\n";
    md += counts + " " + method_note + "\n\n";
    for (const auto& w : result.warnings) md += "> Warning: " + w + "\n\n";
    if (!sweeps_table.rows.empty()) md += to_markdown(sweeps_table) + "\n";
    md += "## Table 2: best batch size per alpha\n\n" + to_markdown(t2) +
          "\n## Table 3: large batch with NE vs best small batch without\n\n" + to_markdown(t3) + "\n## Figures\n\n";
    for (const auto& f : figures) md += "![" + f.caption + "](" + f.file_stem + ".svg)\n\n";
    if (figures.empty()) md += "(no figures)\n\n";
    md += "## Every point (runs behind it)\n\n" + to_markdown(every_point);
    md += "\nFiles: summary.csv, table2.md/.csv, table3.md/.csv, figure*.svg/.png, plots/ (gnuplot scripts and data).\n";
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
    h += "<h2>Table 3: large batch with NE vs best small batch without</h2>\n" + to_html(t3);
    h += "<h2>Figures</h2>\n";
    if (figures.empty()) h += "<p>No figures: see the warnings above.</p>\n";
    for (const auto& f : figures) {
      h += "<figure><img src=\"" + f.file_stem + ".svg\" alt=\"" + html_escape(f.caption) + "\"><figcaption>" +
           html_escape(f.caption) + " (<a href=\"" + f.file_stem + ".png\">PNG</a>, <a href=\"" + kPlotsDir + "/" +
           f.file_stem + ".gp\">gnuplot script</a>)</figcaption></figure>\n";
    }
    h += "<h2>Every point and the runs behind it</h2>\n" + to_html(every_point);
    if (!failed.rows.empty()) h += "<h2>Runs that did not converge</h2>\n" + to_html(failed);
    h += "<p>Data: <a href=\"summary.csv\">summary.csv</a>, <a href=\"table2.csv\">table2.csv</a>, "
         "<a href=\"table3.csv\">table3.csv</a>, <a href=\"report.md\">report.md</a>.</p>\n</body>\n</html>\n";
    write("index.html", h);
  }
  return result;
}

}  // namespace nesgd::report
