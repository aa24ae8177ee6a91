// `nesgd sweep` end to end: dry runs and preset counts, resume after SIGKILL,
// two processes on one sweep, SIGINT. Runs are tiny F1 runs on a real
// Fashion-MNIST subset (about a second each).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <cmath>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/cli.h"

namespace fs = std::filesystem;
using nesgd::testing::read_text;
using nesgd::testing::run_nesgd;
using nesgd::testing::TempDir;

namespace {

// A `nesgd` child process with stdout and stderr in files, so the test can
// signal it by pid (run_nesgd goes through a shell and cannot).
class NesgdProcess {
 public:
  NesgdProcess(const std::vector<std::string>& args, const std::string& log_prefix) : log_(log_prefix + ".err") {
    std::vector<std::string> argv_s{NESGD_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      const int out = open((log_prefix + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~NesgdProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string log() const { return read_text(log_); }
  // Exit code, or 128 + signal.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
  bool reaped_ = false;
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::vector<std::string> result_files(const std::string& store) {
  std::vector<std::string> names;
  if (!fs::exists(store + "/runs")) return names;
  for (const auto& e : fs::directory_iterator(store + "/runs")) {
    const std::string name = e.path().filename().string();
    if (name[0] != '.') names.push_back(name);  // a writer killed mid-write leaves a hidden temporary
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Run ids the sweep would do, from --dry-run.
std::set<std::string> planned_ids(const std::vector<std::string>& sweep_args) {
  std::string args;
  for (const auto& a : sweep_args) args += " '" + a + "'";
  const auto r = run_nesgd(args + " --dry-run");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::set<std::string> ids;
  const std::regex row(R"(^\s*\d+\s+([0-9a-f]{16})\s)");
  std::stringstream ss(r.output);
  std::string line;
  while (std::getline(ss, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) ids.insert(m[1]);
  }
  return ids;
}

// "start F1 B=20 alpha=1 seed=1 (run <id>)" lines of a sweep log.
std::multiset<std::string> started_ids(const std::string& log) {
  std::multiset<std::string> ids;
  const std::regex start(R"(start .*\(run ([0-9a-f]{16})\))");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), start); it != std::sregex_iterator(); ++it) {
    ids.insert((*it)[1]);
  }
  return ids;
}

bool wait_until(const std::function<bool()>& done, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// A tiny real grid: 2 B x 2 seeds on 200 Fashion-MNIST samples, 40 steps a
// run (capped: the runs end not_converged, which is stored like any result).
// One thread each, so two sweeps at once do not fight over the cores; each run
// is evaluated on the first 500 test images.
constexpr size_t kTinyRuns = 4;
std::vector<std::string> tiny_sweep(const std::string& root, const std::string& store) {
  return {"sweep",          "--store", store,         "--batch-sizes", "20,50",  "--alphas",  "1",
          "--seeds",        "1,2",     "--train-subset", "200",          "--max-iterations", "40", "--data-dir",
          root,             "--offline", "--threads", "1",             "--blas-threads", "1", "--pack", "1",
          "--test-subset",  "500"};
}

// The tiny grid with NE (alpha 1.5 beside 1): runs that may share packs.
std::vector<std::string> tiny_ne_sweep(const std::string& root, const std::string& store, const std::string& pack) {
  return {"sweep",     "--store",     store,           "--batch-sizes",    "20,50", "--alphas", "1,1.5",
          "--seeds",   "1,2",         "--train-subset", "200",             "--max-iterations", "40", "--data-dir",
          root,        "--offline",   "--threads",     "1",                "--blas-threads", "1", "--pack", pack,
          "--test-subset", "500"};
}

std::map<std::string, nlohmann::json> stored(const std::string& store) {
  std::map<std::string, nlohmann::json> runs;
  for (const auto& f : result_files(store)) {
    auto j = nlohmann::json::parse(read_text(store + "/runs/" + f));
    runs[j["run_id"]] = j;
  }
  return runs;
}

}  // namespace

TEST(SweepCli, DryRunListsThePresetRunCounts) {
  const std::map<std::string, int> want{{"f1-fig2", 260}, {"c1-fig1", 520}, {"c2-fig2", 260},
                                        {"f1-table3", 110}, {"c1-table3", 110}, {"c2-table3", 70}};
  for (const auto& [preset, n] : want) {
    const auto r = run_nesgd("sweep " + preset + " --dry-run");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("sweep " + preset + ": " + std::to_string(n) + " runs"), std::string::npos) << r.output;
    EXPECT_EQ(count(r.output, "to do"), static_cast<size_t>(n)) << preset;
  }
  const auto quick = run_nesgd("sweep f1-fig2 --quick --dry-run");
  ASSERT_EQ(quick.exit_code, 0) << quick.output;
  EXPECT_NE(quick.output.find("sweep f1-fig2-quick: 18 runs"), std::string::npos) << quick.output;
  const auto list = run_nesgd("sweep --list-presets");
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.output.find("c2-table3"), std::string::npos) << list.output;
}

TEST(SweepCli, DryRunShardsCoverTheGridOnce) {
  for (int n : {2, 3}) {  // several N in test_grid; here the CLI path
    size_t total = 0;
    std::set<std::string> seen;
    for (int i = 0; i < n; ++i) {
      const auto r = run_nesgd("sweep f1-table3 --dry-run --shard " + std::to_string(i) + "/" + std::to_string(n));
      ASSERT_EQ(r.exit_code, 0) << r.output;
      std::stringstream ss(r.output);
      std::string line;
      const std::regex row(R"(^\s*\d+\s+([0-9a-f]{16})\s.*\s(yes)\s+to do)");
      while (std::getline(ss, line)) {
        std::smatch m;
        if (std::regex_search(line, m, row)) {
          ++total;
          EXPECT_TRUE(seen.insert(m[1]).second) << m[1] << " in two shards";
        }
      }
    }
    EXPECT_EQ(total, 110u) << "N=" << n;
  }
}

TEST(SweepCli, FlagsOverrideAPresetAndBadInputIsExplained) {
  const auto r = run_nesgd("sweep f1-fig2 --quick --dry-run --seeds 1 --max-iterations 77 --loss-measure full");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(": 6 runs"), std::string::npos) << r.output;  // 3 B x 2 alpha x 1 seed
  EXPECT_NE(r.output.find("max iterations 77"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("loss measure full"), std::string::npos) << r.output;
  auto bad = run_nesgd("sweep --store /tmp/x --batch-sizes 100 --batch-size 200 --dry-run");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--batch-sizes or --batch-size"), std::string::npos) << bad.output;
  bad = run_nesgd("sweep f1-fig9 --dry-run");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("unknown preset"), std::string::npos) << bad.output;
  bad = run_nesgd("sweep --alphas 1..x --dry-run");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--alphas"), std::string::npos) << bad.output;
  bad = run_nesgd("sweep f1-fig2 --shard 3/3 --dry-run");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--shard"), std::string::npos) << bad.output;
}

// Runs follow the paper's Keras protocol unless told otherwise; the earlier
// protocol, asked for by flags, names its runs as the stores written with it
// did (tests/exp/test_grid.cpp pins that id).
TEST(SweepCli, DefaultsToTheKerasProtocolAndTheEarlierOneKeepsItsRunIds) {
  const auto keras = run_nesgd("sweep f1-fig2 --quick --dry-run");
  ASSERT_EQ(keras.exit_code, 0) << keras.output;
  EXPECT_NE(keras.output.find("sampling keras"), std::string::npos) << keras.output;
  EXPECT_NE(keras.output.find("keras-adam lr 0.001"), std::string::npos) << keras.output;
  const auto plain = run_nesgd("sweep --dry-run --batch-sizes 100 --alphas 1 --seeds 0");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.output.find("sampling keras"), std::string::npos) << plain.output;
  const auto earlier = run_nesgd("sweep --dry-run --batch-sizes 100 --alphas 1 --seeds 0 --sampling epoch --optimizer adam");
  ASSERT_EQ(earlier.exit_code, 0) << earlier.output;
  EXPECT_NE(earlier.output.find("74999675871b4b80"), std::string::npos) << earlier.output;
  EXPECT_NE(earlier.output.find("sampling epoch"), std::string::npos) << earlier.output;
}

// A keras epoch whose short batch would split a ghost batch is refused before
// any run starts (150 samples at B = 100: a batch of 50 against ghost batches of 100).
TEST(SweepCli, ShortBatchThatSplitsAGhostBatchFailsBeforeAnyRun) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << "no Fashion-MNIST here (../shared/data, $NESGD_DATA_DIR or dataset-fashion-mnist)";
  TempDir tmp;
  const auto r = run_nesgd("sweep --store '" + tmp.path() + "/store' --configs c1 --dataset fashion-mnist "
                           "--train-subset 150 --batch-sizes 100 --alphas 1 --seeds 1 --data-dir '" + root +
                           "' --offline");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("short batch of 50"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("start "), std::string::npos) << "no run may start: " << r.output;
  EXPECT_TRUE(result_files(tmp.path() + "/store").empty());
}

