// Aggregation on hand-made runs: means and standard deviations worked out by
// hand, counts of failed runs, B_opt, Table 3 and Figure 3's paths.
#include <gtest/gtest.h>

#include <cmath>

#include "nesgd/error.h"
#include "nesgd/report/aggregate.h"
#include "support/data.h"

namespace rp = nesgd::report;

namespace {

// Means of numbers like 0.92 are not exact in binary: compare to 1e-12.
constexpr double kTol = 1e-12;

rp::RunRow row(int64_t b, double alpha, uint64_t seed, const std::string& status, int64_t it, double acc,
               const std::string& config = "F1") {
  rp::RunRow r;
  r.config = config;
  r.setting_id = "s1";
  r.batch_size = b;
  r.alpha = alpha;
  r.seed = seed;
  r.status = status;
  r.iterations = it;
  r.test_accuracy = acc;
  return r;
}

const rp::PointSummary& find(const std::vector<rp::PointSummary>& ps, int64_t b, double alpha) {
  for (const auto& p : ps) {
    if (p.batch_size == b && p.alpha == alpha) return p;
  }
  throw std::runtime_error("no point");
}

std::vector<rp::RunRow> hand_made() {
  return {
      // B=100, alpha=1: three converged (acc 0.90, 0.92, 0.94; 1000, 1200, 1400 it), one capped, one diverged.
      row(100, 1, 1, "converged", 1000, 0.90), row(100, 1, 2, "converged", 1200, 0.92),
      row(100, 1, 3, "converged", 1400, 0.94), row(100, 1, 4, "not_converged", 5000, 0.50),
      row(100, 1, 5, "diverged", 10, 0.10),
      // B=200, alpha=1: 0.93, 0.95; 800, 1000.
      row(200, 1, 1, "converged", 800, 0.93), row(200, 1, 2, "converged", 1000, 0.95),
      // B=100, alpha=1.5: 0.95, 0.96; 1500, 1700.
      row(100, 1.5, 1, "converged", 1500, 0.95), row(100, 1.5, 2, "converged", 1700, 0.96),
      // B=200, alpha=1.5: a single run 0.96, 700.
      row(200, 1.5, 1, "converged", 700, 0.96),
      // B=200, alpha=2: nothing converged.
      row(200, 2, 1, "diverged", 5, 0.1),
  };
}

}  // namespace

