// nesgd_bench_pack - a pack of K runs against the same K runs one after another.
//
// Both sides are the real trainers (train::train_pack and train::train_run),
// not a copy of their steps: K runs of one model (F1, C1 or C2) of the same B
// and alpha, seeds 1..K, each capped at --steps iterations with an
// unreachable L** so that every run takes exactly that many steps, on a random
// dataset of the model's dataset shape (Fashion-MNIST or CIFAR; speed does
// not depend on pixel values) with a small test set. Reported: samples per second of each side over its wall time
// (final evaluations included, the same on both sides) and their ratio,
// measured back to back in one process, alternating which side goes first
// in each round; the table gives medians over rounds. The CPU's model and
// flags, thread settings and versions go into the JSON record.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "nesgd/error.h"
#include "nesgd/runtime/memory.h"
#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/threads.h"
#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string model = "f1";
  int64_t pack = 8;
  std::vector<int64_t> batch_sizes{100, 1000};
  std::vector<int64_t> steps{200, 40};  // per batch size: a few seconds of training per run
  double alpha = 1.5;
  int rounds = 3;
  int64_t train_size = 6000;
  int64_t test_size = 100;
  std::string device = "cpu";
  std::string precision = "fp32";
  int threads = 0;
  int blas_threads = 0;
  std::string json_path;
};