// A precision this machine cannot run (tf32 on a CPU) is refused before any run starts.
TEST(SweepCli, PrecisionTheDeviceCannotRunFailsBeforeAnyRun) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << "no Fashion-MNIST here (../shared/data, $NESGD_DATA_DIR or dataset-fashion-mnist)";
  TempDir tmp;
  const auto r = run_nesgd("sweep --store '" + tmp.path() + "/store' --configs f1 --train-subset 200 "
                           "--batch-sizes 100 --alphas 1,1.5 --seeds 1 --precision tf32 --data-dir '" + root +
                           "' --offline");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--precision tf32 needs an NVIDIA GPU"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("start "), std::string::npos) << "no run may start: " << r.output;
  EXPECT_TRUE(result_files(tmp.path() + "/store").empty());
}

// Kill -9 a real sweep mid-run, restart it: every run present once, earlier results untouched.
TEST(SweepCli, ResumesAfterSigkillWithStoredResultsByteIdentical) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  const auto args = tiny_sweep(root, store);
  const auto plan = planned_ids(args);
  ASSERT_EQ(plan.size(), kTinyRuns);

  std::map<std::string, std::string> before;  // file -> bytes, as stored before the kill
  {
    NesgdProcess p(args, tmp.path() + "/first");
    // Mid-run: at least two results stored and a further run started.
    const bool mid = wait_until(
        [&] {
          const auto started = started_ids(p.log()).size();
          return result_files(store).size() >= 2 && started > result_files(store).size();
        },
        120);
    ASSERT_TRUE(mid) << p.log();
    ASSERT_EQ(kill(p.pid(), SIGKILL), 0);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
    for (const auto& f : result_files(store)) before[f] = read_text(store + "/runs/" + f);
  }
  ASSERT_GE(before.size(), 2u);
  ASSERT_LT(before.size(), kTinyRuns) << "killed too late to test a resume";

  std::string cmd;
  for (const auto& a : args) cmd += " '" + a + "'";
  const auto second = run_nesgd(cmd);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find(std::to_string(before.size()) + " already stored"), std::string::npos)
      << second.output;
  // The restart started only what was missing.
  for (const auto& id : started_ids(second.output)) {
    EXPECT_EQ(before.count(id + ".json"), 0u) << id << " was stored already and ran again";
  }

  const auto files = result_files(store);
  ASSERT_EQ(files.size(), kTinyRuns);
  std::set<std::string> ids;
  for (const auto& f : files) {
    const auto j = nlohmann::json::parse(read_text(store + "/runs/" + f));
    EXPECT_EQ(j["run_id"].get<std::string>() + ".json", f);
    EXPECT_TRUE(ids.insert(j["run_id"]).second);
    EXPECT_TRUE(j["status"] == "converged" || j["status"] == "not_converged") << j["status"];
    EXPECT_TRUE(j.contains("curve") && j.contains("environment") && j.contains("config"));
  }
  EXPECT_EQ(ids, plan) << "every planned run, each exactly once";
  for (const auto& [f, bytes] : before) EXPECT_EQ(read_text(store + "/runs/" + f), bytes) << f << " changed";
  // The export is whole: a header and one row per run.
  EXPECT_EQ(count(read_text(store + "/runs.csv"), "\n"), kTinyRuns + 1);
  // Claims do not outlive their runs (the killed one's file is reused and removed).
  size_t claims = 0;
  for (const auto& e : fs::directory_iterator(store + "/claims")) claims += e.path().extension() == ".lock" ? 1 : 0;
  EXPECT_EQ(claims, 0u);
}

