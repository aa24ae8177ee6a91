// The progress lines that `nesgd train`, `sweep` and `noise` print, and how
// often a log gets one (exp/progress.h): exact text for values worked by hand.
#include <gtest/gtest.h>

#include <limits>

#include "nesgd/exp/progress.h"

namespace ex = nesgd::exp;

TEST(Progress, DurationsAreHoursMinutesSeconds) {
  EXPECT_EQ(ex::format_duration(0.0), "00:00:00");
  EXPECT_EQ(ex::format_duration(3725.9), "01:02:05");
  EXPECT_EQ(ex::format_duration(100 * 3600.0), "100:00:00");
}

TEST(Progress, LinesOfARunAPackAndAPhase) {
  nesgd::train::Progress p;
  p.iteration = 1200;
  p.epoch = 12;
  p.train_loss = 0.01234;
  p.minibatch_loss = 0.011;
  p.lr = 1e-3;
  p.samples_per_second = 5000;
  p.seconds = 62;
  EXPECT_EQ(ex::progress_line(p),
            "it    1200 | ep   12 | train loss 0.01234 | batch loss 0.01100 | lr 1.00e-03 |    5000 samples/s | 00:01:02");
  p.train_loss = std::numeric_limits<double>::quiet_NaN();  // before the first check
  EXPECT_NE(ex::progress_line(p).find("| train loss    -    |"), std::string::npos) << ex::progress_line(p);

  nesgd::train::PackProgress k;
  k.running = 3;
  k.members = 8;
  k.iteration = 1200;
  k.min_train_loss = 0.0123;
  k.max_train_loss = 0.0456;
  k.samples_per_second = 40000;
  k.seconds = 62;
  EXPECT_EQ(ex::pack_progress_line(k), "pack: 3 of 8 running | it 1200 | train loss 0.0123..0.0456 | 40000 samples/s | 00:01:02");
  k.min_train_loss = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(ex::pack_progress_line(k).find("| train loss -- |"), std::string::npos) << ex::pack_progress_line(k);

  EXPECT_EQ(ex::phase_progress_line("draws", 12, 200, 3), "draws             12/200    00:00:03");
}

TEST(Progress, ThrottleLetsALineThroughOncePerInterval) {
  ex::LineThrottle t(30.0);
  EXPECT_TRUE(t.due(5.0));  // the first
  EXPECT_FALSE(t.due(20.0));
  EXPECT_TRUE(t.due(35.0));
  EXPECT_FALSE(t.due(40.0));
  EXPECT_TRUE(t.due(41.0, /*force=*/true));
  EXPECT_FALSE(t.due(70.0)) << "a forced line restarts the interval";
  t.restart();
  EXPECT_TRUE(t.due(72.0));
}
