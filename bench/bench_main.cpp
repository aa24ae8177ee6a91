// nesgd_bench - times the training step against the fp32 matmul ceiling, in
// one process, interleaved, and prints a Markdown table (and JSON with --json).
//
// What is counted (also printed under the table):
//   samples/s      samples forward+backward per second of ne_step: a plain
//                  step (alpha = 1) counts B, an NE step counts 2B (B and B').
//   step-GEMM ceiling  B / (time of the GEMMs one plain step at B performs,
//                  same shapes and transpose flags, torch::mm_out fp32). This
//                  is the ceiling the "ours / ceiling" ratio uses.
//   square ceiling  the large square sgemm's GFLOP/s divided by 6 x parameters
//                  FLOPs per sample (forward 2P + backward 4P), for reference.
// Each figure is a median over --repeats blocks; ratios are medians of the
// per-repeat ratios of blocks timed back to back (bench/timing.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "bench.h"
#include "nesgd/error.h"
#include "nesgd/runtime/memory.h"
#include "nesgd/runtime/precision.h"
#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/threads.h"
#include "timing.h"

#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define NESGD_HAVE_RECORD_PROFILE 1
#endif

namespace nesgd::bench {
namespace {

// Forward 2P FLOPs per sample, backward 4P (dX and dW): the usual 6P rule
// for a dense network of P parameters.
constexpr double kTrainFlopsPerParameter = 6.0;
constexpr int kWarmupCalls = 2;

struct Options {
  std::string model = "f1";
  std::vector<int64_t> batch_sizes{100, 1000, 5000};
  std::vector<double> alphas{1.0, 1.5};
  int repeats = 7;
  double min_block_seconds = 1.0;
  double warmup_seconds = 1.0;
  int64_t square_size = 2048;
  int threads = 0;       // 0: runtime::default_threads
  int blas_threads = 0;  // 0: runtime::default_threads
  uint64_t seed = 1;
  std::string device = "cpu";  // cpu | cuda | cuda:N | auto
  std::string precision = "fp32";  // fp32 | bf16 | tf32 (runtime/precision.h)
  std::string adam = "fused";      // fused | ops: Keras's Adam in one pass, or as LibTorch operations
  std::string ne_pass = "joint";   // joint | split: NE's two gradients from one pass over [B; B'] or one per batch
  bool compare_passes = false;     // also time each NE step with the other pass, interleaved in every repeat
  bool quick = false;
  std::string json_path;
  std::string profile_dir;  // non-empty: write per-operator traces instead of timing
  int profile_steps = 5;
};

struct Row {
  int64_t batch = 0;
  double alpha = 1.0;
  std::string ne_pass;                // of an NE step (alpha != 1); "-" for a plain step
  int partner = -1;                   // --compare-passes: the row of the same alpha with the other pass
  std::vector<double> ratio_partner;  // per repeat: step time / the partner's step time
  double over_partner = NAN;
  int64_t samples_per_step = 0;
  int64_t steps_per_block = 0;
  std::vector<double> step_seconds;   // per repeat
  std::vector<double> step_cpu;       // per repeat: process CPU seconds per step
  std::vector<double> gemm_seconds;   // per repeat: the step-GEMM set, wall
  std::vector<double> gemm_cpu;       // per repeat: the step-GEMM set, process CPU
  std::vector<double> ratio_ceiling;  // per repeat: (ours samples/s) / (step-GEMM ceiling samples/s)
  std::vector<double> ratio_plain;    // per repeat: step time / plain step time at the same B
  double step_s = 0, step_cpu_s = 0, best_samples_per_s = 0, samples_per_s = 0, ceiling_samples_per_s = NAN, ours_over_ceiling = NAN;
  double square_samples_per_s = NAN, ours_over_square = NAN, ne_over_plain = NAN, noise = 0;
  double flops_per_sample = NAN;  // training FLOPs of one sample, for the square ceiling
};

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// Square fp32 sgemm rate in FLOP/s (median of repeats) and its spread.
StepOptions step_options(const Options& o, const std::string& pass) { return {o.precision, o.adam == "fused", pass}; }
StepOptions step_options(const Options& o) { return step_options(o, o.ne_pass); }

std::pair<double, double> square_rate(const Options& o, const torch::Device& device) {
  const int64_t n = o.square_size;
  GemmSet square({GemmShape{n, n, n, false, false, "square"}}, device);
  const double one = warm_up([&] { square.run(); }, kWarmupCalls, o.warmup_seconds);
  const int64_t calls = calls_per_block(one, o.min_block_seconds);
  std::vector<double> rates;
  for (int r = 0; r < o.repeats; ++r) rates.push_back(square.flops() / seconds_per_call([&] { square.run(); }, calls));
  return {median(rates), spread(rates)};
}

// The plain step's row (alpha = 1); rows.size() if there is none.
size_t plain_row(const std::vector<Row>& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].alpha == 1.0) return i;
  }
  return rows.size();
}