// Two processes on one sweep, no shards: claims share the work.
TEST(SweepCli, TwoProcessesShareOneSweepWithoutDoubleWork) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  const auto args = tiny_sweep(root, store);
  const auto plan = planned_ids(args);
  NesgdProcess a(args, tmp.path() + "/a"), b(args, tmp.path() + "/b");
  ASSERT_EQ(a.wait(), 0) << a.log();
  ASSERT_EQ(b.wait(), 0) << b.log();
  const auto sa = started_ids(a.log()), sb = started_ids(b.log());
  std::multiset<std::string> all(sa);
  all.insert(sb.begin(), sb.end());
  EXPECT_EQ(all.size(), plan.size()) << "runs started in total (a: " << sa.size() << ", b: " << sb.size() << ")";
  for (const auto& id : plan) EXPECT_EQ(all.count(id), 1u) << id;
  const auto files = result_files(store);
  ASSERT_EQ(files.size(), plan.size());
  std::set<int64_t> workers;
  for (const auto& f : files) {
    const auto j = nlohmann::json::parse(read_text(store + "/runs/" + f));
    workers.insert(j["worker"]["pid"].get<int64_t>());
  }
  EXPECT_TRUE(workers.count(a.pid()) + workers.count(b.pid()) == workers.size());
  EXPECT_EQ(count(read_text(store + "/runs.csv"), "\n"), plan.size() + 1);
}

