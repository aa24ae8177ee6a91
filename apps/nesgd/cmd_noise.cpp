// `nesgd noise`: measure NE's gradient noise at fixed weights (noise/noise_meter.h).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>

#include "common.h"
#include "nesgd/clock.h"
#include "nesgd/durable_write.h"
#include "nesgd/exp/progress.h"
#include "nesgd/models/model_spec.h"
#include "nesgd/noise/model_noise.h"

namespace nesgd::cli {
namespace {

struct NoiseState {
  noise::NoiseRunConfig config;
  std::string out;
  bool json = false;
  bool quiet = false;
  DataFlags data;
};

int run(NoiseState& s) {
  // Flags that do not depend on the training-set size fail before any data is read.
  s.config.meter.validate(std::numeric_limits<int64_t>::max());
  const auto data_options = s.data.options(s.quiet);
  const auto data = data::load_dataset(s.config.dataset, data_options);
  if (!s.quiet) std::fprintf(stderr, "data: %s\n", data.source.c_str());

  const bool tty = isatty(STDERR_FILENO) != 0;
  const double interval = tty ? 0.5 : 15.0;
  const auto t0 = Clock::now();
  exp::LineThrottle throttle(interval);
  noise::NoiseMeterHooks hooks;
  if (!s.quiet) {
    hooks.on_progress = [&](const std::string& phase, int64_t done, int64_t total) {
      const double now = seconds_since(t0);
      if (!throttle.due(now, /*force=*/done == total)) return;
      print_progress_line(exp::phase_progress_line(phase, done, total, now), tty, /*end_line=*/done == total);
    };
  }
  hooks.should_stop = stop_requested;
  install_stop_handlers();

  const auto result = noise::run_model_noise(s.config, data, hooks);
  const auto json = noise::to_json(result, s.config);
  if (!s.out.empty()) write_file_durable(s.out, json.dump(2) + "\n");
  if (s.json) {
    std::cout << json.dump(2) << std::endl;
  } else {
    std::cout << "model " << result.model << " at " << result.weights << ", " << s.config.dataset << "\n"
              << noise::format_table(result.report) << std::flush;
  }
  if (!s.quiet) {
    std::fprintf(stderr, "%s%s\n", exp::format_duration(result.report.seconds).c_str(),
                 s.out.empty() ? "" : (", JSON in " + s.out).c_str());
  }
  return result.report.interrupted ? 130 : 0;
}

}  // namespace

Command add_noise_command(CLI::App& app) {
  auto state = std::make_shared<NoiseState>();
  auto& c = state->config;
  auto* cmd = app.add_subcommand(
      "noise", "Measure NE's gradient noise at fixed weights: covariance factor vs theory, B_eff, kurtosis, B_simple");
  cmd->footer(
      "Draws K independent pairs of minibatches (B, B') at fixed weights (no update), forms\n"
      "g_NE = alpha g_B + (1 - alpha) g_B' for every alpha on the same draws, and compares tr Cov[g_NE] / tr Cov[g_B]\n"
      "with alpha^2 + (1 - alpha)^2, plain batches of round(B_eff) with theirs, and the excess kurtosis of both.\n"
      "Method and the finite-population factors: docs/NOISE.md. Example:\n"
      "  nesgd noise --batch-size 1000 --alphas 1,1.5,2,3 --draws 200 --out noise.json\n"
      "  nesgd noise --load-model trained.pt --batch-size 1000 --out noise-trained.json");
  cmd->add_option("--model", c.model,
                  "Network at its initial weights of --seed (default f1; torchscript:PATH for your own; with "
                  "--load-model: the file's)");
  cmd->add_option("--init", c.init,
                  "Without --load-model: glorot (weights drawn from --seed, as `nesgd train` draws them) or file "
                  "(a TorchScript model's own saved weights)")
      ->check(CLI::IsMember(models::init_names()))
      ->capture_default_str();
  cmd->add_option("--dataset", c.dataset, "Dataset whose training set is sampled (a registered name or npz:PATH)")
      ->capture_default_str();
  cmd->add_option("--load-model", c.load_model, "Measure at the weights in this file (nesgd train --save-model)");
  cmd->add_option("--batch-size,-b", c.meter.batch_size, "Minibatch size B (each of B and B')")
      ->capture_default_str()
      ->check(positive_integer());
  cmd->add_option("--alphas", c.meter.alphas, "NE factors to evaluate, comma separated")
      ->delimiter(',')
      ->capture_default_str()
      ->check(finite_number());
  cmd->add_option("--draws,-k", c.meter.draws, "K: independent (B, B') pairs")
      ->capture_default_str()
      ->check(positive_integer());
  cmd->add_option("--seed,-s", c.meter.seed, "Seed of the minibatch streams (and of the initial weights)")
      ->capture_default_str()
      ->check(non_negative_integer());
  cmd->add_option("--train-subset", c.train_subset, "Sample from the first N training samples only (0 = all)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = all"));
  cmd->add_option("--directions", c.meter.directions, "Random unit directions for the kurtosis")
      ->capture_default_str()
      ->check(non_negative_integer());
  cmd->add_option("--pilot", c.meter.pilot_draws, "Pilot pairs that fix the leading principal direction (0 = none)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = none"));
  cmd->add_option("--confidence", c.meter.confidence, "Confidence level of the intervals")
      ->capture_default_str()
      ->check(number_in_unit_interval(false));
  cmd->add_option("--device", c.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--threads", c.threads, "ATen intra-op threads (0 = measured default)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = measured default"));
  cmd->add_option("--blas-threads", c.blas_threads, "OpenBLAS threads (0 = measured default)")
      ->capture_default_str()
      ->check(non_negative_integer("0 = measured default"));
  state->data.add_to(cmd);
  cmd->add_option("--out,-o", state->out, "Write the JSON report here (atomically)");
  cmd->add_flag("--json", state->json, "Print the JSON report on stdout instead of the table");
  cmd->add_flag("--quiet,-q", state->quiet, "No progress on stderr");
  return {cmd, [state] { return run(*state); }};
}

}  // namespace nesgd::cli
