// The training loop on a small synthetic problem: protocol outcomes,
// reproducibility, the learning-rate halving and the result record.
#include <gtest/gtest.h>

#include "support/curve.h"

#include <cmath>
#include <random>

#include "nesgd/error.h"
#include "nesgd/train/trainer.h"

using namespace nesgd::train;

namespace {

// 10 classes of 28x28 "images": class k lights a distinct block of pixels,
// plus noise. Separable, so F1 fits it quickly.
nesgd::data::DatasetSplits synthetic(int64_t n_train, int64_t n_test, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> noise(0, 60);
  auto make = [&](int64_t n) {
    nesgd::data::ImageSet s;
    s.n = n;
    s.channels = 1;
    s.height = 28;
    s.width = 28;
    s.num_classes = 10;
    s.images.resize(static_cast<size_t>(n * 784));
    s.labels.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = i % 10;
      s.labels[static_cast<size_t>(i)] = k;
      for (int64_t p = 0; p < 784; ++p) {
        const bool on = (p / 78) == k;
        s.images[static_cast<size_t>(i * 784 + p)] = static_cast<uint8_t>(noise(rng) + (on ? 150 : 0));
      }
    }
    return s;
  };
  nesgd::data::DatasetSplits d;
  d.name = "synthetic";
  d.source = "generated in test";
  d.train = make(n_train);
  d.test = make(n_test);
  return d;
}

RunConfig small_config() {
  RunConfig c;
  c.model = "f1";
  c.batch_size = 50;
  c.alpha = 1.5;
  c.seed = 3;
  c.l_star = 0.05;
  c.l_stop = 0.01;
  c.max_iterations = 2000;
  c.threads = 1;
  c.blas_threads = 1;
  return c;
}

}  // namespace

TEST(Trainer, ConvergesOnASeparableProblemAndHalvesTheLrOnce) {
  const auto data = synthetic(500, 200, 1);
  const RunConfig c = small_config();
  const RunResult r = train_run(c, data);
  ASSERT_EQ(r.status, RunStatus::kConverged) << "iterations " << r.iterations;
  EXPECT_GT(r.test_accuracy, 0.95);
  ASSERT_GE(r.iterations_to_l_star, 1);
  EXPECT_LE(r.iterations_to_l_star, r.iterations);
  ASSERT_FALSE(r.curve.empty());
  EXPECT_LT(r.curve.back().train_loss, c.l_stop);
  EXPECT_EQ(r.curve.back().iteration, r.iterations);
  // Epoch-mean checks happen once per epoch: 500 / 50 = 10 iterations apart.
  for (const auto& p : r.curve) EXPECT_EQ(p.iteration % 10, 0);
  // The LR is 1e-3 until the L* check and 5e-4 from then on, never halved twice.
  for (const auto& p : r.curve) {
    const double expected = p.iteration < r.iterations_to_l_star ? 1e-3 : 5e-4;
    EXPECT_DOUBLE_EQ(p.lr, expected) << "at iteration " << p.iteration;
  }
  EXPECT_EQ(r.samples_processed, r.iterations * 2 * c.batch_size) << "NE processes B and B' each step";
}

TEST(Trainer, SameSeedSameRunOtherSeedOtherRun) {
  const auto data = synthetic(300, 100, 2);
  RunConfig c = small_config();
  c.max_iterations = 40;
  const auto a = to_json(train_run(c, data), c);
  const auto b = to_json(train_run(c, data), c);
  EXPECT_EQ(nesgd::testing::without_timing(a["curve"]), nesgd::testing::without_timing(b["curve"]));
  EXPECT_EQ(a["test_loss"], b["test_loss"]);
  EXPECT_EQ(a["iterations"], b["iterations"]);
  c.seed = 4;
  const auto other = to_json(train_run(c, data), c);
  EXPECT_NE(a["test_loss"], other["test_loss"]);
}

TEST(Trainer, MaxIterationsGivesNotConverged) {
  const auto data = synthetic(300, 100, 3);
  RunConfig c = small_config();
  c.max_iterations = 7;
  c.alpha = 1.0;
  const RunResult r = train_run(c, data);
  EXPECT_EQ(r.status, RunStatus::kNotConverged);
  EXPECT_EQ(r.iterations, 7);
  EXPECT_EQ(r.samples_processed, 7 * c.batch_size) << "alpha = 1 must not process B'";
}

TEST(Trainer, HugeLearningRateDiverges) {
  const auto data = synthetic(300, 100, 4);
  RunConfig c = small_config();
  c.optimizer.name = "sgd";
  c.optimizer.lr = 1e8;
  const RunResult r = train_run(c, data);
  EXPECT_EQ(r.status, RunStatus::kDiverged);
  EXPECT_LT(r.iterations, c.max_iterations);
}

TEST(Trainer, FullLossMeasureChecksEveryEvalEvery) {
  const auto data = synthetic(400, 100, 5);
  RunConfig c = small_config();
  c.loss_measure = LossMeasure::kFull;
  c.eval_every = 3;
  c.max_iterations = 12;
  c.l_stop = 1e-9;
  c.l_star = 1e-8;
  const RunResult r = train_run(c, data);
  ASSERT_EQ(r.curve.size(), 4u);
  EXPECT_EQ(r.curve[0].iteration, 3);
  EXPECT_EQ(r.curve[3].iteration, 12);
  // The last check is at the final weights: the full-set loss there equals the final evaluation.
  EXPECT_NEAR(r.curve.back().train_loss, r.final_full_train_loss, 1e-6);
}

TEST(Trainer, InterruptStopsWithStatusInterrupted) {
  const auto data = synthetic(300, 100, 6);
  RunConfig c = small_config();
  int polls = 0;
  TrainHooks hooks;
  hooks.should_stop = [&] { return ++polls > 5; };
  const RunResult r = train_run(c, data, hooks);
  EXPECT_EQ(r.status, RunStatus::kInterrupted);
  EXPECT_EQ(r.iterations, 5);
}

TEST(Trainer, ResultRecordCarriesConfigEnvironmentAndCurve) {
  const auto data = synthetic(300, 100, 7);
  RunConfig c = small_config();
  c.max_iterations = 12;
  const auto j = to_json(train_run(c, data), c);
  for (const char* key : {"status", "iterations", "iterations_to_l_star", "test_accuracy", "test_loss", "train_loss",
                          "wall_seconds", "samples_per_second", "config", "seed", "libtorch_version", "device",
                          "environment", "curve", "loss_measure"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["config"]["alpha"], 1.5);
  EXPECT_EQ(j["config"]["l_star"], 0.05);
  EXPECT_EQ(j["libtorch_version"], "1.13.0");
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["environment"]["threads"]["aten_threads"], 1);
  // Round trip of the config through JSON.
  EXPECT_EQ(to_json(run_config_from_json(j["config"])), j["config"]);
}

TEST(Trainer, BadConfigIsRejectedBeforeWork) {
  const auto data = synthetic(100, 10, 8);
  RunConfig c = small_config();
  c.batch_size = 1000;  // > 100 training samples
  EXPECT_THROW(train_run(c, data), nesgd::Error);
  c = small_config();
  c.model = "vgg";
  EXPECT_THROW(train_run(c, data), nesgd::Error);
  c = small_config();
  c.device = "tpu";
  EXPECT_THROW(train_run(c, data), nesgd::Error);
}