TEST(Aggregate, MeanAndSampleStandardDeviation) {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample variance 32/7.
  const auto s = rp::mean_std({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_EQ(s.n, 8);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(32.0 / 7.0));
  EXPECT_TRUE(std::isnan(rp::mean_std({3}).std)) << "one run has no spread";
  EXPECT_EQ(rp::mean_std({}).n, 0);
}

TEST(Aggregate, PointsCountEveryRunAndAverageTheConvergedOnes) {
  const auto points = rp::summarize(hand_made());
  ASSERT_EQ(points.size(), 5u);
  const auto& p = find(points, 100, 1);
  EXPECT_EQ(p.n_runs, 5);
  EXPECT_EQ(p.n_converged, 3);
  EXPECT_EQ(p.n_not_converged, 1);
  EXPECT_EQ(p.n_diverged, 1);
  EXPECT_NEAR(p.accuracy.mean, 0.92, kTol);
  EXPECT_NEAR(p.accuracy.std, 0.02, kTol);  // sqrt((0.02^2 + 0 + 0.02^2) / 2)
  EXPECT_NEAR(p.time.mean, 1200, kTol);
  EXPECT_NEAR(p.time.std, 200, kTol);
  const auto& q = find(points, 200, 1);
  EXPECT_NEAR(q.accuracy.mean, 0.94, kTol);
  EXPECT_NEAR(q.accuracy.std, 0.01 * std::sqrt(2.0), kTol);  // sqrt((0.01^2 + 0.01^2) / 1)
  EXPECT_NEAR(q.time.std, 100 * std::sqrt(2.0), kTol);
  const auto& single = find(points, 200, 1.5);
  EXPECT_EQ(single.accuracy.n, 1);
  EXPECT_TRUE(std::isnan(single.accuracy.std));
  const auto& failed = find(points, 200, 2);
  EXPECT_EQ(failed.n_runs, 1);
  EXPECT_EQ(failed.n_converged, 0);
  EXPECT_TRUE(std::isnan(failed.accuracy.mean));
  // Sorted by config, setting, alpha, B.
  EXPECT_EQ(points[0].batch_size, 100);
  EXPECT_EQ(points[1].batch_size, 200);
  EXPECT_EQ(points[2].alpha, 1.5);
}

TEST(Aggregate, BOptIsTheBestMeanAccuracyPerAlpha) {
  const auto best = rp::best_batch_sizes(rp::summarize(hand_made()));
  ASSERT_EQ(best.size(), 2u) << "alpha = 2 has no converged run and no B_opt";
  EXPECT_EQ(best[0].alpha, 1.0);
  EXPECT_EQ(best[0].batch_size, 200);  // 0.94 > 0.92
  EXPECT_EQ(best[1].alpha, 1.5);
  EXPECT_EQ(best[1].batch_size, 200);  // 0.96 > 0.955
  // Ties go to the smaller batch.
  const auto tie = rp::best_batch_sizes(
      rp::summarize({row(300, 1, 1, "converged", 10, 0.5), row(100, 1, 1, "converged", 10, 0.5)}));
  ASSERT_EQ(tie.size(), 1u);
  EXPECT_EQ(tie[0].batch_size, 100);
}

TEST(Aggregate, Table3AndFigure3Paths) {
  auto rows = hand_made();
  rows.push_back(row(200, 3, 1, "converged", 600, 0.97));
  rows.push_back(row(100, 1, 1, "converged", 100, 0.5, "C1"));
  const auto points = rp::summarize(rows);
  const auto t3 = rp::table3(points);
  ASSERT_EQ(t3.size(), 2u);
  const auto& c1 = t3[0];
  EXPECT_EQ(c1.config, "C1");
  EXPECT_FALSE(c1.with_ne.has_value()) << "C1 has no alpha > 1";
  const auto& f1 = t3[1];
  ASSERT_TRUE(f1.without_ne && f1.with_ne);
  EXPECT_EQ(f1.without_ne->batch_size, 200);
  EXPECT_EQ(f1.large_batch, 200);
  EXPECT_EQ(f1.with_ne->alpha, 3.0);  // 0.97 beats alpha 1.5's 0.96; alpha 2 never converged
  const auto fig3 = rp::figure3_series(points);
  ASSERT_EQ(fig3.size(), 2u);
  const auto& s = fig3[1];
  ASSERT_EQ(s.reduce_b.size(), 2u);
  EXPECT_EQ(s.reduce_b[0].batch_size, 200);  // from the large batch down
  EXPECT_EQ(s.reduce_b[1].batch_size, 100);
  ASSERT_EQ(s.raise_alpha.size(), 4u);  // alpha 1, 1.5, 2, 3 at B = 200
  EXPECT_EQ(s.raise_alpha.back().alpha, 3.0);
}

// Found by fuzzing (fuzz/corpus/store/array.json): fields of the wrong type in
// a stored run escaped as nlohmann::json's exceptions, and a number too large
// for an integer field was converted with undefined behaviour.
TEST(Aggregate, StoredRunsWithFieldsOfTheWrongTypeAreNamedErrors) {
  using nesgd::testing::expect_error;
  auto row = [](const char* text) { return [text] { rp::run_row_from_record(nlohmann::json::parse(text)); }; };
  expect_error(row(R"([{"run_id": "x"}])"), {"no \"config\" object"});
  expect_error(row(R"({"run_id": 5, "config": {}})"), {"'run_id' must be a string, got 5"});
  expect_error(row(R"({"run_id": "r1", "config": {}, "status": 3})"), {"stored run r1", "'status' must be a string"});
  expect_error(row(R"({"run_id": "r1", "config": {"batch_size": 1e300}, "status": "converged"})"),
               {"'batch_size' must be an integer, got 1e+300"});
  expect_error(row(R"({"run_id": "r1", "config": {"model": ["f1"]}, "status": "converged"})"),
               {"'model' must be a string"});
  expect_error(row(R"({"run_id": "r1", "config": {}, "status": "converged", "iterations": "many"})"),
               {"stored run r1", "'iterations' must be an integer"});
  // A well-formed record still reads, with the documented defaults.
  const auto r = rp::run_row_from_record(nlohmann::json::parse(
      R"({"run_id": "r1", "config": {"model": "c1", "batch_size": 500}, "status": "converged", "iterations": 7})"));
  EXPECT_EQ(r.config, "C1");
  EXPECT_EQ(r.batch_size, 500);
  EXPECT_EQ(r.iterations, 7);
  EXPECT_EQ(r.loss_measure, "epoch-mean");
  EXPECT_TRUE(std::isnan(r.test_accuracy));
}

TEST(Aggregate, PaperValuesAreThoseOfPaperMd) {
  const auto* f1 = rp::find_paper_table2("F1", 1.5);
  ASSERT_NE(f1, nullptr);
  EXPECT_EQ(f1->b_opt, 2000);
  EXPECT_EQ(f1->acc_mean, 90.39);
  EXPECT_EQ(rp::paper_table2().size(), 8u);
  const auto* t3 = rp::find_paper_table3("C2");
  ASSERT_NE(t3, nullptr);
  EXPECT_EQ(t3->alpha_with, 5);
  EXPECT_EQ(rp::find_paper_table2("F1", 3.0), nullptr);
}

TEST(Aggregate, ReadsAStoredRecord) {
  const auto j = nlohmann::json::parse(R"({"run_id": "ab", "status": "converged", "iterations": 12,
    "test_accuracy": 0.8, "config": {"model": "f1", "batch_size": 300, "alpha": 2.5, "seed": 4, "train_subset": 100}})");
  const auto r = rp::run_row_from_record(j);
  EXPECT_EQ(r.config, "F1");
  EXPECT_EQ(r.batch_size, 300);
  EXPECT_EQ(r.alpha, 2.5);
  EXPECT_EQ(r.seed, 4u);
  EXPECT_EQ(r.train_subset, 100);
  EXPECT_EQ(r.setting_id.size(), 8u);
  EXPECT_THROW(rp::run_row_from_record(nlohmann::json::parse(R"({"status": "converged"})")), nesgd::Error);
}

