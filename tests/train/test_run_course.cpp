// RunCourse: the protocol's side of a run (train/run_course.h) on scripted
// minibatch losses, every value worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nesgd/error.h"
#include "nesgd/train/run_course.h"

using namespace nesgd::train;

namespace {

RunConfig config(int64_t batch, double l_star, double l_stop) {
  RunConfig c;
  c.batch_size = batch;
  c.l_star = l_star;
  c.l_stop = l_stop;
  c.resolve_defaults_and_validate();
  return c;
}

double never() {
  ADD_FAILURE() << "the full loss was asked for outside a check of the full measure";
  return 0.0;
}

}  // namespace

TEST(RunCourse, ProtocolOptionsComeFromTheConfigAndTheLrIsHalved) {
  RunConfig c = config(10, 0.3, 0.1);
  c.max_iterations = 77;
  const ProtocolOptions o = protocol_options(c);
  EXPECT_EQ(o.l_star, 0.3);
  EXPECT_EQ(o.l_stop, 0.1);
  EXPECT_EQ(o.max_iterations, 77);
  EXPECT_EQ(o.lr_factor, 0.5);  // the paper: "halved"
}

// Window of 3 batches (an epoch), B = 10, the last batch of each epoch short (5 samples):
// epoch mean = (10 L1 + 10 L2 + 5 L3) / 25.
TEST(RunCourse, EpochMeanWeighsTheShortBatchAndChecksOncePerEpoch) {
  RunCourse course(config(10, 0.5, 0.2), 3);
  const CheckOutcome a = course.after_step(1, 1.0, 10, never);
  const CheckOutcome b = course.after_step(2, 0.8, 10, never);
  EXPECT_FALSE(a.checked);
  EXPECT_FALSE(b.checked);
  const CheckOutcome c = course.after_step(3, 0.6, 5, never);
  ASSERT_TRUE(c.checked);
  EXPECT_DOUBLE_EQ(c.measured, (10 * 1.0 + 10 * 0.8 + 5 * 0.6) / 25.0);  // 0.84
  EXPECT_FALSE(c.scale_lr);
  EXPECT_DOUBLE_EQ(course.last_train_loss(), 0.84);
  EXPECT_EQ(course.lr_multiplier(), 1.0);
  // Next epoch: (10 * 0.4 + 10 * 0.5 + 5 * 0.6) / 25 = 0.48 <= L* = 0.5: halve once.
  course.after_step(4, 0.4, 10, never);
  course.after_step(5, 0.5, 10, never);
  const CheckOutcome d = course.after_step(6, 0.6, 5, never);
  EXPECT_DOUBLE_EQ(d.measured, 0.48);
  EXPECT_TRUE(d.scale_lr);
  EXPECT_EQ(course.protocol().iterations_to_l_star(), 6);
  EXPECT_EQ(course.lr_multiplier(), 0.5);
  // Then (0.1 * 25) / 25 = 0.1 < L** = 0.2: converged at 9, no second halving.
  course.after_step(7, 0.1, 10, never);
  course.after_step(8, 0.1, 10, never);
  const CheckOutcome e = course.after_step(9, 0.1, 5, never);
  EXPECT_FALSE(e.scale_lr);
  EXPECT_EQ(course.protocol().status(), RunStatus::kConverged);
  EXPECT_EQ(course.protocol().stop_iteration(), 9);
}

TEST(RunCourse, FullMeasureAsksForTheFullLossAtChecksOnly) {
  RunConfig c = config(10, 0.5, 0.2);
  c.loss_measure = LossMeasure::kFull;
  c.eval_every = 2;
  RunCourse course(c, 100);  // eval_every, not the epoch, sets the checks
  int asked = 0;
  auto full = [&] {
    ++asked;
    return 0.7;
  };
  EXPECT_FALSE(course.after_step(1, 9.0, 10, full).checked);
  const CheckOutcome o = course.after_step(2, 9.0, 10, full);
  EXPECT_TRUE(o.checked);
  EXPECT_EQ(o.measured, 0.7);
  EXPECT_EQ(asked, 1);
}

TEST(RunCourse, ANonFiniteMinibatchLossDivergesTheRun) {
  RunCourse course(config(10, 0.5, 0.2), 1);
  const CheckOutcome o = course.after_step(1, std::nan(""), 10, never);
  EXPECT_FALSE(o.checked);  // a NaN epoch mean is no measurement (as before a full window)
  EXPECT_TRUE(std::isnan(course.last_train_loss()));
  EXPECT_EQ(course.protocol().status(), RunStatus::kDiverged);  // the minibatch loss ends it
  EXPECT_EQ(course.protocol().stop_iteration(), 1);
}

TEST(RunCourse, RestoreContinuesTheWindowAndRefusesAnOversizedOne) {
  RunCourse course(config(10, 0.5, 0.2), 3);
  course.restore(-1, 0.9, {1.0, 0.8}, {1.0, 1.0}, "ck.pt");
  const CheckOutcome c = course.after_step(3, 0.6, 5, never);
  EXPECT_DOUBLE_EQ(c.measured, 0.84);  // the window held the two restored losses
  RunCourse halved(config(10, 0.5, 0.2), 3);
  halved.restore(40, 0.45, {}, {}, "ck.pt");
  EXPECT_EQ(halved.lr_multiplier(), 0.5);
  EXPECT_EQ(halved.last_train_loss(), 0.45);
  RunCourse small(config(10, 0.5, 0.2), 1);
  try {
    small.restore(-1, 0.9, {1.0, 0.8}, {}, "ck.pt");
    FAIL() << "an oversized window must be refused";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ck.pt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("delete it"), std::string::npos) << e.what();
  }
}
