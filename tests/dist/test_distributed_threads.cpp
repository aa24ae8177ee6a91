// Data-parallel C1 with ghost batch norm, ranks as threads of one process (the
// same c10d rendezvous and Gloo transport over 127.0.0.1 as separate
// processes), in float64 against the single run. The images are synthetic
// 3 x 8 x 8 ones (tests/support/synthetic.h), so that float64 convolutions
// stay quick; the process-level tests on real data are in test_distributed.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "nesgd/data/resolve.h"
#include "nesgd/dist/group.h"
#include "nesgd/error.h"
#include "nesgd/train/trainer.h"
#include "support/compare.h"
#include "support/cli.h"
#include "support/synthetic.h"
#include "support/net.h"
#include "support/scripted.h"

namespace nesgd::train {
namespace {

using nesgd::testing::rel_diff;

struct RankOutcomes {
  std::vector<RunResult> results;
  std::vector<std::string> errors;  // "" where the rank finished
};

// Runs `config` over `world` ranks, one thread each.
RankOutcomes run_over_threads(const RunConfig& config, const data::DatasetSplits& data, int world) {
  const int port = testing::free_port();
  const auto n = static_cast<size_t>(world);
  RankOutcomes o{std::vector<RunResult>(n), std::vector<std::string>(n)};
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        dist::LaunchInfo launch{r, world, 0, "127.0.0.1", port, "test"};
        auto group = dist::Group::join(launch, {"gloo", 60.0, "cpu"});
        o.results[static_cast<size_t>(r)] = train_run(config, data, {}, {}, group.get());
      } catch (const std::exception& e) {
        o.errors[static_cast<size_t>(r)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return o;
}

// Rank 0's result, after checking that every rank returned the same one.
RunResult train_over_threads(const RunConfig& config, const data::DatasetSplits& data, int world) {
  const RankOutcomes o = run_over_threads(config, data, world);
  for (int r = 0; r < world; ++r) {
    EXPECT_EQ(o.errors[static_cast<size_t>(r)], "") << "rank " << r;
    EXPECT_EQ(o.results[static_cast<size_t>(r)].test_loss, o.results[0].test_loss) << "rank " << r;
    EXPECT_EQ(o.results[static_cast<size_t>(r)].iterations, o.results[0].iterations) << "rank " << r;
  }
  return o.results[0];
}

// The errors each of `world` ranks stops `config` with (each must stop).
std::vector<std::string> refusals_over_threads(const RunConfig& config, const data::DatasetSplits& data, int world) {
  return run_over_threads(config, data, world).errors;
}

void expect_follows(const RunResult& d, const RunResult& s, int world, double tol) {
  EXPECT_EQ(d.status, s.status);
  EXPECT_EQ(d.iterations, s.iterations);
  EXPECT_EQ(d.iterations_to_l_star, s.iterations_to_l_star);
  EXPECT_EQ(d.world_size, world);
  EXPECT_EQ(d.dist_backend, "gloo");
  EXPECT_EQ(d.samples_processed, s.samples_processed);
  ASSERT_EQ(d.curve.size(), s.curve.size());
  for (size_t i = 0; i < s.curve.size(); ++i) {
    EXPECT_LT(rel_diff(d.curve[i].train_loss, s.curve[i].train_loss), tol) << "check " << i << ", " << world << " ranks";
    EXPECT_LT(rel_diff(d.curve[i].minibatch_loss, s.curve[i].minibatch_loss), tol) << "check " << i;
  }
  // Evaluation runs on ghost batch norm's running statistics: their
  // recombination over the ranks is compared here.
  EXPECT_LT(rel_diff(d.test_loss, s.test_loss), tol) << world << " ranks";
  EXPECT_EQ(d.test_accuracy, s.test_accuracy);
  EXPECT_LT(rel_diff(d.final_full_train_loss, s.final_full_train_loss), tol);
}

// Ten classes of synthetic colour images, 8 x 8.
const data::DatasetSplits& images() {
  static const data::DatasetSplits d =
      testing::synthetic(150, 40, 31, {/*channels=*/3, /*height=*/8, /*width=*/8, /*classes=*/10});
  return d;
}

// C1 in float64, one thread per rank.
RunConfig c1_fp64() {
  RunConfig c;
  c.model = "c1";
  c.precision = "fp64";
  c.threads = 1;
  return c;
}

TEST(DistributedThreads, C1WithGhostBatchNormFollowsTheSingleRunOverTwoAndFourRanks) {
  const auto& data = images();
  RunConfig c = c1_fp64();
  c.batch_size = 100;
  c.ghost_batch_size = 25;  // four ghosts: two per rank over 2, one per rank over 4
  c.train_subset = 150;     // keras epochs: 100, then a short 50 (two ghosts over four ranks: two get none)
  c.alpha = 1.5;
  c.seed = 4;
  c.max_iterations = 4;  // two epochs
  c.ne_pass = "split";   // the reference: one process, a pass per batch
  const RunResult single = train_run(c, data);
  ASSERT_EQ(single.curve.size(), 2u);  // the epoch-mean loss at each epoch's end
  // Each rank's joint pass over its slices of B and B' makes two running-statistics updates in
  // one forward; their recombination over the ranks is exact as well (trainer.cpp).
  for (const char* pass : {"split", "joint"}) {
    RunConfig d = c;
    d.ne_pass = pass;
    for (int world : {2, 4}) {
      const RunResult r = train_over_threads(d, data, world);
      EXPECT_EQ(r.ne_pass, pass);
      expect_follows(r, single, world, 1e-9);
    }
  }
}

TEST(DistributedThreads, PlainTrainingAtAlphaOneWithTheFullLossFollowsTheSingleRun) {
  const auto& data = images();
  RunConfig c = c1_fp64();
  c.batch_size = 50;
  c.ghost_batch_size = 25;
  c.train_subset = 100;
  c.alpha = 1.0;  // B' is never drawn
  c.seed = 5;
  c.loss_measure = LossMeasure::kFull;  // the training loss evaluated at every step, split over the ranks
  c.eval_every = 1;
  c.max_iterations = 4;
  expect_follows(train_over_threads(c, data, 2), train_run(c, data), 2, 1e-9);
}


// A user's TorchScript network whose only state is its parameters trains data-parallel as F1
// does; one with batch-norm buffers of its own is refused before the first step, naming why.
TEST(DistributedThreads, TorchScriptModelsFollowTheSingleRunOrAreRefused) {
  static const data::DatasetSplits grey = testing::synthetic(60, 20, 33, {/*channels=*/1, /*height=*/8, /*width=*/8});
  testing::TempDir tmp;
  const std::string f1 = tmp.path() + "/f1.pt", bn = tmp.path() + "/bn.pt";
  testing::scripted_f1(64).save(f1);
  testing::scripted_bn_net(1, 10).save(bn);
  RunConfig c;
  c.model = "torchscript:" + f1;
  c.precision = "fp64";
  c.batch_size = 20;
  c.train_subset = 60;
  c.alpha = 1.5;
  c.seed = 6;
  c.max_iterations = 9;  // three epochs
  c.threads = 1;
  c.blas_threads = 1;
  expect_follows(train_over_threads(c, grey, 2), train_run(c, grey), 2, 1e-9);

  c.model = "torchscript:" + bn;
  for (const auto& e : refusals_over_threads(c, grey, 2)) {
    EXPECT_NE(e.find("keeps state other than ghost batch norm"), std::string::npos) << e;
  }
}

// AdaPNM steps on the all-reduced gradient: the data-parallel run is the single run. The isotropic
// control sizes its noise from whole gradients before any all-reduce: every rank refuses it.
TEST(DistributedThreads, AdaPNMFollowsTheSingleRunAndIsotropicNoiseIsRefused) {
  RunConfig c = c1_fp64();
  c.batch_size = 50;
  c.ghost_batch_size = 25;
  c.train_subset = 150;
  c.alpha = 1.5;
  c.seed = 4;
  c.max_iterations = 6;
  c.optimizer.name = "adapnm";
  expect_follows(train_over_threads(c, images(), 2), train_run(c, images()), 2, 1e-9);
  c.optimizer.name = "keras-adam";
  c.noise = optim::kNoiseIsotropic;
  for (const auto& e : refusals_over_threads(c, images(), 2)) {
    EXPECT_NE(e.find("--noise isotropic"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace nesgd::train