// --- Student's t and the t-tests (report/stats.h) ---------------------------------------------------
//
// Reference values are closed forms worked by hand where the t distribution
// has one (df = 1: Cauchy; df = 2 and 3), published table values (9
// significant digits), and otherwise the value of the same formula at 40
// digits (mpmath 1.3: betainc(df/2, 1/2, 0, df/(df+t^2), regularized=True)),
// quoted to 15 digits. Our incomplete beta is good to ~1e-14 relative, so
// the tolerances below leave a margin of ~100x, and a wrong formula misses
// them by orders of magnitude.

namespace {

constexpr double kStatsTol = 1e-12;   // closed forms and 15-digit references
constexpr double kTableTol = 5e-9;    // published quantile tables give 9 significant digits
const double kPi = std::acos(-1.0);

}  // namespace

TEST(AggregateStats, IncompleteBetaClosedForms) {
  for (double x : {0.0, 0.1, 0.37, 0.5, 0.93, 1.0}) {
    EXPECT_NEAR(rp::regularized_incomplete_beta(1, 1, x), x, kStatsTol) << x;                     // uniform
    EXPECT_NEAR(rp::regularized_incomplete_beta(3.5, 1, x), std::pow(x, 3.5), kStatsTol) << x;    // I_x(a, 1) = x^a
    EXPECT_NEAR(rp::regularized_incomplete_beta(1, 4, x), 1 - std::pow(1 - x, 4), kStatsTol) << x;  // 1 - (1-x)^b
  }
  for (double a : {0.5, 3.0, 50.0}) EXPECT_NEAR(rp::regularized_incomplete_beta(a, a, 0.5), 0.5, kStatsTol) << a;
  // mpmath, 40 digits.
  EXPECT_NEAR(rp::regularized_incomplete_beta(2.5, 3.5, 0.3), 0.29675298929566638, kStatsTol);
  EXPECT_NEAR(rp::regularized_incomplete_beta(50, 0.5, 0.99), 0.31730439787419737, kStatsTol);
  EXPECT_THROW(rp::regularized_incomplete_beta(0, 1, 0.5), nesgd::Error);
  EXPECT_THROW(rp::regularized_incomplete_beta(1, 1, 1.5), nesgd::Error);
}

