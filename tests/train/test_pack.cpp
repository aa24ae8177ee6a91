// Packs on real data: every member of a pack follows its single run step for
// step (float64, relative 1e-9), stops where it stops, and is recorded as it
// is; a member that diverges leaves the others untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "support/compare.h"
#include "support/synthetic.h"
#include "nesgd/error.h"
#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"

using namespace nesgd::train;

namespace {

// float64 pack against float64 single runs: only summation order differs.
constexpr double kRelTolerance = 1e-9;
constexpr int64_t kMinComparedSteps = 15;  // the synthetic problem stops after 15-35 steps

using nesgd::testing::rel_diff;

// F1's problem: 10 separable classes of 28x28 synthetic images (the pack's
// exactness needs a training problem, not the real files; the test set is small
// because every member and single run is evaluated on it in float64).
const nesgd::data::DatasetSplits& f1_data() {
  static const nesgd::data::DatasetSplits data = nesgd::testing::synthetic(500, 200, 21);
  return data;
}

// C1's: the same kind of problem as 3 x 8 x 8 images (C1's three poolings
// leave 1 x 1), so float64 convolutions, which take LibTorch's slow path, stay cheap.
const nesgd::data::DatasetSplits& c1_data() {
  static const nesgd::data::DatasetSplits data =
      nesgd::testing::synthetic(40, 20, 22, {/*channels=*/3, /*height=*/8, /*width=*/8, /*classes=*/10});
  return data;
}

RunConfig f1_config(uint64_t seed, double alpha) {
  RunConfig c;
  c.model = "f1";
  c.precision = "fp64";
  c.batch_size = 20;
  c.train_subset = 200;  // 10 steps an epoch
  c.alpha = alpha;
  c.seed = seed;
  c.l_star = 0.05;
  c.l_stop = 0.005;
  c.eval_every = 1;  // a curve point at every step: the comparison is step for step
  c.max_iterations = 1200;
  c.threads = 1;
  c.blas_threads = 2;
  return c;
}

// Compares a pack member's result with its single run's; returns the largest relative difference.
double expect_same_run(const RunResult& pack, const RunResult& single, const std::string& what) {
  EXPECT_EQ(to_string(pack.status), to_string(single.status)) << what;
  EXPECT_EQ(pack.iterations, single.iterations) << what;
  EXPECT_EQ(pack.iterations_to_l_star, single.iterations_to_l_star) << what;
  EXPECT_EQ(pack.samples_processed, single.samples_processed) << what;
  EXPECT_EQ(pack.epochs, single.epochs) << what;
  EXPECT_EQ(pack.curve.size(), single.curve.size()) << what;
  double worst = 0.0;
  for (size_t i = 0; i < std::min(pack.curve.size(), single.curve.size()); ++i) {
    const auto& p = pack.curve[i];
    const auto& s = single.curve[i];
    EXPECT_EQ(p.iteration, s.iteration) << what << " curve point " << i;
    EXPECT_EQ(p.lr, s.lr) << what << " curve point " << i;
    if (std::isfinite(s.train_loss)) worst = std::max(worst, rel_diff(p.train_loss, s.train_loss));
    if (std::isfinite(s.minibatch_loss)) worst = std::max(worst, rel_diff(p.minibatch_loss, s.minibatch_loss));
  }
  if (single.status != RunStatus::kDiverged) {
    EXPECT_EQ(pack.test_accuracy, single.test_accuracy) << what;
    worst = std::max(worst, rel_diff(pack.test_loss, single.test_loss));
    worst = std::max(worst, rel_diff(pack.final_full_train_loss, single.final_full_train_loss));
  }
  std::cout << what << ": " << to_string(pack.status) << " at " << pack.iterations << " (L* at "
            << pack.iterations_to_l_star << "), largest relative difference from the single run " << worst << "\n";
  EXPECT_LT(worst, kRelTolerance) << what;
  return worst;
}

}  // namespace

// One pack (one process: the single runs are computed once) covers both: members stop
// at different steps, and one member diverges beside the others.
TEST(Pack, F1MembersFollowTheirSingleRunsStepForStepStopWhereTheyStopAndSurviveADivergingOne) {
  // 2 seeds x 2 alphas, alpha = 1 included (no B' drawn for it, as alone), and a member
  // driven to NaN: Adam steps ~lr per weight, so at lr 1e100 the activations overflow.
  RunConfig bad = f1_config(3, 1.5);
  bad.optimizer.lr = 1e100;
  const std::vector<RunConfig> configs{f1_config(1, 1.0), f1_config(1, 1.5), bad, f1_config(2, 1.0),
                                       f1_config(2, 1.5)};
  std::vector<size_t> done_order;
  PackHooks hooks;
  hooks.on_member_done = [&](size_t index, const RunResult&) { done_order.push_back(index); };
  const std::vector<RunResult> packed = train_pack(configs, f1_data(), hooks);
  ASSERT_EQ(packed.size(), configs.size());

  EXPECT_EQ(packed[2].status, RunStatus::kDiverged);
  EXPECT_LT(packed[2].iterations, 20);
  expect_same_run(packed[2], train_run(bad, f1_data()), "diverging member");

  std::set<int64_t> stops;
  std::map<size_t, RunResult> singles;
  for (size_t i : {0, 1, 3, 4}) {
    const RunResult& single = singles[i] = train_run(configs[i], f1_data());
    ASSERT_EQ(single.status, RunStatus::kConverged) << "the test's settings must converge";
    EXPECT_GE(single.iterations, kMinComparedSteps);
    expect_same_run(packed[i], single,
                    "seed " + std::to_string(configs[i].seed) + " alpha " + std::to_string(configs[i].alpha));
    EXPECT_EQ(packed[i].pack_size, 5);
    EXPECT_EQ(packed[i].pack_index, static_cast<int64_t>(i));
    stops.insert(packed[i].iterations);
  }
  // Members stopped at different steps: the early ones left while the others went on.
  EXPECT_GE(stops.size(), 2u);
  ASSERT_EQ(done_order.size(), configs.size());
  for (size_t i = 1; i < done_order.size(); ++i) {
    EXPECT_LE(packed[done_order[i - 1]].iterations, packed[done_order[i]].iterations) << "reported as they stop";
  }
  // The record is an ordinary run record plus "pack".
  const auto j = to_json(packed[1], configs[1]);
  EXPECT_EQ(j["pack"]["size"], 5);
  EXPECT_EQ(j["pack"]["index"], 1);
  EXPECT_FALSE(to_json(singles[0], configs[0]).contains("pack"));
}

