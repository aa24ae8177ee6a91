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