TEST(AggregateStats, StudentTQuantilesMatchPublishedTables) {
  // t_{0.975, df} as in every t table (and scipy.stats.t.ppf).
  EXPECT_NEAR(rp::student_t_quantile(0.975, 1), 12.7062047, kTableTol * 13);
  EXPECT_NEAR(rp::student_t_quantile(0.975, 2), 4.30265273, kTableTol);
  EXPECT_NEAR(rp::student_t_quantile(0.975, 5), 2.57058184, kTableTol);
  EXPECT_NEAR(rp::student_t_quantile(0.975, 9), 2.26215716, kTableTol);
  EXPECT_NEAR(rp::student_t_quantile(0.975, 30), 2.04227246, kTableTol);
  // Closed forms: df = 1 is Cauchy, t = tan(pi (p - 1/2)); df = 2: t = (2p - 1) sqrt(2 / (4 p (1 - p))).
  EXPECT_NEAR(rp::student_t_quantile(0.975, 1), std::tan(kPi * 0.475), 1e-11);
  EXPECT_NEAR(rp::student_t_quantile(0.975, 2), 0.95 * std::sqrt(2.0 / (4 * 0.975 * 0.025)), kStatsTol);
  EXPECT_NEAR(rp::student_t_quantile(0.9, 1), std::tan(kPi * 0.4), kStatsTol);
  // Large df tends to the normal quantile 1.959964 (df = 1e5: mpmath 1.95998770753461; there the
  // log-gamma difference in I_x's prefactor costs digits: 3e-11 measured, hence 1e-9).
  EXPECT_NEAR(rp::student_t_quantile(0.975, 1e5), 1.95998770753461, 1e-9);
  EXPECT_NEAR(rp::student_t_quantile(0.975, std::numeric_limits<double>::infinity()), 1.9599639845400542, kStatsTol);
  // Symmetry and the median.
  EXPECT_NEAR(rp::student_t_quantile(0.025, 9), -rp::student_t_quantile(0.975, 9), kStatsTol);
  EXPECT_EQ(rp::student_t_quantile(0.5, 4), 0.0);
  EXPECT_THROW(rp::student_t_quantile(1.0, 4), nesgd::Error);
  EXPECT_THROW(rp::student_t_quantile(0.9, 0), nesgd::Error);
}

TEST(AggregateStats, TwoSidedPValues) {
  EXPECT_NEAR(rp::student_t_two_sided_p(2.0, 10), 0.07338803, 5e-9);             // published
  EXPECT_NEAR(rp::student_t_two_sided_p(2.0, 10), 0.0733880347707404, kStatsTol);  // mpmath
  EXPECT_NEAR(rp::student_t_cdf(-2.0, 10), 0.036694017385370183, kStatsTol);
  EXPECT_NEAR(rp::student_t_cdf(2.0, 10), 1 - 0.036694017385370183, kStatsTol);
  // df = 1 (Cauchy): p = 1 - (2 / pi) atan|t|; P(|T| >= 1) = 1/2 exactly.
  EXPECT_NEAR(rp::student_t_two_sided_p(1.0, 1), 0.5, kStatsTol);
  EXPECT_NEAR(rp::student_t_two_sided_p(-3.0, 1), 1 - 2 / kPi * std::atan(3.0), kStatsTol);
  // df = 2: p = 1 - |t| / sqrt(2 + t^2).
  EXPECT_NEAR(rp::student_t_two_sided_p(1.0, 2), 1 - 1 / std::sqrt(3.0), kStatsTol);
  EXPECT_NEAR(rp::student_t_two_sided_p(4.0, 2), 1 - 4 / std::sqrt(18.0), kStatsTol);
  EXPECT_EQ(rp::student_t_two_sided_p(0.0, 7), 1.0);
  // A far tail keeps its relative precision: t = 50, df = 3 (mpmath 1.7617152041271974e-5).
  EXPECT_NEAR(rp::student_t_two_sided_p(50.0, 3) / 1.7617152041271974e-5, 1.0, 1e-10);
}

TEST(AggregateStats, MeanIntervalIsStudentTWithNMinusOneDegrees) {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sd sqrt(32/7), t_{0.975, 7} = 2.36462425159279:
  // 5 -+ 2.36462425159279 sqrt(32/7) / sqrt(8) = [3.21251208176379, 6.78748791823621].
  const auto ci = rp::mean_interval(rp::mean_std({2, 4, 4, 4, 5, 5, 7, 9}));
  EXPECT_NEAR(ci.low, 3.21251208176379, kStatsTol);
  EXPECT_NEAR(ci.high, 6.78748791823621, kStatsTol);
  // Two values a, b: mean -+ t_{0.975, 1} |a - b| / 2 (sd = |a - b| / sqrt 2).
  const auto two = rp::mean_interval(rp::mean_std({10, 12}));
  EXPECT_NEAR(two.high - 11, std::tan(kPi * 0.475), 1e-11);
  EXPECT_TRUE(std::isnan(rp::mean_interval(rp::mean_std({3})).low)) << "one value has no interval";
}

