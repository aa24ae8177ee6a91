// nesgd/report/aggregate.h - from stored runs to the paper's numbers and the tests behind them (torch-free).
//
// Groups runs by (config, setting, B, alpha) - a "point" of Figures 1/2 -
// and gives each the mean, standard deviation and 95 % t interval over seeds
// of test accuracy and convergence time; then the rows of Table 2 (B_opt per
// alpha) and Table 3 ("large batch with NE vs best small batch without"),
// each with the comparisons a referee asks for: the difference of means with
// its interval and p-value against the reference row, and against the
// paper's published mean +- sd.
//
// Conventions (docs/EXPERIMENTS.md):
// - Statistics are over the point's converged runs only: convergence time is
//   defined only for them (the paper: iterations until the stop),
//   and a run capped before L** has not finished training. Runs that ended
//   not_converged or diverged are counted (n_runs, n_not_converged,
//   n_diverged) and shown, never silently dropped.
// - Standard deviation is the sample one (n - 1 in the denominator, as
//   pandas' std); NaN for a single run. Intervals are Student t ones with
//   n - 1 degrees of freedom (stats.h).
// - B_opt for an alpha: the batch size whose mean test accuracy is highest
//   (ties: the smaller B); it is a choice only where two or more B were run
//   at that alpha (Table2Row::batch_sizes_run). Table 3's "large batch" is
//   the largest B of the setting (the paper's is 5000: kPaperLargeBatch);
//   "with NE" is the alpha > 1 with the best mean accuracy there.
// - Two of our points are compared PAIRED by seed when both have two or more
//   converged seeds in common (only the shared seeds enter): a seed fixes the
//   initial weights and the data order (the init, B and B' streams are all
//   derived from it, data/batch_stream.h), so the two runs of one seed share
//   the seed's luck, which cancels in their difference. Otherwise, and
//   against the paper (its mean +- sd, n = 10), Welch's unpaired test.
// Nothing here reads files or draws: see render.h.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/report/stats.h"
#include "nesgd/train/run_config.h"

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
  // The update and the noise, "keras-adam, ne" (optimizer name, then ne or isotropic, "isotropic per
  // tensor" where so matched): what tells NE's runs from its controls' in labels (report/labels.h).
  std::string variant;
  std::string family_id;  // exp::family_id: the setting less optimizer and noise (NE beside its controls)
  std::string optimizer = "keras-adam";
  std::string noise = "ne";
};

// The variant text of a run's config (RunRow::variant); records without the keys read as
// keras-adam (or the record's optimizer) and ne.
std::string variant_of_config(const nlohmann::json& config);
std::string variant_of(const train::RunConfig& config);

// Reads a record written by the sweep (or by `nesgd train --out`). Throws
// nesgd::Error naming a missing field or one of the wrong type.
RunRow run_row_from_record(const nlohmann::json& record);

// The training-loss curve of one stored run (its "curve" array), for the
// loss-curve figures. Points whose training loss is missing, null (stored
// so when not finite) or not positive (no place on a log axis) are skipped;
// a record without a curve gives no points. The report reads curves one
// point at a time and drops them once drawn: RunRow carries none.
struct LossCurve {
  uint64_t seed = 0;
  std::string status;
  int64_t iterations = 0;
  double l_star = std::numeric_limits<double>::quiet_NaN();  // config.l_star: the LR is halved here
  double l_stop = std::numeric_limits<double>::quiet_NaN();  // config.l_stop (L**): the run stops below it
  std::vector<std::pair<int64_t, double>> points;            // (iteration, training loss)
};
LossCurve loss_curve_from_record(const nlohmann::json& record);

// One converged run of a point, kept for pairing by seed.
struct SeedResult {
  uint64_t seed = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();  // fraction; NaN if not recorded
  double time = 0.0;                                           // iterations
};

struct PointSummary {
  std::string config;
  std::string setting_id;
  std::string variant;  // RunRow::variant, one per setting
  std::string family_id, optimizer = "keras-adam", noise = "ne";  // RunRow's, one per setting
  int64_t batch_size = 0;
  double alpha = 1.0;
  int64_t n_runs = 0;
  int64_t n_converged = 0;
  int64_t n_not_converged = 0;
  int64_t n_diverged = 0;
  Stat accuracy;  // fraction, over converged runs (mean_std, stats.h)
  Stat time;      // iterations, over converged runs
  std::vector<SeedResult> converged_runs;  // by seed; empty for a summary made by hand (then Welch only)
};