// Random images of the model's dataset: Fashion-MNIST (F1) or CIFAR-10/100 (C1/C2).
nesgd::data::DatasetSplits random_dataset(const std::string& model, int64_t n_train, int64_t n_test) {
  const bool cifar = model != "f1";
  const int64_t c = cifar ? 3 : 1, hw = cifar ? 32 : 28, classes = model == "c2" ? 100 : 10;
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<int> pixel(0, 255), label(0, static_cast<int>(classes) - 1);
  auto make = [&](int64_t n) {
    nesgd::data::ImageSet s;
    s.n = n;
    s.channels = c;
    s.height = hw;
    s.width = hw;
    s.num_classes = classes;
    s.images.resize(static_cast<size_t>(n * c * hw * hw));
    s.labels.resize(static_cast<size_t>(n));
    for (auto& p : s.images) p = static_cast<uint8_t>(pixel(rng));
    for (auto& l : s.labels) l = label(rng);
    return s;
  };
  nesgd::data::DatasetSplits d;
  d.name = "random";
  d.source = "random (benchmark)";
  d.train = make(n_train);
  d.test = make(n_test);
  return d;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

int run(const Options& o, const std::string& command_line) {
  if (o.steps.size() != o.batch_sizes.size()) throw nesgd::Error("--steps needs one value per batch size");
  const auto data = random_dataset(o.model, o.train_size, o.test_size);
  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json environment;
  std::printf("%s on %s\n\n| B | alpha | K | steps | single runs, samples/s | pack, samples/s | pack / single |\n",
              o.model.c_str(), o.device.c_str());
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  for (size_t bi = 0; bi < o.batch_sizes.size(); ++bi) {
    std::vector<nesgd::train::RunConfig> configs;
    for (int64_t k = 0; k < o.pack; ++k) {
      nesgd::train::RunConfig c;
      c.model = o.model;
      c.dataset = o.model == "f1" ? "fashion-mnist" : o.model == "c1" ? "cifar10" : "cifar100";
      c.batch_size = o.batch_sizes[bi];
      c.alpha = o.alpha;
      c.seed = static_cast<uint64_t>(k + 1);
      c.l_star = 1e-9;  // never reached: every run takes exactly max_iterations steps
      c.l_stop = 1e-10;
      c.max_iterations = o.steps[bi];
      c.device = o.device;
      c.precision = o.precision;
      c.threads = o.threads;
      c.blas_threads = o.blas_threads;
      configs.push_back(c);
    }
    std::vector<double> single_rates, pack_rates, ratios;
    for (int round = 0; round < o.rounds; ++round) {
      double single_rate = 0.0, pack_rate = 0.0;
      auto time_single = [&] {
        int64_t samples = 0;
        const auto t0 = Clock::now();
        for (const auto& c : configs) {
          const auto r = nesgd::train::train_run(c, data);
          samples += r.samples_processed;
          environment = r.environment;
        }
        single_rate = static_cast<double>(samples) / std::chrono::duration<double>(Clock::now() - t0).count();
      };
      auto time_pack = [&] {
        const auto t0 = Clock::now();
        const auto results = nesgd::train::train_pack(configs, data);
        int64_t samples = 0;
        for (const auto& r : results) samples += r.samples_processed;
        pack_rate = static_cast<double>(samples) / std::chrono::duration<double>(Clock::now() - t0).count();
      };
      if (round % 2 == 0) {
        time_single();
        time_pack();
      } else {
        time_pack();
        time_single();
      }
      single_rates.push_back(single_rate);
      pack_rates.push_back(pack_rate);
      ratios.push_back(pack_rate / single_rate);
      std::fprintf(stderr, "B=%lld round %d: single %.0f, pack %.0f samples/s, ratio %.3f\n",
                   static_cast<long long>(o.batch_sizes[bi]), round + 1, single_rate, pack_rate, pack_rate / single_rate);
    }
    std::printf("| %lld | %g | %lld | %lld | %.0f | %.0f | %.2f (rounds %s) |\n",
                static_cast<long long>(o.batch_sizes[bi]), o.alpha, static_cast<long long>(o.pack),
                static_cast<long long>(o.steps[bi]), median(single_rates), median(pack_rates), median(ratios),
                fmt::format("{:.2f}", fmt::join(ratios, ", ")).c_str());
    rows.push_back({{"batch_size", o.batch_sizes[bi]},
                    {"alpha", o.alpha},
                    {"pack", o.pack},
                    {"steps", o.steps[bi]},
                    {"single_samples_per_second", single_rates},
                    {"pack_samples_per_second", pack_rates},
                    {"ratio", ratios},
                    {"median_ratio", median(ratios)}});
  }
  if (!o.json_path.empty()) {
    nlohmann::json j{{"command", command_line},   {"rows", rows},       {"environment", environment},
                     {"train_size", o.train_size}, {"test_size", o.test_size}, {"rounds", o.rounds}};
    std::ofstream out(o.json_path);
    if (!out) throw nesgd::Error("--json: cannot write " + o.json_path);
    out << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    nesgd::runtime::apply_malloc_policy(nesgd::runtime::malloc_policy_from_environment());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nesgd_bench_pack: error: %s\n", e.what());
    return 1;
  }
  Options o;
  CLI::App app{"nesgd_bench_pack - K runs trained as one pack against the same runs one after another"};
  app.add_option("--model", o.model, "f1, c1 or c2")->check(CLI::IsMember({"f1", "c1", "c2"}))->capture_default_str();
  app.add_option("--pack", o.pack, "runs in the pack (K)")->check(CLI::Range(2, 1024))->capture_default_str();
  app.add_option("--batch-sizes", o.batch_sizes, "batch sizes B")->delimiter(',')->capture_default_str();
  app.add_option("--steps", o.steps, "steps per run, one value per batch size")->delimiter(',')->capture_default_str();
  app.add_option("--alpha", o.alpha, "NE factor of every run")->capture_default_str();
  app.add_option("--rounds", o.rounds, "rounds (side order alternates)")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--train-size", o.train_size, "random training samples")->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  app.add_option("--precision", o.precision, "fp32 or fp64")->check(CLI::IsMember({"fp32", "fp64"}))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "ATen threads (0 = the measured default)")->check(CLI::Range(0, 1024));
  app.add_option("--blas-threads", o.blas_threads, "OpenBLAS threads (0 = the measured default)")
      ->check(CLI::Range(0, 1024));
  app.add_option("--json", o.json_path, "also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  try {
    return run(o, command_line);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nesgd_bench_pack: error: %s\n", e.what());
    return 1;
  }
}