std::vector<Row> run_batch(const ModelBench& bench, const runtime::TensorSet& data, int64_t batch, const Options& o,
                           double square_flops_per_s) {
  std::vector<std::unique_ptr<StepBench>> steps;
  std::vector<Row> rows;
  for (double alpha : o.alphas) {
    std::vector<std::string> passes{o.ne_pass};
    if (o.compare_passes && alpha != 1.0) passes.push_back(o.ne_pass == "joint" ? "split" : "joint");
    for (const std::string& pass : passes) {
      steps.push_back(std::make_unique<StepBench>(bench, data, batch, alpha, o.seed, step_options(o, pass)));
      Row r;
      r.batch = batch;
      r.alpha = alpha;
      r.ne_pass = alpha == 1.0 ? "-" : pass;
      r.samples_per_step = steps.back()->samples_per_step();
      rows.push_back(r);
    }
    if (passes.size() == 2) {
      const int n = static_cast<int>(rows.size());
      rows[n - 2].partner = n - 1;
      rows[n - 1].partner = n - 2;
    }
  }
  const int64_t params = steps.front()->parameters();
  std::optional<GemmSet> gemms;
  if (bench.step_gemms) gemms.emplace(bench.step_gemms(batch), data.x.device());

  // Warm-up doubles as calibration of the block lengths.
  for (size_t i = 0; i < steps.size(); ++i) {
    const double one = warm_up([&] { steps[i]->step(); }, kWarmupCalls, o.warmup_seconds);
    rows[i].steps_per_block = calls_per_block(one, o.min_block_seconds);
  }
  int64_t gemm_calls = 0;
  if (gemms) gemm_calls = calls_per_block(warm_up([&] { gemms->run(); }, kWarmupCalls, o.warmup_seconds),
                                          o.min_block_seconds);

  const auto plain = std::find(o.alphas.begin(), o.alphas.end(), 1.0);
  for (int rep = 0; rep < o.repeats; ++rep) {
    std::vector<double> t(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      const BlockTime bt = time_block([&] { steps[i]->step(); }, rows[i].steps_per_block);
      t[i] = bt.wall;
      rows[i].step_seconds.push_back(bt.wall);
      rows[i].step_cpu.push_back(bt.cpu);
    }
    const BlockTime g = gemms ? time_block([&] { gemms->run(); }, gemm_calls) : BlockTime{NAN, NAN};
    const double tg = g.wall;
    for (size_t i = 0; i < steps.size(); ++i) {
      rows[i].gemm_seconds.push_back(g.wall);
      rows[i].gemm_cpu.push_back(g.cpu);
      const double ours = static_cast<double>(rows[i].samples_per_step) / t[i];
      if (gemms) rows[i].ratio_ceiling.push_back(ours / (static_cast<double>(batch) / tg));
      if (plain != o.alphas.end()) rows[i].ratio_plain.push_back(t[i] / t[plain_row(rows)]);
      if (rows[i].partner >= 0) rows[i].ratio_partner.push_back(t[i] / t[static_cast<size_t>(rows[i].partner)]);
    }
    std::fprintf(stderr, "  B=%lld repeat %d/%d done\n", static_cast<long long>(batch), rep + 1, o.repeats);
  }

  for (auto& r : rows) {
    r.step_s = median(r.step_seconds);
    r.samples_per_s = static_cast<double>(r.samples_per_step) / r.step_s;
    r.step_cpu_s = median(r.step_cpu);
    r.best_samples_per_s =
        static_cast<double>(r.samples_per_step) / *std::min_element(r.step_seconds.begin(), r.step_seconds.end());
    r.noise = spread(r.step_seconds);
    if (gemms) {
      r.ours_over_ceiling = median(r.ratio_ceiling);
      r.ceiling_samples_per_s = r.samples_per_s / r.ours_over_ceiling;
    }
    const double flops_per_sample = bench.train_flops_per_sample
                                        ? bench.train_flops_per_sample()
                                        : kTrainFlopsPerParameter * static_cast<double>(params);
    r.flops_per_sample = flops_per_sample;
    r.square_samples_per_s = square_flops_per_s / flops_per_sample;
    r.ours_over_square = r.samples_per_s / r.square_samples_per_s;
    if (plain != o.alphas.end()) r.ne_over_plain = median(r.ratio_plain);
    if (r.partner >= 0) r.over_partner = median(r.ratio_partner);
  }
  return rows;
}

