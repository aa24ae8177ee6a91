// nesgd - command-line front end. Parses flags, calls the library, prints.
// All behaviour lives in the library (include/nesgd); this file only wires
// flags to options structs and formats output.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "nesgd/data/registry.h"
#include "nesgd/data/resolve.h"
#include "nesgd/error.h"
#include "nesgd/optim/optimizer_config.h"
#include "nesgd/train/run_config.h"
#include "nesgd/train/trainer.h"

namespace {

std::atomic<int> g_stop_signals{0};

void on_signal(int) {
  // First signal: finish the current step, record the run as interrupted.
  // Second: leave at once.
  if (g_stop_signals.fetch_add(1) >= 1) std::_Exit(130);
}

std::string format_duration(double seconds) {
  const auto s = static_cast<long>(seconds);
  return fmt::format("{:02d}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

// Writes text to `path` through a temporary file and a rename, so an existing
// result is never replaced by a half-written one.
void write_file_atomic(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw nesgd::Error("cannot write " + tmp + ": check that the folder exists and is writable");
    out << text;
    out.flush();
    if (!out) throw nesgd::Error("writing " + tmp + " failed (disk full?)");
  }
  fs::rename(tmp, target);
}

struct DataFlags {
  std::string data_dir;
  std::string mirror;
  bool offline = false;

  void add_to(CLI::App* app) {
    app->add_option("--data-dir", data_dir,
                    "Data root holding one folder per dataset (DIR/fashion-mnist/...). "
                    "Default: $NESGD_DATA_DIR, then system packages, then the user cache");
    app->add_option("--mirror", mirror, "Base URL to download from instead of the official one");
    app->add_flag("--offline", offline, "Never download; fail if the data is not found locally");
  }
  nesgd::data::DataOptions options() const {
    nesgd::data::DataOptions o;
    o.data_dir = data_dir;
    o.mirror = mirror;
    o.allow_download = !offline;
    return o;
  }
};

void add_train_options(CLI::App* cmd, nesgd::train::RunConfig& c, std::string& loss_measure) {
  cmd->add_option("--model", c.model, "Network: f1 (MLP, PAPER.md)")->capture_default_str();
  cmd->add_option("--dataset", c.dataset, "Dataset: fashion-mnist")->capture_default_str();
  cmd->add_option("--batch-size,-b", c.batch_size, "Minibatch size B (each of B and B')")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--alpha,-a", c.alpha,
                  "NE factor: g = alpha*grad L_B + (1-alpha)*grad L_B'. 1 = plain training, >1 enhances noise")
      ->capture_default_str();
  cmd->add_option("--seed,-s", c.seed, "Seed for initialization and both minibatch streams")->capture_default_str();
  cmd->add_option("--train-subset", c.train_subset, "Use the first N training samples (0 = all)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--l-star", c.l_star, "Halve the LR once when the training loss reaches this (default: paper's, per model)");
  cmd->add_option("--l-stop", c.l_stop, "Stop when the training loss falls below this, L** (default: paper's, per model)");
  cmd->add_option("--loss-measure", loss_measure,
                  "Training loss for L*/L**: epoch-mean (Keras: mean minibatch loss over the last epoch) "
                  "or full (whole training set, eval mode)")
      ->capture_default_str()->check(CLI::IsMember({"epoch-mean", "full"}));
  cmd->add_option("--eval-every", c.eval_every, "Iterations between training-loss checks (0 = once per epoch)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-iterations", c.max_iterations, "Cap on optimizer steps; hitting it gives status not_converged (0 = none)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--sampling", c.sampling, "Minibatch streams: epoch (reshuffled passes) or iid (independent uniform batches)")
      ->capture_default_str()->check(CLI::IsMember({"epoch", "iid"}));
  cmd->add_option("--optimizer", c.optimizer.name, "adam, adamw, sgd or rmsprop")
      ->capture_default_str()->check(CLI::IsMember({"adam", "adamw", "sgd", "rmsprop"}));
  cmd->add_option("--lr", c.optimizer.lr, "Initial learning rate (Keras Adam default)")->capture_default_str();
  cmd->add_option("--beta1", c.optimizer.beta1, "Adam beta1")->capture_default_str();
  cmd->add_option("--beta2", c.optimizer.beta2, "Adam beta2")->capture_default_str();
  cmd->add_option("--eps", c.optimizer.eps, "Adam/RMSprop epsilon (Keras: 1e-7; PyTorch: 1e-8)")->capture_default_str();
  cmd->add_option("--momentum", c.optimizer.momentum, "SGD/RMSprop momentum")->capture_default_str();
  cmd->add_option("--weight-decay", c.optimizer.weight_decay, "Weight decay (paper: none)")->capture_default_str();
  cmd->add_option("--device", c.device, "cpu, cuda, cuda:N or auto")->capture_default_str();
  cmd->add_option("--threads", c.threads, "ATen intra-op threads (0 = measured default, see docs/PERFORMANCE.md)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--blas-threads", c.blas_threads, "OpenBLAS threads (0 = measured default)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
}

void print_progress(const nesgd::train::Progress& p, bool tty) {
  const std::string loss = std::isnan(p.train_loss) ? std::string("   -    ") : fmt::format("{:.5f}", p.train_loss);
  const std::string line =
      fmt::format("it {:>7} | ep {:>4} | train loss {} | batch loss {:.5f} | lr {:.2e} | {:>7.0f} samples/s | {}",
                  p.iteration, p.epoch, loss, p.minibatch_loss, p.lr, p.samples_per_second, format_duration(p.seconds));
  if (tty) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    if (p.is_check) std::fprintf(stderr, "\n");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

int run_train(nesgd::train::RunConfig config, const std::string& loss_measure, const DataFlags& data_flags,
              const std::string& out, bool quiet) {
  config.loss_measure = nesgd::train::loss_measure_from_string(loss_measure);
  config.resolve_defaults_and_validate();  // fail on bad flags before loading data

  auto data_options = data_flags.options();
  data_options.quiet = quiet;
  const auto data = nesgd::data::load_dataset(config.dataset, data_options);
  if (!quiet) std::fprintf(stderr, "data: %s\n", data.source.c_str());

  const bool tty = isatty(STDERR_FILENO) != 0;
  nesgd::train::TrainHooks hooks;
  hooks.progress_interval_seconds = tty ? 1.0 : 15.0;
  if (!quiet) hooks.on_progress = [tty](const nesgd::train::Progress& p) { print_progress(p, tty); };
  hooks.should_stop = [] { return g_stop_signals.load() > 0; };
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  const auto result = nesgd::train::train_run(config, data, hooks);
  const auto json = nesgd::train::to_json(result, config);
  if (out.empty()) {
    std::cout << json.dump(2) << std::endl;
  } else {
    write_file_atomic(out, json.dump(2) + "\n");
  }
  if (!quiet) {
    std::fprintf(stderr, "%s: %lld iterations (L* at %s), test accuracy %.2f%%, test loss %.4f, %.0f samples/s, %s%s\n",
                 nesgd::train::to_string(result.status).c_str(), static_cast<long long>(result.iterations),
                 result.iterations_to_l_star >= 0 ? std::to_string(result.iterations_to_l_star).c_str() : "-",
                 100.0 * result.test_accuracy, result.test_loss, result.samples_per_second,
                 format_duration(result.wall_seconds).c_str(), out.empty() ? "" : (", result in " + out).c_str());
  }
  return result.status == nesgd::train::RunStatus::kInterrupted ? 130 : 0;
}

int run_data(const std::string& action, const std::string& name, const DataFlags& flags) {
  using namespace nesgd::data;
  if (action == "list") {
    for (const auto& spec : registered_datasets()) std::printf("%-16s %s\n", spec.name.c_str(), spec.description.c_str());
    return 0;
  }
  const DatasetSpec& spec = find_dataset(name);
  if (action == "fetch") {
    const std::string folder = fetch_dataset(spec, flags.options());
    std::printf("%s: ready in %s\n", spec.name.c_str(), folder.c_str());
    return 0;
  }
  Located where;
  const auto checks = verify_dataset(spec, flags.options(), &where);
  bool ok = true;
  std::printf("%s in %s (%s)\n", spec.name.c_str(), where.folder.c_str(), where.origin.c_str());
  for (const auto& c : checks) {
    std::printf("  %-4s %-30s %s\n", c.ok ? "ok" : "BAD", c.file.c_str(), c.detail.c_str());
    ok = ok && c.ok;
  }
  if (!ok) std::printf("some files failed: remove them and run `nesgd data fetch %s`\n", spec.name.c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "nesgd - noise-enhanced SGD (Mori & Ueda, arXiv 2009.13094) on LibTorch.\n"
      "NE replaces the minibatch gradient by alpha*grad L_B + (1-alpha)*grad L_B' with two independent\n"
      "minibatches, enlarging the gradient noise at a fixed batch size. See README.md."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("nesgd ") + NESGD_VERSION);

  // train
  nesgd::train::RunConfig config;
  std::string loss_measure = "epoch-mean";
  std::string out;
  bool quiet = false;
  DataFlags train_data;
  auto* train = app.add_subcommand("train", "Train one run under the paper's protocol and print a JSON result");
  train->footer(
      "Protocol (PAPER.md): Adam (Keras defaults), LR halved once when the training loss reaches L*,\n"
      "stop when it falls below L**; convergence time = optimizer steps. Example:\n"
      "  nesgd train --model f1 --batch-size 2000 --alpha 1.5 --seed 1 --out run.json");
  add_train_options(train, config, loss_measure);
  train_data.add_to(train);
  train->add_option("--out,-o", out, "Write the JSON result here (atomically) instead of stdout");
  train->add_flag("--quiet,-q", quiet, "No progress on stderr");

  // data
  std::string data_name;
  DataFlags data_flags;
  auto* data = app.add_subcommand("data", "Fetch, verify or list datasets");
  data->require_subcommand(1);
  auto* fetch = data->add_subcommand("fetch", "Download a dataset into the cache (or --data-dir), verifying SHA-256 sums");
  auto* verify = data->add_subcommand("verify", "Check a dataset's files against the registry's SHA-256 sums");
  data->add_subcommand("list", "List the known datasets");
  for (auto* sub : {fetch, verify}) {
    sub->add_option("dataset", data_name, "Dataset name (see `nesgd data list`)")->required();
    data_flags.add_to(sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (train->parsed()) return run_train(config, loss_measure, train_data, out, quiet);
    if (data->parsed()) {
      for (auto* sub : data->get_subcommands()) {
        if (sub->parsed()) return run_data(sub->get_name(), data_name, data_flags);
      }
    }
  } catch (const nesgd::Error& e) {
    std::fprintf(stderr, "\nnesgd: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nnesgd: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
