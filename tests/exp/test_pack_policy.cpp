// Whether and how a sweep packs its runs (exp/pack_policy.h): the --pack
// option beside checkpoints, and which pending runs share a pack, in grid order.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nesgd/exp/pack_policy.h"
#include "support/data.h"

namespace ex = nesgd::exp;
using nesgd::testing::expect_error;

namespace {

ex::PlannedRun planned(size_t position, int64_t batch_size, double alpha, uint64_t seed) {
  ex::PlannedRun r;
  r.position = position;
  r.id = std::to_string(position);
  r.config.batch_size = batch_size;
  r.config.alpha = alpha;
  r.config.seed = seed;
  return r;
}

// The units as the positions of their runs.
std::vector<std::vector<size_t>> positions(const std::vector<std::vector<const ex::PlannedRun*>>& units) {
  std::vector<std::vector<size_t>> out;
  for (const auto& unit : units) {
    out.emplace_back();
    for (const ex::PlannedRun* r : unit) out.back().push_back(r->position);
  }
  return out;
}

}  // namespace

TEST(PackPolicy, PackOptionIsAutoOrAPositiveCountAndCheckpointsMeanOneRunAtATime) {
  EXPECT_EQ(ex::pack_option("auto", 0.0), ex::kAutoPack);
  EXPECT_EQ(ex::pack_option("auto", 30.0), 1);
  EXPECT_EQ(ex::pack_option("1", 30.0), 1);
  EXPECT_EQ(ex::pack_option("8", 0.0), 8);
  for (const char* bad : {"0", "-2", "x1", "3x", "", "1.5"}) {
    expect_error([bad] { ex::pack_option(bad, 0.0); },
                 {"--pack must be 'auto' or a positive integer", std::string("got '") + bad + "'"});
  }
  expect_error([] { ex::pack_option("4", 30.0); }, {"--checkpoint-every needs --pack 1", "no checkpoints"});
}

TEST(PackPolicy, WorkUnitsPackLikeRunsInGridOrderAndKeepAlphaOneApart) {
  // Grid order: B 100 alpha 1 seeds 1-3, B 100 alpha 1.5 seeds 1-3, B 200 alpha 1 seed 1.
  std::vector<ex::PlannedRun> plan{planned(0, 100, 1.0, 1), planned(1, 100, 1.0, 2), planned(2, 100, 1.0, 3),
                                   planned(3, 100, 1.5, 1), planned(4, 100, 1.5, 2), planned(5, 100, 1.5, 3),
                                   planned(6, 200, 1.0, 1)};
  std::vector<const ex::PlannedRun*> pending;
  for (const auto& r : plan) pending.push_back(&r);
  const auto never = [](const nesgd::train::RunConfig&) -> int64_t {
    ADD_FAILURE() << "a fixed pack size asks for no automatic one";
    return 1;
  };
  using Units = std::vector<std::vector<size_t>>;
  EXPECT_EQ(positions(ex::work_units(pending, 1, never)), (Units{{0}, {1}, {2}, {3}, {4}, {5}, {6}}));
  EXPECT_EQ(positions(ex::work_units(pending, 2, never)), (Units{{0, 1}, {2}, {3, 4}, {5}, {6}}));
  int asked = 0;
  const auto three = [&asked](const nesgd::train::RunConfig&) -> int64_t {
    ++asked;
    return 3;
  };
  EXPECT_EQ(positions(ex::work_units(pending, ex::kAutoPack, three)), (Units{{0, 1, 2}, {3, 4, 5}, {6}}));
  EXPECT_EQ(asked, 3) << "once per group of runs that may share a pack";
  // A run a pack cannot hold trains alone, in its place.
  plan[1].config.log_noise_scale = true;
  EXPECT_EQ(positions(ex::work_units(pending, 3, never)), (Units{{0, 2}, {1}, {3, 4, 5}, {6}}));
}