std::string fmt_or_dash(double v, const char* f) { return std::isnan(v) ? "-" : fmt::format(fmt::runtime(f), v); }

void print_table(const std::vector<Row>& rows) {
  std::printf(
      "| B | alpha | samples counted / step | step ms (CPU ms) | ours samples/s | step-GEMM ceiling samples/s | ours / ceiling "
      "| square-sgemm ceiling samples/s | ours / square | step time / plain step | NE pass | step time / other pass "
      "| noise |\n"
      "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %lld | %g | %s | %.2f (%.2f) | %.0f | %s | %s | %.0f | %.3f | %s | %s | %s | %.0f%% |\n",
                static_cast<long long>(r.batch), r.alpha,
                r.alpha == 1.0 ? fmt::format("B = {}", r.batch).c_str()
                               : fmt::format("2B = {} (B + B')", r.samples_per_step).c_str(),
                1e3 * r.step_s, 1e3 * r.step_cpu_s, r.samples_per_s, fmt_or_dash(r.ceiling_samples_per_s, "{:.0f}").c_str(),
                fmt_or_dash(r.ours_over_ceiling, "{:.3f}").c_str(), r.square_samples_per_s, r.ours_over_square,
                fmt_or_dash(r.ne_over_plain, "{:.3f}").c_str(), r.ne_pass.c_str(),
                fmt_or_dash(r.over_partner, "{:.3f}").c_str(), 100.0 * r.noise);
  }
}

nlohmann::json row_json(const Row& r) {
  auto num = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"batch", r.batch},
          {"alpha", r.alpha},
          {"samples_per_step", r.samples_per_step},
          {"steps_per_block", r.steps_per_block},
          {"step_seconds", r.step_s},
          {"step_seconds_per_repeat", r.step_seconds},
          {"step_cpu_seconds", r.step_cpu_s},
          {"step_cpu_seconds_per_repeat", r.step_cpu},
          {"best_samples_per_second", r.best_samples_per_s},
          {"gemm_seconds_per_repeat", r.gemm_seconds},
          {"gemm_cpu_seconds_per_repeat", r.gemm_cpu},
          {"samples_per_second", r.samples_per_s},
          {"ceiling_samples_per_second", num(r.ceiling_samples_per_s)},
          {"ours_over_ceiling", num(r.ours_over_ceiling)},
          {"ours_over_ceiling_per_repeat", r.ratio_ceiling},
          {"train_flops_per_sample", r.flops_per_sample},
          {"square_ceiling_samples_per_second", r.square_samples_per_s},
          {"ours_over_square", r.ours_over_square},
          {"step_time_over_plain", num(r.ne_over_plain)},
          {"step_time_over_plain_per_repeat", r.ratio_plain},
          {"ne_pass", r.ne_pass},
          {"step_time_over_other_pass", num(r.over_partner)},
          {"step_time_over_other_pass_per_repeat", r.ratio_partner},
          {"noise", r.noise}};
}

// Per-operator traces of `profile_steps` steps for each (B, alpha), after a
// warm-up, in Chrome's trace format (chrome://tracing, or
// bench/profile_compare.py, which sets them beside PyTorch-Python's).
int profile(const ModelBench& bench, const runtime::TensorSet& data, const Options& o) {
#ifdef NESGD_HAVE_RECORD_PROFILE
  std::filesystem::create_directories(o.profile_dir);
  for (int64_t b : o.batch_sizes) {
    for (double alpha : o.alphas) {
      StepBench step(bench, data, b, alpha, o.seed, step_options(o));
      warm_up([&] { step.step(); }, kWarmupCalls, o.warmup_seconds);
      const std::string path = fmt::format("{}/nesgd-{}-B{}-a{}.trace.json", o.profile_dir, o.model, b, alpha);
      const auto t0 = Clock::now();
      {
        torch::autograd::profiler::RecordProfile guard(path);
        for (int i = 0; i < o.profile_steps; ++i) step.step();
      }
      std::fprintf(stderr, "  B=%lld alpha=%g: %d steps in %.3f s (profiled) -> %s\n", static_cast<long long>(b),
                   alpha, o.profile_steps, seconds_since(t0), path.c_str());
    }
  }
  return 0;
#else
  (void)bench, (void)data;
  throw Error("--profile: this LibTorch has no torch/csrc/autograd/profiler_legacy.h (RecordProfile)");
#endif
}

