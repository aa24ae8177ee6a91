// `nesgd train --distributed`: one run over 2 to 4 processes on 127.0.0.1,
// launched as torchrun launches them (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), against the single-process run of the same seed. Float64: in
// float32 a different summation order moves Adam's first steps enough (its
// update is about the sign of tiny gradient entries) that trajectories part
// by ~1e-3 within a few steps, as they do between thread counts. C1 with
// ghost batch norm: test_distributed_threads.cpp.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/compare.h"
#include "support/cli.h"
#include "support/net.h"

extern char** environ;

namespace nesgd::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// The W processes of one launch, as torchrun starts them.
class Launch {
 public:
  // `args_of_rank(r)` gives rank r's arguments after `nesgd`.
  Launch(int world, const std::function<std::string(int)>& args_of_rank, const std::string& log_dir)
      : world_(world), port_(free_port()) {
    for (int r = 0; r < world; ++r) {
      logs_.push_back(log_dir + "/rank" + std::to_string(r) + ".log");
      const std::string cmd = "exec env RANK=" + std::to_string(r) + " WORLD_SIZE=" + std::to_string(world) +
                              " LOCAL_RANK=" + std::to_string(r) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                              std::to_string(port_) + " '" + NESGD_BINARY + "' " + args_of_rank(r) + " > '" +
                              logs_.back() + "' 2>&1";
      const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
      pid_t pid = -1;
      EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
      pids_.push_back(pid);
      codes_.push_back(-1);
      ended_.push_back(Clock::time_point{});
    }
    start_ = Clock::now();
  }
  ~Launch() {
    for (int r = 0; r < world_; ++r) {
      if (codes_[r] == -1) kill(pids_[r], SIGKILL);
    }
    wait_all(30);
  }

  // Waits up to `seconds` for every rank; true when all ended.
  bool wait_all(double seconds) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      bool all = true;
      for (int r = 0; r < world_; ++r) {
        if (codes_[r] != -1) continue;
        int status = 0;
        if (waitpid(pids_[r], &status, WNOHANG) == pids_[r]) {
          codes_[r] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          ended_[r] = Clock::now();
        } else {
          all = false;
        }
      }
      if (all) return true;
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  void kill_rank(int r) { kill(pids_[r], SIGKILL); }
  int code(int r) const { return codes_[r]; }
  double seconds_to_end(int r, Clock::time_point since) const {
    return std::chrono::duration<double>(ended_[r] - since).count();
  }
  std::string log(int r) const { return read_text(logs_[r]); }
  std::string logs() const {
    std::string all;
    for (int r = 0; r < world_; ++r) {
      all += "--- rank " + std::to_string(r) + " (exit status " + std::to_string(codes_[r]) + "):\n" + log(r);
    }
    return all;
  }

 private:
  int world_;
  int port_;
  std::vector<pid_t> pids_;
  std::vector<int> codes_;
  std::vector<Clock::time_point> ended_;
  std::vector<std::string> logs_;
  Clock::time_point start_;
};

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

using nesgd::testing::rel_diff;

// Every curve point (the training loss, the step's minibatch loss) within
// `tol` relative, the same L* and L** iterations and status.
void expect_follows(const nlohmann::json& dist, const nlohmann::json& single, double tol, int world) {
  ASSERT_EQ(dist["status"], single["status"]);
  EXPECT_EQ(dist["iterations"], single["iterations"]);
  EXPECT_EQ(dist["iterations_to_l_star"], single["iterations_to_l_star"]);
  EXPECT_EQ(dist["config"], single["config"]);
  EXPECT_EQ(dist["distributed"]["world_size"], world);
  EXPECT_EQ(dist["distributed"]["backend"], "gloo");
  EXPECT_FALSE(single.contains("distributed"));
  const auto& a = dist["curve"];
  const auto& b = single["curve"];
  ASSERT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i]["iteration"], b[i]["iteration"]);
    worst = std::max(worst, rel_diff(a[i]["train_loss"].get<double>(), b[i]["train_loss"].get<double>()));
    worst = std::max(worst, rel_diff(a[i]["minibatch_loss"].get<double>(), b[i]["minibatch_loss"].get<double>()));
  }
  EXPECT_LT(worst, tol) << "largest relative difference of the losses over " << a.size() << " checks";
  // Evaluation uses the weights and (with ghost batch norm) the running statistics.
  EXPECT_LT(rel_diff(dist["test_loss"].get<double>(), single["test_loss"].get<double>()), tol);
  EXPECT_LT(rel_diff(dist["final_full_train_loss"].get<double>(), single["final_full_train_loss"].get<double>()), tol);
}

// F1 on 110 real Fashion-MNIST images, B = 20: keras epochs of 5 full
// batches and a short one of 10 (split unevenly over 4 ranks: 3, 3, 2, 2);
// L* and L** chosen so that the reference run passes both (L* at step 48,
// L** at 54), all of which are compared; evaluated on 500 test images. The
// ranks exchange 15 MB of float64 gradients a step through loopback sockets,
// so each step costs more than the whole single run's.
constexpr int64_t kMinComparedSteps = 40;
std::string f1_args(const std::string& root, const std::string& out) {
  return "train --model f1 --data-dir '" + root + "' --offline --train-subset 110 --test-subset 500 --batch-size 20 "
         "--alpha 1.5 --seed 3 --l-star 1.2 --l-stop 0.95 --max-iterations 300 --precision fp64 --threads 1 -q "
         "--out '" + out + "'";
}

