// Data-parallel C1 with ghost batch norm, ranks as threads of one process (the
// same c10d rendezvous and Gloo transport over 127.0.0.1 as separate
// processes), in float64 against the single run. The test set is cut short
// so that float64 convolutions stay quick; the process-level tests are in
// test_distributed.cpp.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

namespace nesgd::train {
namespace {

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::unique_ptr<data::DatasetSplits> cifar_subset(int64_t test_images) {
  namespace fs = std::filesystem;
  data::DataOptions o;
  o.allow_download = false;
  if (fs::exists(fs::path(NESGD_SHARED_DATA) / "cifar-10-subset")) o.data_dir = NESGD_SHARED_DATA;
  try {
    auto d = std::make_unique<data::DatasetSplits>(data::load_dataset("cifar10-subset", o));
    d->test.truncate(test_images);
    return d;
  } catch (const Error& e) {
    std::cerr << "no CIFAR-10 subset: " << e.what() << "\n";
    return nullptr;
  }
}

double rel(double a, double b) { return a == b ? 0.0 : std::abs(a - b) / std::max(std::abs(b), 1e-300); }

// Runs `config` over `world` ranks, one thread each; returns rank 0's result
// after checking that every rank returned the same one.
RunResult train_over_threads(const RunConfig& config, const data::DatasetSplits& data, int world) {
  const int port = free_port();
  std::vector<RunResult> results(static_cast<size_t>(world));
  std::vector<std::string> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        dist::LaunchInfo launch{r, world, 0, "127.0.0.1", port, "test"};
        auto group = dist::Group::join(launch, {"gloo", 60.0, "cpu"});
        results[static_cast<size_t>(r)] = train_run(config, data, {}, {}, group.get());
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) {
    EXPECT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
    EXPECT_EQ(results[static_cast<size_t>(r)].test_loss, results[0].test_loss) << "rank " << r;
    EXPECT_EQ(results[static_cast<size_t>(r)].iterations, results[0].iterations) << "rank " << r;
  }
  return results[0];
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
    EXPECT_LT(rel(d.curve[i].train_loss, s.curve[i].train_loss), tol) << "check " << i << ", " << world << " ranks";
    EXPECT_LT(rel(d.curve[i].minibatch_loss, s.curve[i].minibatch_loss), tol) << "check " << i;
  }
  // Evaluation runs on ghost batch norm's running statistics: their
  // recombination over the ranks is compared here.
  EXPECT_LT(rel(d.test_loss, s.test_loss), tol) << world << " ranks";
  EXPECT_EQ(d.test_accuracy, s.test_accuracy);
  EXPECT_LT(rel(d.final_full_train_loss, s.final_full_train_loss), tol);
}

TEST(DistributedThreads, C1WithGhostBatchNormFollowsTheSingleRunOverTwoAndFourRanks) {
  const auto data = cifar_subset(40);
  if (!data) GTEST_SKIP() << "needs the CIFAR-10 subset: ../shared/data/cifar-10-subset or $NESGD_DATA_DIR";
  RunConfig c;
  c.model = "c1";
  c.dataset = "cifar10-subset";
  c.precision = "fp64";
  c.batch_size = 100;
  c.ghost_batch_size = 25;  // four ghosts: two per rank over 2, one per rank over 4
  c.train_subset = 150;     // keras epochs: 100, then a short 50 (two ghosts over four ranks: two get none)
  c.alpha = 1.5;
  c.seed = 4;
  c.max_iterations = 2;  // float64 convolutions take the slow path: one epoch
  c.threads = 1;
  const RunResult single = train_run(c, *data);
  ASSERT_EQ(single.curve.size(), 1u);  // the epoch-mean loss at the epoch's end
  for (int world : {2, 4}) expect_follows(train_over_threads(c, *data, world), single, world, 1e-9);
}

TEST(DistributedThreads, PlainTrainingAtAlphaOneWithTheFullLossFollowsTheSingleRun) {
  const auto data = cifar_subset(40);
  if (!data) GTEST_SKIP() << "needs the CIFAR-10 subset: ../shared/data/cifar-10-subset or $NESGD_DATA_DIR";
  RunConfig c;
  c.model = "c1";
  c.dataset = "cifar10-subset";
  c.precision = "fp64";
  c.batch_size = 50;
  c.ghost_batch_size = 25;
  c.train_subset = 100;
  c.alpha = 1.0;  // B' is never drawn
  c.seed = 5;
  c.loss_measure = LossMeasure::kFull;  // the training loss evaluated at every step, split over the ranks
  c.eval_every = 1;
  c.max_iterations = 2;
  c.threads = 1;
  expect_follows(train_over_threads(c, *data, 2), train_run(c, *data), 2, 1e-9);
}

}  // namespace
}  // namespace nesgd::train
