// The gradient noise scale (optim/noise_scale.h) on numbers worked out by hand:
// with |G|^2 = 1 and tr(Sigma) = 4, E|g_B|^2 = 1 + 4 / B, so the batch sizes
// 1 and 2 give squared norms 5 and 3, and B_simple = 4.
#include <gtest/gtest.h>

#include <cmath>

#include "nesgd/error.h"
#include "nesgd/optim/noise_scale.h"
#include "support/compare.h"

using namespace nesgd::optim;

namespace {
using nesgd::testing::kExact;
}

TEST(NoiseScale, EstimateFromTwoBatchSizesIsExactOnExpectedNorms) {
  const NoiseScaleEstimate e = estimate_noise_scale(5.0, 1, 3.0, 2);
  EXPECT_NEAR(e.g_squared, 1.0, kExact);
  EXPECT_NEAR(e.trace_sigma, 4.0, kExact);
  EXPECT_NEAR(e.b_simple, 4.0, kExact);
  // B and 2B of 100: |g_100|^2 = 1 + 0.04, |g_200|^2 = 1 + 0.02.
  const NoiseScaleEstimate f = estimate_noise_scale(1.04, 100, 1.02, 200);
  EXPECT_NEAR(f.g_squared, 1.0, kExact);
  EXPECT_NEAR(f.trace_sigma, 4.0, 1e-10);
  // A non-positive |G|^2 estimate has no ratio.
  EXPECT_TRUE(std::isnan(estimate_noise_scale(5.0, 1, 2.0, 2).b_simple));  // |G|^2 ~ (4 - 5) / 1
  EXPECT_THROW(estimate_noise_scale(1.0, 2, 1.0, 2), nesgd::Error);
}

TEST(NoiseScale, TrackerIsBiasCorrectedAndRoundTripsItsState) {
  NoiseScaleTracker tracker(0.9);
  EXPECT_TRUE(std::isnan(tracker.smoothed().b_simple));
  tracker.add({1.0, 4.0, 4.0});
  // One estimate: the bias-corrected EMA is that estimate.
  EXPECT_NEAR(tracker.smoothed().g_squared, 1.0, kExact);
  EXPECT_NEAR(tracker.smoothed().b_simple, 4.0, kExact);
  tracker.add({3.0, 4.0, 4.0 / 3.0});
  // Weights 0.1 * 0.9 and 0.1 over 1 - 0.81: (0.09 * 1 + 0.1 * 3) / 0.19.
  EXPECT_NEAR(tracker.smoothed().g_squared, 0.39 / 0.19, kExact);
  EXPECT_NEAR(tracker.smoothed().trace_sigma, 4.0, kExact);
  NoiseScaleTracker copy;
  copy.load_state(tracker.save_state());
  EXPECT_EQ(copy.count(), 2);
  EXPECT_EQ(copy.smoothed().b_simple, tracker.smoothed().b_simple);
  EXPECT_THROW(copy.load_state("nonsense"), nesgd::Error);
  EXPECT_THROW(NoiseScaleTracker(1.0), nesgd::Error);
}