TEST(AggregateStats, WelchTestWorkedByHand) {
  // x = 1..5: mean 3, s^2 = 10/4 = 2.5; y = 2, 4, ..., 12: mean 7, s^2 = 70/5 = 14.
  // se^2 = 2.5/5 + 14/6 = 17/6, t = (3 - 7) / sqrt(17/6) = -2.37635410314402,
  // df = (17/6)^2 / ((1/2)^2 / 4 + (7/3)^2 / 5) = (289/36) / (829/720) = 5780/829 = 6.97225572979493,
  // p = I_{df/(df+t^2)}(df/2, 1/2) = 0.0492843382067305 (mpmath), and the interval
  // -4 -+ t_{0.975, 5780/829} sqrt(17/6) = [-7.98346869562883, -0.0165313043711679].
  const auto w = rp::welch_t_test(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{2, 4, 6, 8, 10, 12});
  EXPECT_EQ(w.pairing, rp::Pairing::kWelch);
  EXPECT_EQ(w.n_x, 5);
  EXPECT_EQ(w.n_y, 6);
  EXPECT_NEAR(w.difference, -4.0, kStatsTol);
  EXPECT_NEAR(w.standard_error, std::sqrt(17.0 / 6.0), kStatsTol);
  EXPECT_NEAR(w.t, -4.0 / std::sqrt(17.0 / 6.0), kStatsTol);
  EXPECT_NEAR(w.df, 5780.0 / 829.0, kStatsTol);
  EXPECT_NEAR(w.p, 0.0492843382067305, kStatsTol);
  EXPECT_NEAR(w.interval.low, -7.98346869562883, 1e-11);
  EXPECT_NEAR(w.interval.high, -0.0165313043711679, 1e-11);
  // From the summaries alone (as against the paper): the same test; swapped, the sign flips.
  const auto s = rp::welch_t_test(rp::Stat{5, 3.0, std::sqrt(2.5)}, rp::Stat{6, 7.0, std::sqrt(14.0)});
  EXPECT_NEAR(s.p, w.p, kStatsTol);
  const auto swapped = rp::welch_t_test(std::vector<double>{2, 4, 6, 8, 10, 12}, std::vector<double>{1, 2, 3, 4, 5});
  EXPECT_NEAR(swapped.t, -w.t, kStatsTol);
  EXPECT_NEAR(swapped.p, w.p, kStatsTol);
}

TEST(AggregateStats, PairedTestWorkedByHand) {
  // x = 10, 12, 9, 11 and y = 8, 11, 9, 8: d = 2, 1, 0, 3, mean 3/2, s_d^2 = 5/3,
  // se = sqrt(5/12), t = 1.5 / sqrt(5/12) = 2.32379000772445, df = 3, and with
  // u = t / sqrt 3 the t_3 closed form p = 1 - (2/pi) (u / (1 + u^2) + atan u);
  // the interval 1.5 -+ t_{0.975, 3} sqrt(5/12) with t_{0.975, 3} = 3.18244630528371.
  const std::vector<double> x{10, 12, 9, 11}, y{8, 11, 9, 8};
  const auto p = rp::paired_t_test(x, y);
  EXPECT_EQ(p.pairing, rp::Pairing::kPaired);
  EXPECT_EQ(p.n_x, 4);
  EXPECT_NEAR(p.difference, 1.5, kStatsTol);
  EXPECT_NEAR(p.t, 1.5 / std::sqrt(5.0 / 12.0), kStatsTol);
  EXPECT_EQ(p.df, 3.0);
  const double u = p.t / std::sqrt(3.0);
  EXPECT_NEAR(p.p, 1 - 2 / kPi * (u / (1 + u * u) + std::atan(u)), kStatsTol);
  EXPECT_NEAR(p.p, 0.10272807885839901, kStatsTol);
  EXPECT_NEAR(p.interval.low, 1.5 - 3.18244630528371 * std::sqrt(5.0 / 12.0), 1e-11);
  EXPECT_NEAR(p.interval.high, 1.5 + 3.18244630528371 * std::sqrt(5.0 / 12.0), 1e-11);
  // The same numbers unpaired lose the pairs' shared spread: t = 1.56669890360128,
  // df = 5.95081967213115, p = 0.168633247746163 (mpmath).
  const auto w = rp::welch_t_test(x, y);
  EXPECT_NEAR(w.t, 1.56669890360128, kStatsTol);
  EXPECT_NEAR(w.df, 5.95081967213115, kStatsTol);
  EXPECT_NEAR(w.p, 0.168633247746163, kStatsTol);
}

