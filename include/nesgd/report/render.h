// nesgd/report/render.h - the report a store turns into: CSV, Markdown, figures, HTML.
//
// write_report() writes into one folder:
//   summary.csv                  one row per (config, setting, B, alpha): counts, mean, std and 95 % t interval
//   table2.md, table2.csv        B_opt per alpha swept over B (the paper's Table 2), our values beside the paper's;
//                                an alpha run only at the paper's B_opt is shown too, labelled "only B run"
//   table2-tests.md, .csv        each alpha > 1 row against the alpha = 1 row, and each row against the
//                                paper's: difference of means, its 95 % interval, p (paired by seed or Welch)
//   table3.md, table3.csv        large batch with NE vs best small batch without (Table 3); a largest B
//                                other than the paper's 5000 is said so in the cell
//   table3-tests.md, .csv        with NE against without, and each against the paper's (accuracy)
//   figure{1,2}-<cfg>-accuracy.{svg,png}, figure{1,2}-<cfg>-time.{svg,png}
//                                test accuracy / convergence time against B, one curve per alpha
//   figure3-<cfg>.{svg,png}      test accuracy against convergence time: reduce B vs raise alpha
//   curves-<cfg>-b<B>-alpha<a>.{svg,png}
//                                every seed's training-loss curve of one point, with L* and L**
//   plots/                       the gnuplot scripts and data behind the figures (rerun by hand)
//   report.md, index.html        everything on one page (Markdown for Git hosts, HTML for browsers)
// Figures are drawn by gnuplot, run as a child process on generated scripts;
// without gnuplot everything else is still written and the report says how to
// get the figures. Paper numbering: Figure 1 is C1, Figure 2 is F1 and C2.
// The statistics are aggregate.h's and stats.h's; the tables are tables.h's,
// the figures figures.h's (drawn through gnuplot.h); this part puts them into
// files and pages. Nothing here trains or writes into the store.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/report/aggregate.h"

namespace nesgd::report {

struct ReportOptions {
  std::string out_dir;
  std::string title = "nesgd report";
  std::string gnuplot;   // program; empty: $NESGD_GNUPLOT, then `gnuplot` on PATH
  bool figures = true;   // false: skip gnuplot entirely
};

struct ReportOutput {
  std::vector<std::string> files;     // written, relative to out_dir, in writing order
  std::vector<std::string> warnings;  // e.g. gnuplot missing; also shown in the report
  size_t runs = 0;
  size_t points = 0;
  bool figures_drawn = false;
};

// `records`: the store's results (ResultStore::load_results); `sweeps`: its
// sweep descriptions (for "runs stored / in the grid"). Throws nesgd::Error.
ReportOutput write_report(const std::vector<nlohmann::json>& records, const std::vector<nlohmann::json>& sweeps,
                          const ReportOptions& options);

}  // namespace nesgd::report
