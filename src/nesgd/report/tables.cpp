// The report's tables (report/tables.h): cells formatted, rows in the paper's order.
#include "nesgd/report/tables.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "nesgd/report/labels.h"

namespace nesgd::report {
namespace {

// --- formatting -------------------------------------------------------------------------------------

std::string num(double v, const char* spec = "{:.10g}") { return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : ""; }

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

// Paper order of the configs in Table 2 (C1, F1, C2) and Table 3 (F1, C1, C2).
int rank(const std::string& config, bool table3) {
  static const std::vector<std::string> t2{"C1", "F1", "C2"}, t3{"F1", "C1", "C2"};
  const auto& order = table3 ? t3 : t2;
  const auto it = std::find(order.begin(), order.end(), config);
  return it == order.end() ? 100 : static_cast<int>(it - order.begin());
}

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

// --- tables ---

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

// NE beside its controls (aggregate.h's controls()): each point, and its differences from plain
// training at the same B and at the family's smallest plain B.
// "+0.41 [+0.20, +0.62] (p 0.0021)"; "+0.41 (no test)" where too few runs converged on either side.
std::string vs_cells(const std::optional<PointComparison>& c, bool accuracy) {
  if (!c) return "";
  const TTest& x = accuracy ? c->accuracy : c->time;
  const TestCells t = accuracy ? test_cells(x, 100.0, 2) : test_cells(x, 1.0, 0);
  if (!std::isfinite(x.difference)) return "-";
  if (x.pairing == Pairing::kNone) return t.difference + " (no test)";
  return t.difference + " " + t.interval + " (p " + t.p + ")";
}

Table controls_table(const std::vector<PointSummary>& points) {
  const Labels labels(points);
  Table t;
  t.header = {"config", "B", "optimizer, noise", "alpha", "runs (conv./all)", "test acc %", "95 % CI",
              "conv. time", "95 % CI", "vs plain at this B: acc (pp)", "time (it.)", "vs plain at the smallest B",
              "acc (pp)", "time (it.)"};
  for (const auto& r : controls(points)) {
    const PointSummary& p = r.point;
    t.rows.push_back({p.config, std::to_string(p.batch_size), p.variant + (r.plain ? " (plain)" : ""),
                      fmt_alpha(p.alpha), fmt_counts(p), fmt_pct(p.accuracy), fmt_pct_ci(p.accuracy),
                      fmt_iter(p.time), fmt_iter_ci(p.time), vs_cells(r.vs_plain_same_b, true),
                      vs_cells(r.vs_plain_same_b, false),
                      r.plain_small_b ? "B " + std::to_string(r.plain_small_b->batch_size) : "",
                      vs_cells(r.vs_plain_small_b, true), vs_cells(r.vs_plain_small_b, false)});
  }
  (void)labels;
  return t;
}

std::string control_text(const PointSummary& p) {
  return fmt::format("{}, alpha {}, B {}", p.variant, fmt_alpha(p.alpha), p.batch_size);
}

std::vector<ComparisonLine> controls_comparisons(const std::vector<PointSummary>& points) {
  std::vector<ComparisonLine> lines;
  for (const auto& r : controls(points)) {
    const ComparisonLine base{r.point.config, r.point.config, r.point.setting_id, control_text(r.point), "", {}};
    if (r.vs_plain_same_b) {
      ComparisonLine l = base;
      l.against = "plain: " + control_text(*r.plain_same_b);
      l.test = *r.vs_plain_same_b;
      lines.push_back(l);
    }
    if (r.vs_plain_small_b) {
      ComparisonLine l = base;
      l.against = "plain, smallest B: " + control_text(*r.plain_small_b);
      l.test = *r.vs_plain_small_b;
      lines.push_back(l);
    }
  }
  return lines;
}

}  // namespace

ReportTables build_tables(const std::vector<PointSummary>& points, const std::vector<RunRow>& runs) {
  ReportTables t;
  const auto c2 = table2_comparisons(points), c3 = table3_comparisons(points);
  t.summary = summary_table(points);
  t.table2 = table2_table(points);
  t.table2_data = table2_data(points);
  t.table2_tests = comparisons_table(c2);
  t.table2_tests_data = comparisons_data(c2);
  t.table3 = table3_table(points);
  t.table3_data = table3_data(points);
  t.table3_tests = comparisons_table(c3);
  t.table3_tests_data = comparisons_data(c3);
  const auto cc = controls_comparisons(points);
  t.controls = controls_table(points);
  t.controls_tests = comparisons_table(cc);
  t.controls_tests_data = comparisons_data(cc);
  t.points = points_table(points, Labels(points));
  t.failed_runs = failed_runs_table(runs);
  return t;
}

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

std::string controls_markdown(const std::vector<PointSummary>& points) { return to_markdown(controls_table(points)); }
std::string controls_tests_csv(const std::vector<PointSummary>& points) {
  return to_csv(comparisons_data(controls_comparisons(points)));
}

}  // namespace nesgd::report