TEST(AggregateStats, TooFewValuesOrNoSpreadGiveNoTest) {
  EXPECT_EQ(rp::welch_t_test(std::vector<double>{1}, std::vector<double>{1, 2}).pairing, rp::Pairing::kNone);
  EXPECT_EQ(rp::paired_t_test({1}, {2}).pairing, rp::Pairing::kNone);
  // Equal values on both sides: the difference is known, its test is not.
  const auto flat = rp::welch_t_test(std::vector<double>{1, 1}, std::vector<double>{2, 2});
  EXPECT_EQ(flat.difference, -1.0);
  EXPECT_TRUE(std::isnan(flat.p));
  EXPECT_TRUE(std::isnan(rp::paired_t_test({1, 2}, {0, 1}).p)) << "constant differences";
  // Differences equal up to rounding (0.19999999999999998, 0.19999999999999996, 0.20000000000000007:
  // sd 5.8e-17) are no spread either; without the threshold t would be ~6e15 and p = 0.
  const auto rounding = rp::paired_t_test({0.3, 0.7, 0.9}, {0.1, 0.5, 0.7});
  EXPECT_EQ(rounding.pairing, rp::Pairing::kPaired);
  EXPECT_TRUE(std::isnan(rounding.p)) << rounding.p;
  EXPECT_THROW(rp::paired_t_test({1, 2}, {1}), nesgd::Error);
  EXPECT_THROW(rp::student_t_two_sided_p(1.0, -1.0), nesgd::Error);
}

// --- comparisons between points and against the paper ------------------------------------------------

TEST(Aggregate, ComparisonsArePairedOnSharedSeedsElseWelch) {
  const std::vector<rp::RunRow> rows{
      // A: B = 100, seeds 1..4.
      row(100, 1, 1, "converged", 1000, 0.90), row(100, 1, 2, "converged", 1100, 0.92),
      row(100, 1, 3, "converged", 1200, 0.94), row(100, 1, 4, "converged", 1300, 0.96),
      // B: B = 200, seeds 1, 2, 3 shared with A, seed 7 not; seed 8 capped.
      row(200, 1, 1, "converged", 900, 0.91), row(200, 1, 2, "converged", 1000, 0.94),
      row(200, 1, 3, "converged", 1150, 0.95), row(200, 1, 7, "converged", 5000, 0.50),
      row(200, 1, 8, "not_converged", 9000, 0.10),
      // C: B = 300, seeds 8 and 9 (none shared with A).
      row(300, 1, 8, "converged", 2000, 0.80), row(300, 1, 9, "converged", 2200, 0.84)};
  const auto points = rp::summarize(rows);
  const auto& a = find(points, 100, 1);
  const auto& b = find(points, 200, 1);
  const auto& c = find(points, 300, 1);
  // B - A on seeds 1-3 only: accuracy d = .01, .02, .01 (mean 1/75, sd 1/(100 sqrt 3), t = 4, df 2,
  // p = 1 - 4/sqrt(18)); time d = -100, -100, -50 (mean -250/3, se 50/3, t = -5, p = 1 - 5/sqrt(27)).
  const auto ba = rp::compare_points(b, a);
  EXPECT_EQ(ba.accuracy.pairing, rp::Pairing::kPaired);
  EXPECT_EQ(ba.accuracy.n_x, 3) << "seed 7 and the capped seed 8 are not pairs";
  EXPECT_NEAR(ba.accuracy.difference, 0.04 / 3, kTol);
  EXPECT_NEAR(ba.accuracy.t, 4.0, 1e-9);
  EXPECT_NEAR(ba.accuracy.p, 1 - 4 / std::sqrt(18.0), 1e-9);
  EXPECT_EQ(ba.time.pairing, rp::Pairing::kPaired);
  EXPECT_NEAR(ba.time.difference, -250.0 / 3, 1e-9);
  EXPECT_NEAR(ba.time.t, -5.0, 1e-9);
  EXPECT_NEAR(ba.time.p, 1 - 5 / std::sqrt(27.0), 1e-9);
  // C - A share no seed: Welch on 2 vs 4 runs. Accuracy: means .82, .93; s^2 = .0008, .002/3;
  // se^2 = .0004 + 1/6000, df = se^4 / (.0004^2 / 1 + (1/6000)^2 / 3) = 1.89715536105033,
  // t = -.11 / se = -4.62092427729243, p = 0.0483405022404893 (mpmath).
  const auto ca = rp::compare_points(c, a);
  EXPECT_EQ(ca.accuracy.pairing, rp::Pairing::kWelch);
  EXPECT_EQ(ca.accuracy.n_x, 2);
  EXPECT_EQ(ca.accuracy.n_y, 4);
  EXPECT_NEAR(ca.accuracy.t, -4.62092427729243, 1e-9);
  EXPECT_NEAR(ca.accuracy.df, 1.89715536105033, 1e-9);
  EXPECT_NEAR(ca.accuracy.p, 0.0483405022404893, 1e-9);
  EXPECT_NEAR(ca.time.p, 0.0178306378622966, 1e-9);  // times 2000, 2200 vs 1000..1300: t = 7.98159647895966
}

