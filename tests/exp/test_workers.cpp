// Sweep workers: how the cores are shared out and how a worker's command line is made.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "nesgd/error.h"
#include "nesgd/exp/workers.h"

namespace ex = nesgd::exp;

TEST(Workers, CoresAreSharedRoundRobinAndEveryCoreOnce) {
  using Shares = std::vector<std::vector<int>>;
  EXPECT_EQ(ex::partition_cpus({0, 1}, 2), (Shares{{0}, {1}}));
  EXPECT_EQ(ex::partition_cpus({0, 1}, 1), (Shares{{0, 1}}));
  EXPECT_EQ(ex::partition_cpus({0, 1, 2, 3, 4}, 2), (Shares{{0, 2, 4}, {1, 3}}));  // shares differ by one at most
  EXPECT_EQ(ex::partition_cpus({4, 6, 9}, 3), (Shares{{4}, {6}, {9}}));             // the allowed CPUs, not 0..n-1
  // More workers than CPUs: one CPU each, shared.
  EXPECT_EQ(ex::partition_cpus({0, 1}, 3), (Shares{{0}, {1}, {0}}));
  EXPECT_THROW(ex::partition_cpus({0, 1}, 0), nesgd::Error);
  EXPECT_THROW(ex::partition_cpus({}, 2), nesgd::Error);
}

TEST(Workers, ThisProcessHasAtLeastOneCpuAndEachOnce) {
  const auto cpus = ex::allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_EQ(std::set<int>(cpus.begin(), cpus.end()).size(), cpus.size());
}

TEST(Workers, AWorkersCommandLineIsTheSameWithoutWorkers) {
  using Args = std::vector<std::string>;
  EXPECT_EQ(ex::without_workers_flag({"nesgd", "sweep", "--workers", "2", "--store", "s"}),
            (Args{"nesgd", "sweep", "--store", "s"}));
  EXPECT_EQ(ex::without_workers_flag({"nesgd", "sweep", "--store", "s", "--workers=4"}),
            (Args{"nesgd", "sweep", "--store", "s"}));
  // Other flags and values stay, even ones that look alike.
  EXPECT_EQ(ex::without_workers_flag({"nesgd", "sweep", "--name", "--workers-study", "--seeds", "1..2"}),
            (Args{"nesgd", "sweep", "--name", "--workers-study", "--seeds", "1..2"}));
}