// One entry per (config, setting, B, alpha), sorted by config, setting, alpha, B.
std::vector<PointSummary> summarize(const std::vector<RunRow>& rows);

// --- the paper's published numbers (Mori & Ueda, Tables 2 and 3) -------------------------------------

// Each of the paper's points is "mean +- std of 10 runs"; its large batch is 5000.
constexpr int64_t kPaperRunsPerPoint = 10;
constexpr int64_t kPaperLargeBatch = 5000;

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

// --- comparisons ------------------------------------------------------------------------------------

// Test accuracy and convergence time compared between two points, each as x - y.
struct PointComparison {
  TTest accuracy;  // fraction
  TTest time;      // iterations
};

// x against y, two of our points: paired by seed over the seeds both
// converged with when there are two or more (for accuracy: those with a
// recorded accuracy on both sides), Welch on all converged runs otherwise.
PointComparison compare_points(const PointSummary& x, const PointSummary& y, double confidence = kConfidence);

// Ours against a published mean +- sd of `n` runs: Welch from the summaries.
// Accuracy in percent, as published; a NaN time_mean compares no time (the
// paper's Table 3 gives none: the result's time test stays kNone).
PointComparison compare_with_published(const PointSummary& ours, double acc_mean_percent, double acc_std_percent,
                                       double time_mean, double time_std, int64_t n = kPaperRunsPerPoint,
                                       double confidence = kConfidence);

// --- Tables 2 and 3, Figure 3 -----------------------------------------------------------------------

// B_opt per (config, setting, alpha), over points with a converged run.
std::vector<PointSummary> best_batch_sizes(const std::vector<PointSummary>& points);

// How many distinct B were run (any status) at the point's (config, setting, alpha).
int64_t batch_sizes_run(const std::vector<PointSummary>& points, const PointSummary& at);

struct Table2Row {
  PointSummary point;           // B_opt of this alpha, or its only B
  int64_t batch_sizes_run = 0;  // 1: there was no B to choose from (not a B_opt)
  std::optional<PointSummary> reference;             // alpha > 1 only: the setting's alpha = 1 row
  std::optional<PointComparison> against_reference;  // point - reference
  const PaperTable2Row* paper = nullptr;             // the paper's row of (config, alpha), if any
  std::optional<PointComparison> against_paper;      // point - the paper's row
};
// Table 2's rows: every alpha run at two or more B (its B_opt), and an alpha
// run at one B only when that B is the paper's own B_opt for it (the paper's
// row repeated); an alpha at a single other B (Table 3's alpha grid) has no
// row. Sorted by config, setting, alpha.
std::vector<Table2Row> table2(const std::vector<PointSummary>& points);

struct Table3Row {
  std::string config;
  std::string setting_id;
  std::optional<PointSummary> without_ne;  // B_opt at alpha = 1
  int64_t without_ne_batch_sizes = 0;      // B run at alpha = 1 (1: not a B_opt)
  int64_t large_batch = 0;                 // the setting's largest B (paper: kPaperLargeBatch)
  std::optional<PointSummary> with_ne;     // best alpha > 1 at large_batch
  std::optional<PointComparison> with_vs_without;  // with_ne - without_ne
  const PaperTable3Row* paper = nullptr;
  std::optional<PointComparison> without_vs_paper;  // accuracy only
  std::optional<PointComparison> with_vs_paper;     // accuracy only; only when large_batch == kPaperLargeBatch
};
std::vector<Table3Row> table3(const std::vector<PointSummary>& points);

// NE beside its controls (optim/noise_control.h, optim/pnm.h): in every family (settings that differ
// only in optimizer and noise, exp::family_id) with more than one variant, each point against plain
// training (noise ne, alpha 1, an optimizer other than pnm/adapnm) at the same B, and against the
// family's plain point at its smallest B (the small batch whose generalization NE aims at). Paired
// by seed as compare_points. Sorted by config, family, B, then plain first, variant, alpha.
struct ControlRow {
  PointSummary point;
  bool plain = false;                              // this point is the plain reference at its B
  std::optional<PointSummary> plain_same_b;        // absent for the plain point itself
  std::optional<PointComparison> vs_plain_same_b;  // point - plain_same_b
  std::optional<PointSummary> plain_small_b;       // absent where this is that point, or none was run
  std::optional<PointComparison> vs_plain_small_b;
};
std::vector<ControlRow> controls(const std::vector<PointSummary>& points);
// Whether a point is plain training by the rule above.
bool is_plain(const PointSummary& p);

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

}  // namespace nesgd::report