TEST(Aggregate, ComparedWithThePaperByWelchFromItsMeanAndSd) {
  // Ours: 90.10, 90.20, 90.30 % (mean .902, sd .001, n 3); the paper: 90.17 +- 0.14 %, n = 10.
  // se^2 = .001^2/3 + .0014^2/10, t = .0003 / se, df = se^4 / ((.001^2/3)^2 / 2 + (.0014^2/10)^2 / 9).
  const auto points = rp::summarize({row(900, 1, 1, "converged", 10000, 0.9010),
                                     row(900, 1, 2, "converged", 11000, 0.9020),
                                     row(900, 1, 3, "converged", 12000, 0.9030)});
  const auto c = rp::compare_with_published(points[0], 90.17, 0.14, 10934, 816);
  const double vx = 1e-6 / 3, vy = 0.0014 * 0.0014 / 10;
  EXPECT_EQ(c.accuracy.pairing, rp::Pairing::kWelch);
  EXPECT_EQ(c.accuracy.n_y, 10);
  EXPECT_NEAR(c.accuracy.difference, 0.0003, kTol);
  EXPECT_NEAR(c.accuracy.t, 0.0003 / std::sqrt(vx + vy), 1e-9);
  EXPECT_NEAR(c.accuracy.df, (vx + vy) * (vx + vy) / (vx * vx / 2 + vy * vy / 9), 1e-9);
  // Time: 11000 +- 1000 (n 3) against 10934 +- 816 (n 10).
  EXPECT_NEAR(c.time.difference, 66, 1e-9);
  EXPECT_NEAR(c.time.standard_error, std::sqrt(1e6 / 3 + 816.0 * 816.0 / 10), 1e-9);
  // No published time: no time test.
  EXPECT_EQ(rp::compare_with_published(points[0], 90.17, 0.14, std::nan(""), std::nan("")).time.pairing,
            rp::Pairing::kNone);
}

TEST(Aggregate, Table2RowsSayWhetherBWasChosenAndCompareWithAlphaOne) {
  auto rows = hand_made();
  rows.push_back(row(900, 1.5, 1, "converged", 10, 0.5));  // alpha 1.5 now run at three B
  rows.push_back(row(2000, 1.5, 1, "converged", 10, 0.5, "C2"));  // C2: one B, not the paper's B_opt (1000)
  const auto t2 = rp::table2(rp::summarize(rows));
  ASSERT_EQ(t2.size(), 2u) << "F1 alpha 1 and 1.5; alpha 2 never converged; C2's single B is no B_opt";
  const auto& one = t2[0];
  EXPECT_EQ(one.point.alpha, 1.0);
  EXPECT_EQ(one.batch_sizes_run, 2);
  EXPECT_FALSE(one.reference.has_value()) << "alpha = 1 is the reference itself";
  ASSERT_NE(one.paper, nullptr);
  EXPECT_EQ(one.paper->b_opt, 900);
  ASSERT_TRUE(one.against_paper.has_value());
  EXPECT_NEAR(one.against_paper->accuracy.difference, 0.94 - 0.9017, kTol);
  const auto& nes = t2[1];
  EXPECT_EQ(nes.point.alpha, 1.5);
  EXPECT_EQ(nes.point.batch_size, 200);
  EXPECT_EQ(nes.batch_sizes_run, 3);
  ASSERT_TRUE(nes.reference && nes.against_reference);
  EXPECT_EQ(nes.reference->batch_size, 200);
  // alpha 1.5 at B = 200 has seed 1 only: nothing to pair, nothing to test (1 run).
  EXPECT_EQ(nes.against_reference->accuracy.pairing, rp::Pairing::kNone);
  EXPECT_NEAR(nes.against_reference->accuracy.difference, 0.96 - 0.94, kTol);
}