// Ctrl-C: the run in progress is not stored and the exit status is 130; with
// --checkpoint-every its checkpoint is kept, and the next sweep continues it.
TEST(SweepCli, SigintStopsWithoutStoringAndACheckpointedRunContinues) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  // L** out of reach: the run goes to its cap unless stopped.
  constexpr int kCap = 600;
  std::vector<std::string> args{"sweep", "--store", store, "--batch-sizes", "20", "--alphas", "1", "--seeds", "1",
                                "--train-subset", "200", "--test-subset", "500", "--max-iterations", std::to_string(kCap), "--l-stop", "1e-9",
                                "--l-star", "1e-8", "--checkpoint-every", "3600", "--data-dir", root, "--offline",
                                "--threads", "1", "--blas-threads", "1"};
  NesgdProcess p(args, tmp.path() + "/p");
  // The first progress line comes at the first loss check (iteration 10).
  ASSERT_TRUE(wait_until([&] { return p.log().find("] it ") != std::string::npos; }, 120)) << p.log();
  ASSERT_EQ(kill(p.pid(), SIGINT), 0);
  EXPECT_EQ(p.wait(), 130) << p.log();
  EXPECT_TRUE(result_files(store).empty()) << "an interrupted run is not a result";
  EXPECT_NE(p.log().find("interrupted"), std::string::npos) << p.log();
  const auto ids = planned_ids(args);
  ASSERT_EQ(ids.size(), 1u);
  const std::string checkpoint = store + "/checkpoints/" + *ids.begin() + ".pt";
  ASSERT_TRUE(fs::exists(checkpoint)) << "Ctrl-C saves the run's checkpoint";

  std::string cmd;
  for (const auto& a : args) cmd += " '" + a + "'";
  const auto again = run_nesgd(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const auto files = result_files(store);
  ASSERT_EQ(files.size(), 1u);
  const auto j = nlohmann::json::parse(read_text(store + "/runs/" + files[0]));
  EXPECT_EQ(j["status"], "not_converged");
  EXPECT_EQ(j["iterations"], kCap);
  EXPECT_GT(j["resumed_from_iteration"].get<int64_t>(), 0) << "continued, not restarted";
  EXPECT_FALSE(fs::exists(checkpoint)) << "the checkpoint goes once the result is stored";
}

