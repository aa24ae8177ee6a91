// nesgd/report/aggregate.h - from stored runs to the paper's numbers (torch-free).
//
// Groups runs by (config, setting, B, alpha) - a "point" of Figures 1/2 -
// and gives each the mean and standard deviation over seeds of test accuracy
// and convergence time; then B_opt per alpha (Table 2) and the "large batch
// with NE vs best small batch without" comparison (Table 3).
//
// Conventions (docs/EXPERIMENTS.md):
// - Statistics are over the point's converged runs only: convergence time is
//   defined only for them (the paper: iterations until the stop),
//   and a run capped before L** has not finished training. Runs that ended
//   not_converged or diverged are counted (n_runs, n_not_converged,
//   n_diverged) and shown, never silently dropped.
// - Standard deviation is the sample one (n - 1 in the denominator, as
//   pandas' std); NaN for a single run.
// - B_opt for an alpha: the batch size whose mean test accuracy is highest
//   (ties: the smaller B). Table 3's "large batch" is the largest B of the
//   setting (5000 in the paper); "with NE" is the alpha > 1 with the best mean
//   accuracy there.
// Nothing here reads files or draws: see render.h.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nesgd::report {

// The fields of one stored run the report needs.
struct RunRow {
  std::string run_id;
  std::string config;      // "F1"
  std::string setting_id;  // exp::setting_id: same for every run of one study
  int64_t batch_size = 0;
  double alpha = 1.0;
  uint64_t seed = 0;
  std::string status;      // converged | not_converged | diverged
  int64_t iterations = 0;
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();  // fraction
  int64_t train_subset = 0;  // 0 = whole training set
  int64_t max_iterations = 0;
  std::string loss_measure;
};

// Reads a record written by the sweep (or by `nesgd train --out`). Throws
// nesgd::Error naming a missing field or one of the wrong type.
RunRow run_row_from_record(const nlohmann::json& record);

struct Stat {
  int64_t n = 0;
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();  // sample standard deviation
};
Stat mean_std(const std::vector<double>& values);

struct PointSummary {
  std::string config;
  std::string setting_id;
  int64_t batch_size = 0;
  double alpha = 1.0;
  int64_t n_runs = 0;
  int64_t n_converged = 0;
  int64_t n_not_converged = 0;
  int64_t n_diverged = 0;
  Stat accuracy;  // fraction, over converged runs
  Stat time;      // iterations, over converged runs
};

// One entry per (config, setting, B, alpha), sorted by config, setting, alpha, B.
std::vector<PointSummary> summarize(const std::vector<RunRow>& rows);

// Table 2: B_opt per (config, setting, alpha), over points with a converged run.
std::vector<PointSummary> best_batch_sizes(const std::vector<PointSummary>& points);

struct Table3Row {
  std::string config;
  std::string setting_id;
  std::optional<PointSummary> without_ne;  // B_opt at alpha = 1
  int64_t large_batch = 0;                 // the setting's largest B
  std::optional<PointSummary> with_ne;     // best alpha > 1 at large_batch
};
std::vector<Table3Row> table3(const std::vector<PointSummary>& points);

// Figure 3's two paths for one (config, setting): "reduce B at alpha = 1"
// (B from the largest down) and "raise alpha at the largest B" (alpha up).
struct Figure3Series {
  std::string config;
  std::string setting_id;
  int64_t large_batch = 0;
  std::vector<PointSummary> reduce_b;
  std::vector<PointSummary> raise_alpha;
};
std::vector<Figure3Series> figure3_series(const std::vector<PointSummary>& points);

// --- the paper's published numbers (Mori & Ueda, Tables 2 and 3) -------------------------------------

struct PaperTable2Row {
  std::string config;
  double alpha;
  int64_t b_opt;
  double acc_mean, acc_std;    // percent
  double time_mean, time_std;  // iterations
};
const std::vector<PaperTable2Row>& paper_table2();
const PaperTable2Row* find_paper_table2(const std::string& config, double alpha);

struct PaperTable3Row {
  std::string config;
  int64_t b_without;
  double acc_without_mean, acc_without_std;
  int64_t b_with;  // 5000
  double alpha_with;
  double acc_with_mean, acc_with_std;
};
const std::vector<PaperTable3Row>& paper_table3();
const PaperTable3Row* find_paper_table3(const std::string& config);

}  // namespace nesgd::report
