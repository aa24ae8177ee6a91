// The report as files and pages (report/render.h): the store's runs read once, the
// tables and figures written, then report.md and index.html around them.
#include "nesgd/report/render.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "nesgd/durable_write.h"
#include "nesgd/error.h"
#include "nesgd/json_read.h"
#include "nesgd/report/figures.h"
#include "nesgd/report/gnuplot.h"
#include "nesgd/report/labels.h"
#include "nesgd/report/table.h"
#include "nesgd/report/tables.h"

namespace nesgd::report {
namespace fs = std::filesystem;

namespace {

constexpr const char* kInstallGnuplot = "install gnuplot (Debian: apt install gnuplot-nox) or set NESGD_GNUPLOT";
// How the tests behind Tables 2 and 3 are made, said above them.
constexpr const char* kTestsNote =
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

constexpr const char* kControlsNote =
    "Settings that differ only in the optimizer and the noise (NE's own, or isotropic noise of NE's strength "
    "at every step) set NE beside its controls. Plain training is noise ne at alpha 1 with an optimizer other "
    "than PNM/AdaPNM. Every other point is compared with plain training at its own B and with plain training at "
    "the smallest B run (the small batch whose generalization NE aims at), paired by seed as in the tests "
    "above: the difference, its 95 % interval and p.";

// --- what the store holds ---------------------------------------------------------------------------

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

// The store's runs as rows, what they have in common, and their ids.
struct StoreRuns {
  std::vector<RunRow> rows;
  StoreFacts facts;
  std::set<std::string> ids;
};

StoreRuns read_runs(const std::vector<nlohmann::json>& records) {
  StoreRuns s;
  for (const auto& r : records) {
    s.rows.push_back(run_row_from_record(r));
    const RunRow& row = s.rows.back();
    s.ids.insert(row.run_id);
    ++s.facts.runs;
    if (row.status == "converged") ++s.facts.converged;
    if (row.status == "not_converged") ++s.facts.not_converged;
    if (row.status == "diverged") ++s.facts.diverged;
    s.facts.subsets.insert(row.train_subset);
    s.facts.caps.insert(row.max_iterations);
    s.facts.loss_measures.insert(row.loss_measure);
  }
  return s;
}

// Sweeps: how much of each grid is stored.
// A grid swept again with other execution-only settings (threads, say) is
// a second record of the same runs: it is listed once.
struct SweepFacts {
  std::string name;
  std::set<std::string> ids;
  size_t grid = 0, stored = 0;
};

Table sweeps_table(const std::vector<nlohmann::json>& sweeps, const std::set<std::string>& stored_ids) {
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
  Table table;
  table.header = {"sweep", "runs in grid", "stored"};
  for (const auto& f : sweep_facts) {
    table.rows.push_back({f.name, std::to_string(f.grid), std::to_string(f.stored)});
  }
  return table;
}

std::string counts_line(const StoreFacts& facts) {
  return fmt::format("{} runs stored: {} converged, {} not converged (iteration cap), {} diverged.", facts.runs,
                     facts.converged, facts.not_converged, facts.diverged);
}

// How the numbers were made, said under the title.
std::string method_note(const StoreFacts& facts) {
  std::string loss_measures;
  for (const auto& m : facts.loss_measures) loss_measures += (loss_measures.empty() ? "" : ", ") + m;
  return
      "Means, sample standard deviations (n - 1) and 95 % confidence intervals of the mean (Student t, n - 1 "
      "degrees of freedom) are over the converged runs of each point; runs that hit the iteration cap or diverged "
      "are counted (converged/all), not averaged. B is called B_opt (the batch size with the best mean test "
      "accuracy for its alpha) only where two or more batch sizes were run at that alpha; a single one is labelled "
      "\"only B run\". Training loss for L*/L**: " +
      (loss_measures.empty() ? std::string("-") : loss_measures) + ".";
}

// --- figures ----------------------------------------------------------------------------------------

struct ReportFigures {
  std::vector<Figure> figures;  // Figures 1-3
  CurveFigures curves;
};

// Every figure, unless --no-figures or there is no gnuplot (a warning says which).
ReportFigures draw_report_figures(const fs::path& out, const std::vector<nlohmann::json>& records,
                                  const StoreRuns& runs, const std::vector<PointSummary>& points,
                                  const ReportOptions& options, ReportOutput& result) {
  ReportFigures drawn;
  if (!options.figures) {
    result.warnings.push_back("figures not drawn (--no-figures)");
    return drawn;
  }
  const std::string program = find_gnuplot(options.gnuplot);
  if (program.empty()) {
    result.warnings.push_back("figures not drawn: gnuplot not found; " + std::string(kInstallGnuplot) +
                              ", then run `nesgd report` again");
    return drawn;
  }
  Plotter plotter(program, out, result.files, result.warnings);
  const Labels labels(points);
  drawn.figures = draw_figures(plotter, points, labels, seeds_note(runs.facts));
  drawn.curves = draw_loss_curves(plotter, records, runs.rows, labels);
  result.figures_drawn = !drawn.figures.empty() || !drawn.curves.figures.empty();
  plotter.remove_empty_log();  // gnuplot had nothing to say
  return drawn;
}

// --- pages ------------------------------------------------------------------------------------------

// What report.md and index.html show, in their order.
struct Page {
  std::string title, banner, counts, method_note, curves_note;
  const std::vector<std::string>& warnings;
  Table sweeps;
  const ReportTables& tables;
  const ReportFigures& figures;
};

// report.md: everything on one Markdown page (renders on Git hosts).
std::string markdown_page(const Page& p) {
  std::string md = "# " + p.title + "\n\n";
  if (!p.banner.empty()) md += "> **" + p.banner + "**\n\n";
  md += p.counts + " " + p.method_note + "\n\n";
  for (const auto& w : p.warnings) md += "> Warning: " + w + "\n\n";
  if (!p.sweeps.rows.empty()) md += to_markdown(p.sweeps) + "\n";
  md += "## Table 2: best batch size per alpha\n\n" + to_markdown(p.tables.table2) +
        "\n### Table 2: the tests behind it\n\n" + kTestsNote + "\n\n" + to_markdown(p.tables.table2_tests) +
        "\n## Table 3: large batch with NE vs best small batch without\n\n" + to_markdown(p.tables.table3) +
        "\n### Table 3: the tests behind it\n\n" + to_markdown(p.tables.table3_tests);
  if (!p.tables.controls.rows.empty()) {
    md += "\n## NE beside its controls\n\n" + std::string(kControlsNote) + "\n\n" + to_markdown(p.tables.controls) +
          "\n### NE beside its controls: the tests behind it\n\n" + to_markdown(p.tables.controls_tests);
  }
  md += "\n## Figures\n\n";
  for (const auto& f : p.figures.figures) md += "![" + f.caption + "](" + f.file_stem + ".svg)\n\n";
  if (p.figures.figures.empty()) md += "(no figures)\n\n";
  if (!p.figures.curves.figures.empty() || p.figures.curves.points_without_curves > 0) {
    md += "## Training-loss curves (every seed of every point)\n\n" + p.curves_note + "\n\n";
    for (const auto& f : p.figures.curves.figures) {
      md += "![training-loss curves: " + f.file_stem + "](" + f.file_stem + ".svg)\n\n*" + f.caption + "*\n\n";
    }
  }
  md += "## Every point (runs behind it)\n\n" + to_markdown(p.tables.points);
  md += "\nFiles: summary.csv, table2.md/.csv, table2-tests.md/.csv, table3.md/.csv, table3-tests.md/.csv, "
        "controls.md and controls-tests.csv (where controls were run), "
        "figure*.svg/.png, curves-*.svg/.png, plots/ (gnuplot scripts and data).\n";
  return md;
}

// index.html: the same with figures inline.
std::string html_page(const Page& p) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + html_escape(p.title) +
      "</title>\n<style>\nbody{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}\n"
      "th{background:#eee}.banner{background:#fff3cd;border:1px solid #e0b000;padding:.8em;font-weight:bold}\n"
      ".warn{background:#fde;border:1px solid #c66;padding:.5em}figure{margin:1.5em 0}img{max-width:100%}\n"
      "</style>\n</head>\n<body>\n<h1>" + html_escape(p.title) + "</h1>\n";
  if (!p.banner.empty()) h += "<p class=\"banner\">" + html_escape(p.banner) + "</p>\n";
  h += "<p>" + html_escape(p.counts) + " " + html_escape(p.method_note) +
       " Paper values: Mori &amp; Ueda, \"Improved generalization by noise enhancement\", arXiv 2009.13094, "
       "Tables 2 and 3, 10 seeds per point.</p>\n";
  for (const auto& w : p.warnings) h += "<p class=\"warn\">" + html_escape(w) + "</p>\n";
  if (!p.sweeps.rows.empty()) h += "<h2>Sweeps in the store</h2>\n" + to_html(p.sweeps);
  h += "<h2>Table 2: best batch size B_opt per alpha (ours beside the paper's)</h2>\n" + to_html(p.tables.table2);
  h += "<h3>Table 2: the tests behind it</h3>\n<p>" + html_escape(kTestsNote) + "</p>\n" + to_html(p.tables.table2_tests);
  h += "<h2>Table 3: large batch with NE vs best small batch without</h2>\n" + to_html(p.tables.table3);
  h += "<h3>Table 3: the tests behind it</h3>\n" + to_html(p.tables.table3_tests);
  if (!p.tables.controls.rows.empty()) {
    h += "<h2>NE beside its controls</h2>\n<p>" + html_escape(kControlsNote) + "</p>\n" + to_html(p.tables.controls);
    h += "<h3>NE beside its controls: the tests behind it</h3>\n" + to_html(p.tables.controls_tests);
  }
  auto figure_html = [](const Figure& f) {
    return "<figure><img src=\"" + f.file_stem + ".svg\" alt=\"" + html_escape(f.caption) + "\"><figcaption>" +
           html_escape(f.caption) + " (<a href=\"" + f.file_stem + ".png\">PNG</a>, <a href=\"" + kPlotsDir + "/" +
           f.file_stem + ".gp\">gnuplot script</a>)</figcaption></figure>\n";
  };
  h += "<h2>Figures</h2>\n";
  if (p.figures.figures.empty()) h += "<p>No figures: see the warnings above.</p>\n";
  for (const auto& f : p.figures.figures) h += figure_html(f);
  if (!p.figures.curves.figures.empty() || p.figures.curves.points_without_curves > 0) {
    h += "<h2>Training-loss curves (every seed of every point)</h2>\n<p>" + html_escape(p.curves_note) + "</p>\n";
    for (const auto& f : p.figures.curves.figures) h += figure_html(f);
  }
  h += "<h2>Every point and the runs behind it</h2>\n" + to_html(p.tables.points);
  if (!p.tables.failed_runs.rows.empty()) h += "<h2>Runs that did not converge</h2>\n" + to_html(p.tables.failed_runs);
  h += "<p>Data: <a href=\"summary.csv\">summary.csv</a>, <a href=\"table2.csv\">table2.csv</a>, "
       "<a href=\"table2-tests.csv\">table2-tests.csv</a>, <a href=\"table3.csv\">table3.csv</a>, "
       "<a href=\"table3-tests.csv\">table3-tests.csv</a>, <a href=\"report.md\">report.md</a>.</p>\n"
       "</body>\n</html>\n";
  return h;
}

}  // namespace