TEST(Distributed, F1OverTwoAndFourRanksFollowsTheSingleRun) {
  const std::string root = fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << kNoFashionMnist;
  TempDir dir;
  const auto single = run_nesgd(f1_args(root, dir.path() + "/single.json"));
  ASSERT_EQ(single.exit_code, 0) << single.output;
  const auto s = read_json(dir.path() + "/single.json");
  ASSERT_EQ(s["status"], "converged") << "pick L* and L** so that the reference run converges";
  ASSERT_GE(s["iterations"].get<int64_t>(), kMinComparedSteps);
  ASSERT_LT(s["iterations_to_l_star"].get<int64_t>(), s["iterations"].get<int64_t>());
  for (int world : {2, 4}) {
    const std::string out = dir.path() + "/w" + std::to_string(world) + ".json";
    Launch launch(world, [&](int) { return f1_args(root, out) + " --distributed"; }, dir.path());
    ASSERT_TRUE(launch.wait_all(600)) << launch.logs();
    for (int r = 0; r < world; ++r) ASSERT_EQ(launch.code(r), 0) << launch.logs();
    expect_follows(read_json(out), s, 1e-5, world);
  }
}

TEST(Distributed, ALostRankStopsTheOthersAndTheRerunResumes) {
  const std::string root = fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << kNoFashionMnist;
  TempDir dir;
  const std::string out = dir.path() + "/run.json", ckpt = dir.path() + "/run.ckpt";
  const std::string args = "train --model f1 --data-dir '" + root + "' --offline --train-subset 300 --test-subset 500 "
                           "--batch-size 30 --alpha 1.5 --seed 1 --max-iterations 120 --threads 1 --checkpoint '" + ckpt +
                           "' --checkpoint-every 0.5 --dist-timeout 30 --distributed -q --out '" + out + "'";
  {
    Launch launch(3, [&](int) { return args; }, dir.path());
    const auto deadline = Clock::now() + std::chrono::seconds(300);
    while (!std::filesystem::exists(ckpt) && Clock::now() < deadline && !launch.wait_all(0)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(std::filesystem::exists(ckpt)) << launch.logs();
    const auto killed_at = Clock::now();
    launch.kill_rank(2);
    ASSERT_TRUE(launch.wait_all(90)) << "the surviving ranks still wait\n" << launch.logs();
    for (int r : {0, 1}) {
      EXPECT_NE(launch.code(r), 0) << launch.logs();
      EXPECT_LT(launch.seconds_to_end(r, killed_at), 60.0);
      EXPECT_THAT(launch.log(r), HasSubstr("lost rank 2")) << launch.logs();
    }
    EXPECT_FALSE(std::filesystem::exists(out));
  }
  ASSERT_TRUE(std::filesystem::exists(ckpt));
  Launch rerun(3, [&](int) { return args; }, dir.path());
  ASSERT_TRUE(rerun.wait_all(600)) << rerun.logs();
  for (int r = 0; r < 3; ++r) ASSERT_EQ(rerun.code(r), 0) << rerun.logs();
  const auto j = read_json(out);
  EXPECT_GT(j["resumed_from_iteration"].get<int64_t>(), 0);
  EXPECT_EQ(j["iterations"], 120);
  EXPECT_EQ(j["distributed"]["world_size"], 3);
  EXPECT_FALSE(std::filesystem::exists(ckpt)) << "the checkpoint is removed once the result is stored";
}

TEST(Distributed, ARankWithAnotherAlphaIsRefused) {
  const std::string root = fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << kNoFashionMnist;
  TempDir dir;
  Launch launch(
      2,
      [&](int r) {
        return "train --model f1 --data-dir '" + root + "' --offline --train-subset 1000 --batch-size 100 --alpha " +
               std::string(r == 0 ? "1.5" : "1.25") + " --max-iterations 5 --distributed --dist-timeout 30 -q --out '" +
               dir.path() + "/x.json'";
      },
      dir.path());
  ASSERT_TRUE(launch.wait_all(120)) << launch.logs();
  for (int r = 0; r < 2; ++r) {
    EXPECT_NE(launch.code(r), 0);
    EXPECT_THAT(launch.log(r), HasSubstr("disagree on the run configuration")) << launch.logs();
    EXPECT_THAT(launch.log(r), HasSubstr("alpha")) << launch.logs();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/x.json"));
}

TEST(Distributed, BadLaunchesAreExplainedBeforeAnyDataIsRead) {
  // No launcher variables.
  auto r = run_command("env -u RANK -u WORLD_SIZE -u SLURM_PROCID -u SLURM_NTASKS '" + std::string(NESGD_BINARY) +
                       "' train --distributed --data-dir /nonexistent 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("torchrun"));
  // A batch that does not split over the ranks, named before the (missing) data.
  r = run_command("env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 '" + std::string(NESGD_BINARY) +
                  "' train --distributed --batch-size 101 --data-dir /nonexistent --offline 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("--batch-size 101 does not split evenly over 2 ranks"));
  r = run_command("env RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 '" + std::string(NESGD_BINARY) +
                  "' train --model c1 --distributed --batch-size 300 --data-dir /nonexistent --offline 2>&1");
  EXPECT_THAT(r.output, HasSubstr("whole ghost batches of 100"));
}

}  // namespace
}  // namespace nesgd::testing