TEST(Pack, CapsFullLossMeasureAndInterruptionBehaveAsInSingleRuns) {
  std::vector<RunConfig> configs;
  for (uint64_t seed : {4, 5}) {
    RunConfig c = f1_config(seed, seed == 4 ? 2.0 : 1.0);
    c.loss_measure = LossMeasure::kFull;
    c.eval_every = 7;
    c.max_iterations = 30;  // a cap that is not a check step
    c.l_star = 1e-8;        // never reached: the cap is the point
    c.l_stop = 1e-9;
    configs.push_back(c);
  }
  const std::vector<RunResult> packed = train_pack(configs, f1_data());
  for (size_t i = 0; i < configs.size(); ++i) {
    EXPECT_EQ(packed[i].status, RunStatus::kNotConverged);
    expect_same_run(packed[i], train_run(configs[i], f1_data()), "capped member " + std::to_string(i));
  }
  PackHooks hooks;
  int polls = 0;
  hooks.should_stop = [&] { return ++polls > 5; };
  const std::vector<RunResult> stopped = train_pack(configs, f1_data(), hooks);
  for (const auto& r : stopped) {
    EXPECT_EQ(r.status, RunStatus::kInterrupted);
    EXPECT_EQ(r.iterations, 5);
  }
}

TEST(Pack, C1MembersWithGhostBatchNormFollowTheirSingleRuns) {
  const auto& data = c1_data();
  std::vector<RunConfig> configs;
  for (auto [seed, alpha] : std::vector<std::pair<uint64_t, double>>{{1, 1.0}, {2, 1.5}}) {
    RunConfig c;
    c.model = "c1";
      c.precision = "fp64";
    c.batch_size = 20;
    c.ghost_batch_size = 10;  // two ghost batches per minibatch
    c.train_subset = 40;
    c.alpha = alpha;
    c.seed = seed;
    c.eval_every = 1;
    c.max_iterations = 3;  // float64 convolutions take the slow path: a few steps
    configs.push_back(c);
  }
  const std::vector<RunResult> packed = train_pack(configs, data);
  for (size_t i = 0; i < configs.size(); ++i) {
    // The test loss is evaluated on the running statistics: ghost BN's updates are compared too.
    expect_same_run(packed[i], train_run(configs[i], data), "C1 member " + std::to_string(i));
  }
}

TEST(Pack, KerasEpochsWithAShortLastBatchMatchTheSingleRuns) {
  std::vector<RunConfig> configs;
  for (auto [seed, alpha] : std::vector<std::pair<uint64_t, double>>{{6, 1.0}, {7, 2.0}}) {
    RunConfig c = f1_config(seed, alpha);
    c.batch_size = 60;  // 200 = 3 x 60 + 20: every fourth step is a batch of 20
    c.eval_every = 0;   // the epoch-mean check, sample-weighted, once per epoch of 4 steps
    c.max_iterations = 20;
    c.l_star = 1e-8;  // never reached: both members run all 5 epochs
    c.l_stop = 1e-9;
    configs.push_back(c);
  }
  ASSERT_EQ(configs[0].sampling, "keras");
  ASSERT_EQ(configs[0].optimizer.name, "keras-adam");
  const std::vector<RunResult> packed = train_pack(configs, f1_data());
  for (size_t i = 0; i < configs.size(); ++i) {
    const RunResult single = train_run(configs[i], f1_data());
    EXPECT_EQ(single.samples_processed, (i == 0 ? 1 : 2) * (5 * 200));
    expect_same_run(packed[i], single, "keras member " + std::to_string(i));
    EXPECT_EQ(packed[i].curve.size(), 5u);
  }
}

TEST(Pack, RefusesRunsThatCannotShareAPack) {
  RunConfig a = f1_config(1, 1.0), b = f1_config(2, 1.5);
  b.batch_size = 100;
  EXPECT_THROW(train_pack({a, b}, f1_data()), nesgd::Error);
  b = f1_config(2, 1.5);
  b.optimizer.lr = 5e-4;  // the learning rate may differ
  EXPECT_EQ(pack_key(a), pack_key(b));
  RunConfig c = a;
  c.optimizer.name = "rmsprop";
  EXPECT_NE(pack_unsupported_reason(c).find("--pack 1"), std::string::npos);
  c = a;
  c.log_noise_scale = true;
  EXPECT_FALSE(pack_unsupported_reason(c).empty());
}
