// The L*/L** stopping rule on scripted loss sequences.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nesgd/error.h"
#include "nesgd/train/protocol.h"

using namespace nesgd::train;

namespace {

struct Trace {
  int lr_scalings = 0;
  int64_t scaled_at = -1;
  int64_t stopped_at = -1;
};

// Feeds one measured loss per iteration (as if checked every step).
Trace run_script(Protocol& p, const std::vector<double>& losses) {
  Trace t;
  for (size_t i = 0; i < losses.size(); ++i) {
    const auto it = static_cast<int64_t>(i + 1);
    auto d = p.on_training_loss(it, losses[i]);
    if (d.scale_lr) {
      ++t.lr_scalings;
      t.scaled_at = it;
    }
    auto a = p.after_step(it, losses[i]);
    if (d.stop || a.stop) {
      t.stopped_at = it;
      break;
    }
  }
  return t;
}

}  // namespace

TEST(Protocol, HalvesOnceAtLStarAndStopsBelowLStop) {
  Protocol p({0.01, 0.001, 0.5, 0});
  // reaches L* at step 3 (exactly 0.01: "reaches" is <=), goes back above, down again, stops at 7.
  const std::vector<double> losses{0.5, 0.02, 0.01, 0.02, 0.005, 0.001, 0.0009, 0.0001};
  const Trace t = run_script(p, losses);
  EXPECT_EQ(t.lr_scalings, 1);
  EXPECT_EQ(t.scaled_at, 3);
  EXPECT_EQ(p.iterations_to_l_star(), 3);
  EXPECT_EQ(t.stopped_at, 7) << "0.001 is not below L** = 0.001; 0.0009 is";
  EXPECT_EQ(p.status(), RunStatus::kConverged);
  EXPECT_EQ(p.stop_iteration(), 7);
}

TEST(Protocol, OneCheckBelowBothHalvesAndStops) {
  Protocol p({0.01, 0.001, 0.5, 0});
  auto d = p.on_training_loss(10, 0.0005);
  EXPECT_TRUE(d.scale_lr);
  EXPECT_TRUE(d.stop);
  EXPECT_EQ(p.iterations_to_l_star(), 10);
  EXPECT_EQ(p.status(), RunStatus::kConverged);
}

TEST(Protocol, MaxIterationsEndsNotConverged) {
  Protocol p({0.01, 0.001, 0.5, 5});
  const Trace t = run_script(p, std::vector<double>(100, 0.3));
  EXPECT_EQ(t.stopped_at, 5);
  EXPECT_EQ(t.lr_scalings, 0);
  EXPECT_EQ(p.status(), RunStatus::kNotConverged);
  EXPECT_EQ(p.iterations_to_l_star(), -1);
}

TEST(Protocol, ConvergenceAtTheCapCountsAsConverged) {
  Protocol p({0.01, 0.001, 0.5, 3});
  const Trace t = run_script(p, {0.5, 0.2, 0.0001});
  EXPECT_EQ(t.stopped_at, 3);
  EXPECT_EQ(p.status(), RunStatus::kConverged);
}

TEST(Protocol, NanOrInfiniteLossEndsDiverged) {
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    Protocol p({0.01, 0.001, 0.5, 1000});
    const Trace t = run_script(p, {0.5, 0.3, bad, 0.0001});
    EXPECT_EQ(t.stopped_at, 3);
    EXPECT_EQ(p.status(), RunStatus::kDiverged);
  }
  // A non-finite minibatch loss between checks also ends the run.
  Protocol p({0.01, 0.001, 0.5, 1000});
  EXPECT_FALSE(p.after_step(1, 0.4).stop);
  EXPECT_TRUE(p.after_step(2, std::numeric_limits<double>::quiet_NaN()).stop);
  EXPECT_EQ(p.status(), RunStatus::kDiverged);
}

TEST(Protocol, InterruptIsRecorded) {
  Protocol p({0.01, 0.001, 0.5, 0});
  p.interrupt(12);
  EXPECT_EQ(p.status(), RunStatus::kInterrupted);
  EXPECT_EQ(p.stop_iteration(), 12);
  EXPECT_EQ(to_string(RunStatus::kInterrupted), "interrupted");
}

TEST(Protocol, RejectsInconsistentThresholds) {
  EXPECT_THROW(Protocol({0.001, 0.01, 0.5, 0}), nesgd::Error);
  EXPECT_THROW(Protocol({0.01, 0.0, 0.5, 0}), nesgd::Error);
  EXPECT_THROW(Protocol({0.01, 0.001, 0.5, -1}), nesgd::Error);
}

TEST(EpochMeanLoss, MeanOverTheLastWindow) {
  EpochMeanLoss m(3);
  m.add(1.0);
  m.add(2.0);
  EXPECT_FALSE(m.ready());
  EXPECT_TRUE(std::isnan(m.value()));
  m.add(3.0);
  EXPECT_TRUE(m.ready());
  EXPECT_DOUBLE_EQ(m.value(), 2.0);
  m.add(7.0);  // window is now {2, 3, 7}
  EXPECT_DOUBLE_EQ(m.value(), 4.0);
}

// Keras's epoch loss with a short last batch: n = 10, B = 4 gives batches of
// 4, 4 and 2 samples (weights 1, 1, 0.5 relative to B). With losses 1, 2, 4:
//   sample-weighted: (4*1 + 4*2 + 2*4) / (4 + 4 + 2) = 20 / 10 = 2.0
//   (the unweighted mean would be 7/3 = 2.333...)
// All numbers are exact in binary, so the comparison is exact.
TEST(EpochMeanLoss, KerasWeightsEachBatchBySize) {
  EpochMeanLoss m(3);
  m.add(1.0, 1.0);
  m.add(2.0, 1.0);
  m.add(4.0, 0.5);
  ASSERT_TRUE(m.ready());
  EXPECT_EQ(m.value(), 2.0);
  // The next epoch's first batch pushes the first one out: the window is
  // {2 (w 1), 4 (w 0.5), 3 (w 1)}: (2 + 2 + 3) / 2.5 = 7 / 2.5 = 2.8.
  m.add(3.0, 1.0);
  EXPECT_DOUBLE_EQ(m.value(), 2.8);
  EXPECT_EQ(m.weights(), (std::vector<double>{1.0, 0.5, 1.0}));
  EXPECT_EQ(m.values(), (std::vector<double>{2.0, 4.0, 3.0}));
}

// Full batches (weight 1) give the plain mean bit for bit: losses whose sum
// rounds, divided by the window, exactly as before weights existed.
TEST(EpochMeanLoss, FullBatchesGiveThePlainMeanExactly) {
  const std::vector<double> losses{0.1, 0.7, 0.2, 1.0 / 3.0, 2.0 / 7.0};
  EpochMeanLoss m(5);
  double s = 0.0;
  for (double l : losses) {
    m.add(l);
    s += l;
  }
  EXPECT_EQ(m.value(), s / 5.0);
}

TEST(EpochMeanLoss, RejectsWeightsOutsideZeroToOne) {
  EpochMeanLoss m(2);
  EXPECT_THROW(m.add(1.0, 0.0), nesgd::Error);
  EXPECT_THROW(m.add(1.0, 1.5), nesgd::Error);
  EXPECT_THROW(m.add(1.0, -0.5), nesgd::Error);
}