ReportOutput write_report(const std::vector<nlohmann::json>& records, const std::vector<nlohmann::json>& sweeps,
                          const ReportOptions& options) {
  if (options.out_dir.empty()) throw Error("--out: give a folder for the report");
  const fs::path out(options.out_dir);
  std::error_code ec;
  fs::create_directories(out / kPlotsDir, ec);
  if (ec) throw Error("cannot create " + (out / kPlotsDir).string() + ": " + ec.message());

  ReportOutput result;
  StoreRuns runs = read_runs(records);
  const std::vector<PointSummary> points = summarize(runs.rows);
  for (const auto& p : points) runs.facts.seeds_per_point.insert(p.n_runs);
  result.runs = runs.rows.size();
  result.points = points.size();
  auto write = [&](const std::string& name, const std::string& text) {
    write_file_durable((out / name).string(), text);
    result.files.push_back(name);
  };
  const ReportTables tables = build_tables(points, runs.rows);
  write("summary.csv", to_csv(tables.summary));
  write("table2.md", to_markdown(tables.table2));
  write("table2.csv", to_csv(tables.table2_data));
  write("table2-tests.md", to_markdown(tables.table2_tests));
  write("table2-tests.csv", to_csv(tables.table2_tests_data));
  write("table3.md", to_markdown(tables.table3));
  write("table3.csv", to_csv(tables.table3_data));
  write("table3-tests.md", to_markdown(tables.table3_tests));
  write("table3-tests.csv", to_csv(tables.table3_tests_data));
  if (!tables.controls.rows.empty()) {
    write("controls.md", to_markdown(tables.controls));
    write("controls-tests.csv", to_csv(tables.controls_tests_data));
  }

  const ReportFigures figures = draw_report_figures(out, records, runs, points, options, result);
  std::string curves_note = kCurveCaption;
  if (figures.curves.points_without_curves > 0) {
    curves_note += fmt::format(" ({} point{} stored no loss curve.)", figures.curves.points_without_curves,
                               figures.curves.points_without_curves == 1 ? "" : "s");
  }
  const Page page{options.title, quick_banner(runs.facts), counts_line(runs.facts), method_note(runs.facts),
                  curves_note, result.warnings, sweeps_table(sweeps, runs.ids), tables, figures};
  write("report.md", markdown_page(page));
  write("index.html", html_page(page));
  return result;
}

}  // namespace nesgd::report