// `--pack 4` and `--pack 1` fill stores with the same runs: same ids, statuses,
// step counts and results (a member computes what its single run computes, in
// the same arrangement of every sum), and pack members say so in "pack".
TEST(SweepCli, PackedAndSingleSweepsStoreTheSameRuns) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << "no Fashion-MNIST here (../shared/data, $NESGD_DATA_DIR or dataset-fashion-mnist)";
  TempDir tmp;
  std::map<std::string, std::map<std::string, nlohmann::json>> stores;
  for (const std::string pack : {"1", "4"}) {
    std::string cmd;
    for (const auto& a : tiny_ne_sweep(root, tmp.path() + "/pack" + pack, pack)) cmd += " '" + a + "'";
    const auto r = run_nesgd(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (pack == "4") {
      EXPECT_NE(r.output.find("start a pack of 2"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find(", 4 pack(s))"), std::string::npos) << r.output;
    }
    stores[pack] = stored(tmp.path() + "/pack" + pack);
  }
  const auto& single = stores["1"];
  const auto& packed = stores["4"];
  ASSERT_EQ(single.size(), 8u);
  ASSERT_EQ(packed.size(), single.size());
  for (const auto& [id, s] : single) {
    ASSERT_EQ(packed.count(id), 1u) << id << " missing from the packed store";
    const auto& p = packed.at(id);
    EXPECT_EQ(p["status"], s["status"]) << id;
    EXPECT_EQ(p["iterations"], s["iterations"]) << id;
    EXPECT_EQ(p["test_accuracy"], s["test_accuracy"]) << id;
    EXPECT_EQ(p["test_loss"], s["test_loss"]) << id;
    EXPECT_EQ(p["config"], s["config"]) << id;
    EXPECT_FALSE(s.contains("pack"));
    ASSERT_TRUE(p.contains("pack")) << id;
    EXPECT_EQ(p["pack"]["size"], 2);
  }
}

// --workers 2: two processes, each pinned to its share of the cores, share the grid through the
// store and store exactly what one process stores (both at one thread each, so every sum is the same).
TEST(SweepCli, WorkersShareTheGridAndStoreWhatOneProcessStores) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  TempDir tmp;
  std::map<std::string, std::map<std::string, nlohmann::json>> stores;
  std::string workers_output;
  for (const std::string workers : {"1", "2"}) {
    auto args = tiny_sweep(root, tmp.path() + "/w" + workers);
    args.insert(args.end(), {"--workers", workers});
    std::string cmd;
    for (const auto& a : args) cmd += " '" + a + "'";
    const auto r = run_nesgd(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (workers == "2") workers_output = r.output;
    stores[workers] = stored(tmp.path() + "/w" + workers);
  }
  EXPECT_NE(workers_output.find("[w1/2] sweep custom"), std::string::npos) << workers_output;
  EXPECT_NE(workers_output.find("[w2/2] sweep custom"), std::string::npos) << workers_output;
  EXPECT_NE(workers_output.find("4 run here (0 converged, 4 not converged, 0 diverged, 0 pack(s)) by 2 workers, 0 missing"),
            std::string::npos)
      << "one summary line for all workers: " << workers_output;
  const auto& one = stores["1"];
  const auto& two = stores["2"];
  ASSERT_EQ(one.size(), kTinyRuns);
  ASSERT_EQ(two.size(), one.size());
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  const int cores = CPU_COUNT(&set);
  for (const auto& [id, a] : one) {
    ASSERT_EQ(two.count(id), 1u) << id << " missing from the workers' store";
    const auto& b = two.at(id);
    EXPECT_EQ(b["status"], a["status"]) << id;
    EXPECT_EQ(b["iterations"], a["iterations"]) << id;
    EXPECT_EQ(b["test_accuracy"], a["test_accuracy"]) << id;
    EXPECT_EQ(b["test_loss"], a["test_loss"]) << id;
    EXPECT_EQ(b["config"], a["config"]) << id;
    // Each worker saw only its share of the cores.
    EXPECT_LE(b["environment"]["threads"]["hardware_cores"].get<int>(), std::max(1, (cores + 1) / 2)) << id;
  }
}

// --workers shares CPU cores: on a GPU it is refused, before the store or any run; missing data
// stops it before any worker starts.
TEST(SweepCli, WorkersOnAGpuAreRefusedBeforeAnything) {
  TempDir tmp;
  const auto r = run_nesgd("sweep --store '" + tmp.path() + "/store' --configs f1 --batch-sizes 100 --alphas 1 "
                           "--seeds 1,2 --device cuda --workers 2 --offline --data-dir '" + tmp.path() + "'");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--workers shares the CPU's cores"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--pack"), std::string::npos) << "says what to use instead: " << r.output;
  EXPECT_FALSE(fs::exists(tmp.path() + "/store"));
  EXPECT_NE(run_nesgd("sweep --store x --workers 0").output.find("--workers must be a positive integer"),
            std::string::npos);
  // Missing data is found before the workers start: one message, naming the fix, and no worker.
  const auto m = run_nesgd("sweep --store '" + tmp.path() + "/store2' --configs f1 --batch-sizes 100 --alphas 1 "
                           "--seeds 1,2 --workers 2 --offline --data-dir '" + tmp.path() + "/nothing'");
  EXPECT_NE(m.exit_code, 0) << m.output;
  const size_t first = m.output.find("nesgd: error: fashion-mnist not found");
  ASSERT_NE(first, std::string::npos) << m.output;
  EXPECT_EQ(m.output.find("nesgd: error:", first + 1), std::string::npos) << "said once: " << m.output;
  EXPECT_EQ(m.output.find("[w1/2]"), std::string::npos) << "no worker started: " << m.output;
}

// Ctrl-C to the command stops every worker the way it stops one sweep (checkpoints saved, nothing
// half-stored), and the same command continues each worker's run where it stopped.
TEST(SweepCli, CtrlCStopsEveryWorkerAndTheRerunContinuesTheirRuns) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  constexpr int kCap = 600;  // L** out of reach: each run goes to its cap unless stopped
  std::vector<std::string> args{"sweep", "--store", store, "--batch-sizes", "20", "--alphas", "1", "--seeds", "1,2",
                                "--train-subset", "200", "--max-iterations", std::to_string(kCap), "--l-stop", "1e-9",
                                "--l-star", "1e-8", "--checkpoint-every", "3600", "--data-dir", root, "--offline",
                                "--threads", "1", "--blas-threads", "1", "--workers", "2"};
  NesgdProcess p(args, tmp.path() + "/p");
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string log = p.log();
        return log.find("[w1/2] [1/2] it ") != std::string::npos && log.find("[w2/2] [1/2] it ") != std::string::npos;
      },
      120))
      << p.log();
  ASSERT_EQ(kill(p.pid(), SIGINT), 0);
  EXPECT_EQ(p.wait(), 130) << p.log();
  EXPECT_TRUE(result_files(store).empty()) << "an interrupted run is not a result: " << p.log();
  const auto ids = planned_ids(args);
  ASSERT_EQ(ids.size(), 2u);
  for (const auto& id : ids) {
    EXPECT_TRUE(fs::exists(store + "/checkpoints/" + id + ".pt")) << "each worker saved its run: " << p.log();
  }
  std::string cmd;
  for (const auto& a : args) cmd += " '" + a + "'";
  const auto again = run_nesgd(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  const auto runs = stored(store);
  ASSERT_EQ(runs.size(), 2u) << again.output;
  for (const auto& [id, j] : runs) {
    EXPECT_EQ(j["iterations"], kCap) << id;
    EXPECT_GT(j["resumed_from_iteration"].get<int64_t>(), 0) << id << ": continued, not restarted";
  }
}

