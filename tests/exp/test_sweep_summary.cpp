// What a sweep did, counted: the tally run_sweep keeps as runs end, and the
// recount from the store that `nesgd sweep --workers` prints (exp/sweep_summary.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nesgd/exp/sweep_summary.h"

namespace ex = nesgd::exp;

namespace {

ex::PlannedRun planned(const std::string& id, bool in_shard, bool done) {
  ex::PlannedRun r;
  r.id = id;
  r.in_shard = in_shard;
  r.done = done;
  return r;
}

nlohmann::json record(const std::string& id, const std::string& status) {
  return {{"run_id", id}, {"status", status}};
}

}  // namespace

TEST(SweepSummary, CountRunCountsEachEndOnce) {
  ex::SweepSummary s;
  for (const char* status : {"converged", "converged", "not_converged", "diverged", "interrupted"}) {
    ex::count_run(s, status);
  }
  EXPECT_EQ(s.ran_here, 5u);
  EXPECT_EQ(s.converged, 2u);
  EXPECT_EQ(s.not_converged, 1u);
  EXPECT_EQ(s.diverged, 1u);
}

TEST(SweepSummary, RecountFromTheStoreSeesOnlyTheShardsNewRuns) {
  const std::vector<ex::PlannedRun> plan{
      planned("a", true, true),    // stored before: already done, not counted again
      planned("b", true, false),   // stored by the workers: converged, first of a pack
      planned("c", true, false),   // second member of that pack
      planned("d", true, false),   // not stored: missing
      planned("e", false, false),  // another shard's
      planned("f", true, false),   // diverged alone
  };
  nlohmann::json b = record("b", "converged"), c = record("c", "not_converged");
  b["pack"] = {{"size", 2}, {"index", 0}};
  c["pack"] = {{"size", 2}, {"index", 1}};
  const std::vector<nlohmann::json> records{record("a", "converged"), b, c, record("e", "converged"),
                                            record("f", "diverged"), record("z", "converged")};
  const ex::SweepSummary s = ex::recount_sweep(plan, records);
  EXPECT_EQ(s.grid_size, 6u);
  EXPECT_EQ(s.shard_size, 5u);
  EXPECT_EQ(s.already_done, 1u);
  EXPECT_EQ(s.ran_here, 3u);
  EXPECT_EQ(s.converged, 1u);
  EXPECT_EQ(s.not_converged, 1u);
  EXPECT_EQ(s.diverged, 1u);
  EXPECT_EQ(s.missing, 1u);
  EXPECT_EQ(s.packs, 1u);
  EXPECT_FALSE(s.interrupted);
  EXPECT_EQ(s.exported_rows, 0u);
}
