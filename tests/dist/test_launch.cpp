// Where the ranks of a data-parallel run meet, and how a batch splits over them.
#include "nesgd/dist/launch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "nesgd/error.h"

namespace nesgd::dist {
namespace {

using ::testing::HasSubstr;

Getenv env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Launch, ReadsTorchrunsVariables) {
  const LaunchInfo i = launch_info_from_env(
      {}, env({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "1234"}}));
  EXPECT_EQ(i.rank, 3);
  EXPECT_EQ(i.world_size, 4);
  EXPECT_EQ(i.local_rank, 1);
  EXPECT_EQ(i.master_addr, "node7");
  EXPECT_EQ(i.master_port, 1234);
  EXPECT_EQ(i.launcher, "torchrun");
}

TEST(Launch, JoinsTorchrunsAgentStoreWhereTheAgentHostsIt) {
  const LaunchInfo i = launch_info_from_env(
      {}, env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"},
               {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  EXPECT_TRUE(i.agent_store);
  EXPECT_EQ(i.store_prefix, "/worker/attempt_2/nesgd");
  EXPECT_FALSE(launch_info_from_env({}, env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}})).agent_store);
}

TEST(Launch, ReadsSlurmsVariablesWithTheAddressFromAFlagOrVariable) {
  const auto vars = std::map<std::string, std::string>{{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"}};
  EXPECT_THAT(error_of([&] { launch_info_from_env({}, env(vars)); }), HasSubstr("--dist-addr"));
  const LaunchInfo f = launch_info_from_env({"head0", 4000}, env(vars));
  EXPECT_EQ(f.rank, 5);
  EXPECT_EQ(f.world_size, 8);
  EXPECT_EQ(f.local_rank, 1);
  EXPECT_EQ(f.master_addr, "head0");
  EXPECT_EQ(f.master_port, 4000);
  EXPECT_EQ(f.launcher, "slurm");
  auto with_var = vars;
  with_var["NESGD_MASTER_ADDR"] = "head1";
  const LaunchInfo v = launch_info_from_env({}, env(with_var));
  EXPECT_EQ(v.master_addr, "head1");
  EXPECT_EQ(v.master_port, kDefaultPort);
}

TEST(Launch, FlagsOverrideTheEnvironment) {
  const LaunchInfo i = launch_info_from_env(
      {"10.0.0.2", 4444}, env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "x"}, {"MASTER_PORT", "1"}}));
  EXPECT_EQ(i.master_addr, "10.0.0.2");
  EXPECT_EQ(i.master_port, 4444);
}

TEST(Launch, BadOrMissingVariablesAreExplained) {
  EXPECT_THAT(error_of([] { launch_info_from_env({}, env({})); }), HasSubstr("torchrun"));
  EXPECT_THAT(error_of([] { launch_info_from_env({}, env({{"RANK", "0"}})); }), HasSubstr("not WORLD_SIZE"));
  EXPECT_THAT(error_of([] { launch_info_from_env({}, env({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"}})); }),
              HasSubstr("RANK=2 is not an integer in [0, 1]"));
  EXPECT_THAT(error_of([] { launch_info_from_env({}, env({{"RANK", "x"}, {"WORLD_SIZE", "2"}})); }),
              HasSubstr("RANK=x"));
  EXPECT_THAT(error_of([] {
                launch_info_from_env({}, env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "a"},
                                              {"MASTER_PORT", "70000"}}));
              }),
              HasSubstr("MASTER_PORT=70000"));
  EXPECT_THAT(error_of([] { launch_info_from_env({"a", 70000}, env({{"RANK", "0"}, {"WORLD_SIZE", "2"}})); }),
              HasSubstr("--dist-port must be"));
}

TEST(Launch, OneRankNeedsNoAddress) {
  const LaunchInfo i = launch_info_from_env({}, env({{"RANK", "0"}, {"WORLD_SIZE", "1"}}));
  EXPECT_EQ(i.master_addr, "127.0.0.1");
}

TEST(BatchSplit, FullBatchesSplitEvenlyInWholeUnits) {
  // B = 400 over 4 ranks in ghost batches of 50: two ghosts each.
  for (int r = 0; r < 4; ++r) {
    const Slice s = slice_of_batch(400, 50, r, 4);
    EXPECT_EQ(s.begin, 100 * r);
    EXPECT_EQ(s.end, 100 * (r + 1));
  }
  // Without batch norm the unit is one sample.
  EXPECT_EQ(slice_of_batch(10, 1, 1, 2).begin, 5);
}

TEST(BatchSplit, AShortBatchSplitsUnevenlyAndCoversEverySampleOnce) {
  // A keras epoch's short last batch of 150 = 3 ghosts over 4 ranks.
  int64_t covered = 0, next = 0;
  for (int r = 0; r < 4; ++r) {
    const Slice s = slice_of_batch(150, 50, r, 4);
    EXPECT_EQ(s.begin, next);
    EXPECT_EQ(s.begin % 50, 0);
    next = s.end;
    covered += s.size();
  }
  EXPECT_EQ(covered, 150);
  EXPECT_EQ(slice_of_batch(150, 50, 0, 4).size(), 0);  // rank 0 keeps none: 0 * 3 / 4 .. 1 * 3 / 4
  EXPECT_EQ(slice_of_batch(7, 1, 2, 3).size(), 3);  // units [4, 7)
}

TEST(BatchSplit, BatchesThatDoNotSplitAreRefusedWithTheFix) {
  EXPECT_NO_THROW(check_batch_split(2000, 1, 2));
  EXPECT_NO_THROW(check_batch_split(401, 1, 1));
  EXPECT_THAT(error_of([] { check_batch_split(1001, 1, 2); }), HasSubstr("use a multiple of 2"));
  EXPECT_THAT(error_of([] { check_batch_split(300, 100, 2); }), HasSubstr("multiple of 2 x 100 = 200"));
}

TEST(DifferingFields, NamesTheTopLevelFieldsThatDiffer) {
  EXPECT_EQ(differing_fields(R"({"a":1,"b":2})", R"({"a":1,"b":2})"), "");
  EXPECT_EQ(differing_fields(R"({"alpha":1.5,"seed":1,"x":0})", R"({"alpha":1.0,"seed":1,"y":0})"), "alpha, x, y");
}

}  // namespace
}  // namespace nesgd::dist