// SIGKILL in the middle of a pack: members that had stopped are stored (as
// they stopped), the others are lost, and the rerun trains only those, once.
TEST(SweepCli, SigkillMidPackKeepsStoppedMembersAndTheRerunCompletesThePack) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << "no Fashion-MNIST here";
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  // One pack of 4: alpha 1.5 reaches L** = 0.7 in about 100 steps; alpha 1000
  // is pure noise direction under Adam and runs to its cap, long after.
  const std::vector<std::string> args{"sweep", "--store", store, "--batch-sizes", "20", "--alphas", "1.5,1000",
                                      "--seeds", "1,2", "--train-subset", "200", "--test-subset", "500", "--l-star",
                                      "1.0", "--l-stop", "0.7", "--max-iterations", "200", "--data-dir", root, "--offline",
                                      "--threads", "1", "--blas-threads", "1", "--pack", "4"};
  const auto plan = planned_ids(args);
  ASSERT_EQ(plan.size(), 4u);
  std::map<std::string, std::string> before;
  {
    NesgdProcess p(args, tmp.path() + "/first");
    ASSERT_TRUE(wait_until([&] { return result_files(store).size() >= 1; }, 300)) << p.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(kill(p.pid(), SIGKILL), 0);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
    for (const auto& f : result_files(store)) before[f] = read_text(store + "/runs/" + f);
    EXPECT_NE(p.log().find("start a pack of 4"), std::string::npos) << p.log();
  }
  ASSERT_GE(before.size(), 1u);
  ASSERT_LT(before.size(), 4u) << "the alpha-1000 members must still have been running";
  for (const auto& [f, bytes] : before) {
    const auto j = nlohmann::json::parse(bytes);
    EXPECT_EQ(j["status"], "converged") << f;
    EXPECT_EQ(j["alpha"], 1.5) << f;
  }

  // The rerun: only the lost members, as a pack of their own.
  std::string cmd;
  for (const auto& a : args) cmd += " '" + a + "'";
  const auto again = run_nesgd(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find(std::to_string(before.size()) + " already stored"), std::string::npos) << again.output;
  const auto runs = stored(store);
  ASSERT_EQ(runs.size(), 4u);
  std::set<std::string> ids;
  for (const auto& [id, j] : runs) ids.insert(id);
  EXPECT_EQ(ids, plan) << "every planned run, each exactly once";
  for (const auto& [f, bytes] : before) EXPECT_EQ(read_text(store + "/runs/" + f), bytes) << f << " changed";
  for (const auto& [id, j] : runs) {
    if (j["alpha"] == 1000) {
      EXPECT_EQ(j["pack"]["size"], static_cast<int>(4 - before.size())) << id;
    }
  }
  size_t claims = 0;
  for (const auto& e : fs::directory_iterator(store + "/claims")) claims += e.path().extension() == ".lock" ? 1 : 0;
  EXPECT_EQ(claims, 0u);
}