TEST(Aggregate, Table3ComparesWithThePapersNeOnlyAtItsLargeBatch) {
  auto rows = hand_made();
  rows.push_back(row(200, 3, 1, "converged", 600, 0.97));
  rows.push_back(row(200, 3, 2, "converged", 700, 0.98));
  auto t3 = rp::table3(rp::summarize(rows));
  ASSERT_EQ(t3.size(), 1u);
  EXPECT_EQ(t3[0].large_batch, 200);
  EXPECT_EQ(t3[0].without_ne_batch_sizes, 2);
  ASSERT_TRUE(t3[0].with_vs_without.has_value());
  // alpha 3 (seeds 1, 2) against alpha 1 at B_opt 200 (seeds 1, 2): paired, d = .04, .03.
  EXPECT_EQ(t3[0].with_vs_without->accuracy.pairing, rp::Pairing::kPaired);
  EXPECT_NEAR(t3[0].with_vs_without->accuracy.difference, 0.035, kTol);
  EXPECT_TRUE(t3[0].without_vs_paper.has_value());
  EXPECT_FALSE(t3[0].with_vs_paper.has_value()) << "B = 200 is not the paper's 5000";
  // The same at B = 5000: compared with the paper's NE (accuracy only, its Table 3 has no times).
  for (auto& r : rows) r.batch_size = r.batch_size == 200 ? 5000 : r.batch_size;
  t3 = rp::table3(rp::summarize(rows));
  ASSERT_TRUE(t3[0].with_vs_paper.has_value());
  EXPECT_NEAR(t3[0].with_vs_paper->accuracy.difference, 0.975 - 0.9035, kTol);
  EXPECT_EQ(t3[0].with_vs_paper->time.pairing, rp::Pairing::kNone);
}

TEST(Aggregate, LossCurveSkipsMissingNullAndNonPositiveLosses) {
  const auto c = rp::loss_curve_from_record(nlohmann::json::parse(R"({"run_id": "r1", "status": "converged",
    "iterations": 300, "config": {"model": "f1", "seed": 4, "l_star": 0.01, "l_stop": 0.001},
    "curve": [{"iteration": 100, "train_loss": 0.5}, {"iteration": 150, "train_loss": null},
              {"iteration": 200}, {"iteration": 250, "train_loss": 0.0},
              {"iteration": 300, "train_loss": 0.0009}]})"));
  EXPECT_EQ(c.seed, 4u);
  EXPECT_EQ(c.status, "converged");
  EXPECT_EQ(c.l_star, 0.01);
  EXPECT_EQ(c.l_stop, 0.001);
  ASSERT_EQ(c.points.size(), 2u) << "null, absent and zero losses have no place on a log axis";
  EXPECT_EQ(c.points[0], (std::pair<int64_t, double>{100, 0.5}));
  EXPECT_EQ(c.points[1], (std::pair<int64_t, double>{300, 0.0009}));
  // No curve (older records): no points; a curve of the wrong type: a named error.
  EXPECT_TRUE(rp::loss_curve_from_record(nlohmann::json::parse(
                  R"({"run_id": "r2", "status": "converged", "config": {}})")).points.empty());
  nesgd::testing::expect_error(
      [] {
        rp::loss_curve_from_record(nlohmann::json::parse(
            R"({"run_id": "r3", "status": "converged", "config": {}, "curve": [{"iteration": 1, "train_loss": "x"}]})"));
      },
      {"stored run r3", "'train_loss' must be a number"});
}