int run(const Options& o, const std::string& command_line) {
  const ModelBench& bench = find_model_bench(o.model);
  for (int64_t b : o.batch_sizes) {
    if (b <= 0 || b > bench.dataset_size) {
      throw Error(fmt::format("--batch-sizes: {} is outside 1..{} (the dataset size)", b, bench.dataset_size));
    }
  }
  const torch::Device device = runtime::resolve_device(o.device);
  runtime::check_precision(o.precision, device);
  runtime::apply_precision(o.precision, device);
  const runtime::ThreadSettings applied = runtime::apply_threads(o.model, {o.threads, o.blas_threads});
  const nlohmann::json threads = runtime::describe_threads();
  const nlohmann::json environment = runtime::environment_record(device);
  const std::string device_name = environment.value("device_name", device.str());
  std::fprintf(stderr, "nesgd_bench: model %s on %s (%s), threads %s, heap %s\n", o.model.c_str(),
               device.str().c_str(), device_name.c_str(), threads.dump().c_str(),
               runtime::describe_malloc().value("policy", std::string("?")).c_str());

  const runtime::TensorSet data = random_dataset(bench, o.seed, device);
  if (!o.profile_dir.empty()) return profile(bench, data, o);
  // The square sgemm is the machine's ceiling: on the CPU it runs on every
  // core, whatever the model's policy gives OpenBLAS (1 thread for conv nets).
  if (device.is_cpu()) runtime::apply_threads(o.model, {applied.aten, runtime::hardware_cores()});
  const auto [square_flops, square_noise] = square_rate(o, device);
  if (device.is_cpu()) runtime::apply_threads(o.model, {applied.aten, applied.blas});
  std::fprintf(stderr, "  square %lld^3 sgemm: %.1f GFLOP/s (noise %.0f%%)\n", static_cast<long long>(o.square_size),
               square_flops / 1e9, 100 * square_noise);

  std::vector<Row> rows;
  for (int64_t b : o.batch_sizes) {
    auto r = run_batch(bench, data, b, o, square_flops);
    rows.insert(rows.end(), r.begin(), r.end());
  }

  if (device.is_cuda()) {
    std::printf("nesgd_bench --model %s on %s (%s), LibTorch %s; host %s, %d cores\n\n", o.model.c_str(),
                device.str().c_str(), device_name.c_str(), runtime::libtorch_version().c_str(), cpu_model().c_str(),
                runtime::hardware_cores());
  } else {
    std::printf("nesgd_bench --model %s: %s, %d cores; ATen threads %d, OpenBLAS threads %d (%s); heap policy %s\n\n",
                o.model.c_str(), cpu_model().c_str(), runtime::hardware_cores(), applied.aten, applied.blas,
                threads.value("blas", std::string("?")).c_str(),
                runtime::describe_malloc().value("policy", std::string("?")).c_str());
  }
  print_table(rows);
  std::printf(
      "\nsamples/s counts B per plain step (alpha = 1) and 2B per NE step (B and B' both go forward and backward).\n"
      "ours / ceiling uses the step-GEMM ceiling: B / time of the fp32 GEMMs one plain step performs (same shapes,\n"
      "transposes), timed in this process between the step blocks. Square: %lld^3 sgemm (all cores) at %.1f GFLOP/s\n"
      "over the model's training FLOPs per sample (6 x parameters; conv nets: forward, dW and dX of each conv). Medians of %d repeats; noise = (max - min) / median of the step time. CPU ms: process CPU time per\n"
      "step, all threads (spin-waiting included).%s\n",
      static_cast<long long>(o.square_size), square_flops / 1e9, o.repeats,
      device.is_cuda() ? "\nOn CUDA every step and every GEMM set ends with a device synchronize; the sgemm is cuBLAS fp32 at\n"
                         "LibTorch's default matmul precision; convolutions use cuDNN at LibTorch's defaults."
                       : "");

  if (!o.json_path.empty()) {
    nlohmann::json j;
    j["tool"] = "nesgd_bench";
    j["command"] = command_line;
    j["model"] = o.model;
    j["precision"] = o.precision;
    j["adam"] = o.adam;
    j["ne_pass"] = o.ne_pass;
    j["cpu_model"] = cpu_model();
    j["cores"] = runtime::hardware_cores();
    j["device"] = device.str();
    j["device_name"] = device_name;
    j["environment"] = environment;
    j["env"] = {{"OPENBLAS_CORETYPE", env_or("OPENBLAS_CORETYPE", "")},
                {"OMP_WAIT_POLICY", env_or("OMP_WAIT_POLICY", "")},
                {"LD_LIBRARY_PATH", env_or("LD_LIBRARY_PATH", "")}};
    j["threads_applied"] = {{"aten", applied.aten}, {"blas", applied.blas}};
    j["threads_in_effect"] = threads;  // read right after applying them
    j["repeats"] = o.repeats;
    j["min_block_seconds"] = o.min_block_seconds;
    j["square"] = {{"n", o.square_size}, {"gflops", square_flops / 1e9}, {"noise", square_noise}};
    j["rows"] = nlohmann::json::array();
    for (const auto& r : rows) j["rows"].push_back(row_json(r));
    std::ofstream out(o.json_path);
    if (!out) throw Error("--json: cannot write " + o.json_path);
    out << j.dump(2) << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace nesgd::bench

int main(int argc, char** argv) {
  using nesgd::bench::Options;
  // The trainer's heap policy (NESGD_MALLOC, nesgd/runtime/memory.h), as `nesgd` applies it.
  try {
    nesgd::runtime::apply_malloc_policy(nesgd::runtime::malloc_policy_from_environment());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nesgd_bench: error: %s\n", e.what());
    return 1;
  }
  Options o;
  std::string names;
  for (const auto& n : nesgd::bench::model_bench_names()) names += (names.empty() ? "" : ", ") + n;
  CLI::App app{"nesgd_bench - training-step throughput vs the fp32 matmul ceiling (see docs/PERFORMANCE.md)"};
  app.add_option("--model", o.model, "model to time: " + names)->capture_default_str();
  app.add_option("--batch-sizes", o.batch_sizes, "batch sizes B")->delimiter(',')->capture_default_str();
  app.add_option("--alphas", o.alphas, "NE factors alpha (1 = plain step)")->delimiter(',')->capture_default_str();
  app.add_option("--repeats", o.repeats, "timed blocks per figure (median)")->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--min-block-seconds", o.min_block_seconds, "length of one timed block")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--warmup-seconds", o.warmup_seconds, "warm-up per step kind")->capture_default_str();
  app.add_option("--square-size", o.square_size, "n of the n^3 square sgemm")->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", o.threads, "ATen intra-op threads (0 = measured default for the model)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--blas-threads", o.blas_threads, "OpenBLAS threads (0 = measured default for the model)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "seed of the dataset, weights and batch streams")->capture_default_str();
  app.add_option("--device", o.device, "cpu, cuda, cuda:N or auto (CUDA needs a CUDA LibTorch build)")
      ->capture_default_str();
  app.add_option("--profile", o.profile_dir,
                 "instead of timing, write per-operator traces (Chrome format) of --profile-steps steps per (B, alpha) "
                 "into this folder (compare with PyTorch-Python: bench/profile_compare.py)");
  app.add_option("--profile-steps", o.profile_steps, "steps per profiled (B, alpha)")->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--precision", o.precision,
                 "fp32 (the paper's), bf16 (forward passes under bf16 autocast; GPUs, CPUs with AVX512-BF16/AMX) "
                 "or tf32 (NVIDIA GPUs); the GEMM ceiling stays fp32")
      ->check(CLI::IsMember({"fp32", "bf16", "tf32"}))
      ->capture_default_str();
  app.add_option("--adam", o.adam, "Keras's Adam in one pass (fused) or as LibTorch's operations (ops)")
      ->check(CLI::IsMember({"fused", "ops"}))
      ->capture_default_str();
  app.add_option("--ne-pass", o.ne_pass,
                 "NE steps (alpha != 1): joint (one forward and backward over [B; B'], the trainer's default) or split")
      ->check(CLI::IsMember(nesgd::optim::ne_pass_names()))
      ->capture_default_str();
  app.add_flag("--compare-passes", o.compare_passes,
               "time every NE step with both passes, interleaved block by block in each repeat, and report each "
               "one's step time over the other's (the median of the per-repeat ratios)");
  app.add_flag("--quick", o.quick, "short blocks and 3 repeats: a smoke run, not figures to quote");
  app.add_option("--json", o.json_path, "also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);
  if (o.quick) {
    o.repeats = std::min(o.repeats, 3);
    o.min_block_seconds = std::min(o.min_block_seconds, 0.2);
    o.warmup_seconds = std::min(o.warmup_seconds, 0.2);
    o.square_size = std::min<int64_t>(o.square_size, 1024);
  }
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  try {
    return nesgd::bench::run(o, command_line);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nesgd_bench: error: %s\n", e.what());
    return 1;
  }
}