TEST(SweepCli, BadPackIsExplained) {
  TempDir tmp;
  const std::string base = "sweep --store '" + tmp.path() + "/s' --batch-sizes 100 --dry-run";
  for (const std::string bad : {"0", "-2", "x", "4k"}) {
    const auto r = run_nesgd(base + " --pack " + bad);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.output.find("--pack must be 'auto' or a positive integer"), std::string::npos) << r.output;
  }
  const auto r = run_nesgd(base + " --pack 4 --checkpoint-every 10");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--checkpoint-every needs --pack 1"), std::string::npos) << r.output;
  EXPECT_EQ(run_nesgd(base + " --pack auto --checkpoint-every 10").exit_code, 0);
  EXPECT_EQ(run_nesgd(base + " --pack 3").exit_code, 0);
}

// NE beside its controls in one sweep: the optimizers and noises crossed, listed, refused where
// they clash with their single flags or with --match-batch beside an alphas list.
TEST(SweepCli, CrossesOptimizersAndNoisesAndRefusesClashes) {
  const auto r = run_nesgd("sweep --dry-run --batch-sizes 400 --seeds 1,2 --optimizers keras-adam,adapnm "
                           "--noises ne,isotropic --match-batch 100");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(": 8 runs"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("optimizer   noise"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("adapnm      isotropic"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1.82288"), std::string::npos) << r.output;  // (1 + sqrt(7)) / 2 at B 400, B_ref 100
  auto bad = run_nesgd("sweep --dry-run --noises ne,isotropic --noise isotropic");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--noises or --noise"), std::string::npos) << bad.output;
  bad = run_nesgd("sweep --dry-run --batch-sizes 400 --alphas 1,2 --match-batch 100");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("give no --alphas list"), std::string::npos) << bad.output;
  bad = run_nesgd("sweep --dry-run --optimizers keras-adam,lamb");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("unknown --optimizer 'lamb'"), std::string::npos) << bad.output;
}

// The controls trained and reported: each (optimizer, noise) is its own setting, labelled by it.
TEST(SweepCli, ControlsTrainAndTheReportNamesThem) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << "no Fashion-MNIST here (../shared/data, $NESGD_DATA_DIR or dataset-fashion-mnist)";
  TempDir tmp;
  const std::string store = tmp.path() + "/store";
  const auto r = run_nesgd("sweep --store '" + store + "' --batch-sizes 50 --match-batch 25 --seeds 1 "
                           "--noises ne,isotropic --train-subset 200 --max-iterations 8 --test-subset 200 "
                           "--data-dir '" + root + "' --offline --threads 1 --blas-threads 1 -q");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto runs = stored(store);
  ASSERT_EQ(runs.size(), 2u);
  std::set<std::string> noises;
  for (const auto& [id, j] : runs) {
    noises.insert(j["config"]["noise"].get<std::string>());
    EXPECT_NEAR(j["config"]["alpha"].get<double>(), (1.0 + std::sqrt(3.0)) / 2.0, 1e-12) << id;
    EXPECT_EQ(j["config"]["match_batch"], 25) << id;
    EXPECT_EQ(j["ne_pass"], j["config"]["noise"] == "isotropic" ? "split" : "joint") << id;
  }
  EXPECT_EQ(noises, (std::set<std::string>{"ne", "isotropic"}));
  const auto rep = run_nesgd("report --store '" + store + "' --out '" + tmp.path() + "/report'");
  ASSERT_EQ(rep.exit_code, 0) << rep.output;
  const std::string md = read_text(tmp.path() + "/report/report.md");
  EXPECT_NE(md.find("F1 [keras-adam, isotropic]"), std::string::npos) << md;
  EXPECT_NE(md.find("F1 [keras-adam, ne]"), std::string::npos) << md;
  EXPECT_NE(md.find("## NE beside its controls"), std::string::npos) << md;
  EXPECT_TRUE(std::filesystem::exists(tmp.path() + "/report/controls-tests.csv"));
}
