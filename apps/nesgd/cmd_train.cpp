// `nesgd train`: one run under the paper's protocol, JSON result.
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "common.h"
#include "nesgd/dist/group.h"
#include "nesgd/durable_write.h"
#include "nesgd/exp/progress.h"
#include "nesgd/runtime/device_name.h"
#include "nesgd/runtime/threads.h"
#include "nesgd/train/trainer.h"

namespace nesgd::cli {
namespace {

struct TrainState {
  train::RunConfig config;
  std::string loss_measure = "epoch-mean";
  std::string out;
  bool quiet = false;
  DataFlags data;
  train::RunFiles files;
  // --distributed: one run over the launcher's ranks (dist/launch.h)
  bool distributed = false;
  std::string dist_backend = "auto";
  dist::LaunchOverrides dist_overrides;
  double dist_timeout = dist::kDefaultTimeoutSeconds;
};

// Data-parallel: where the ranks meet and whether the batch splits, before any data is read.
// Ranks other than 0 go quiet and write nothing: rank 0 speaks and writes for the run.
dist::LaunchInfo check_launch(TrainState& s) {
  const dist::LaunchInfo launch = dist::launch_info_from_env(s.dist_overrides);
  dist::check_batch_split(s.config.batch_size, s.config.batch_unit(), launch.world_size);
  if (launch.rank != 0) {
    s.quiet = true;
    s.out.clear();
    s.files.save_model.clear();
    s.files.save_model_at_l_star.clear();
  }
  return launch;
}

// Allowed (measuring them is legitimate), but said: these settings are slow.
void warn_slow_settings(const TrainState& s) {
  if (s.quiet || !runtime::runs_on_cpu(s.config.device)) return;
  const std::string w = runtime::oversubscription_warning(s.config.model, {s.config.threads, s.config.blas_threads});
  if (!w.empty()) std::fprintf(stderr, "warning: %s\n", w.c_str());
  const std::string k = runtime::blas_kernel_warning();
  if (!k.empty()) std::fprintf(stderr, "warning: %s\n", k.c_str());
}

std::shared_ptr<dist::Group> join_group(const TrainState& s, const dist::LaunchInfo& launch) {
  // A write to the socket of a rank that died must fail as an error, which the group turns into a
  // roll call naming that rank, not end this process by SIGPIPE without a word.
  std::signal(SIGPIPE, SIG_IGN);
  auto group = dist::Group::join(launch, {s.dist_backend, s.dist_timeout, s.config.device});
  if (!s.quiet) {
    std::fprintf(stderr, "distributed: %d ranks (%s launch), %s, rendezvous at %s:%d\n", launch.world_size,
                 launch.launcher.c_str(), group->backend().c_str(), launch.master_addr.c_str(), launch.master_port);
  }
  return group;
}

// The JSON result on stdout or in --out, and its one-line summary on stderr.
void write_result(const TrainState& s, const train::RunResult& result) {
  const auto json = train::to_json(result, s.config);
  if (s.out.empty()) {
    std::cout << json.dump(2) << std::endl;
  } else {
    write_file_durable(s.out, json.dump(2) + "\n");
  }
  if (s.quiet) return;
  std::fprintf(stderr, "%s: %lld iterations (L* at %s), test accuracy %.2f%%, test loss %.4f, %.0f samples/s, %s%s\n",
               train::to_string(result.status).c_str(), static_cast<long long>(result.iterations),
               result.iterations_to_l_star >= 0 ? std::to_string(result.iterations_to_l_star).c_str() : "-",
               100.0 * result.test_accuracy, result.test_loss, result.samples_per_second,
               exp::format_duration(result.wall_seconds).c_str(), s.out.empty() ? "" : (", result in " + s.out).c_str());
}

int run(TrainState& s) {
  finish_train_options(s.config, s.loss_measure);  // bad flags fail before any data is read
  dist::LaunchInfo launch;
  if (s.distributed) launch = check_launch(s);
  warn_slow_settings(s);
  const auto data_options = s.data.options(s.quiet);
  const auto data = data::load_dataset(s.config.dataset, data_options);
  if (!s.quiet) std::fprintf(stderr, "data: %s\n", data.source.c_str());

  const bool tty = isatty(STDERR_FILENO) != 0;
  train::TrainHooks hooks;
  hooks.progress_interval_seconds = tty ? 1.0 : 15.0;
  if (!s.quiet) {
    hooks.on_progress = [tty](const train::Progress& p) { print_progress_line(exp::progress_line(p), tty, p.is_check); };
  }
  hooks.should_stop = stop_requested;
  install_stop_handlers();

  std::shared_ptr<dist::Group> group;
  if (s.distributed) group = join_group(s, launch);
  const auto result = train::train_run(s.config, data, hooks, s.files, group.get());
  const bool speaks = !group || group->rank() == 0;
  if (result.resumed_from_iteration > 0 && !s.quiet) {
    std::fprintf(stderr, "resumed from checkpoint %s at iteration %lld\n", s.files.checkpoint.c_str(),
                 static_cast<long long>(result.resumed_from_iteration));
  }
  if (!speaks) return result.status == train::RunStatus::kInterrupted ? 130 : 0;
  write_result(s, result);
  if (result.status == train::RunStatus::kInterrupted) {
    if (!s.files.checkpoint.empty() && !s.quiet) {
      std::fprintf(stderr, "checkpoint saved: run the same command again to continue\n");
    }
    return 130;
  }
  // The result is stored; the checkpoint has served its purpose.
  if (!s.files.checkpoint.empty() && !s.out.empty()) std::filesystem::remove(s.files.checkpoint);
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto state = std::make_shared<TrainState>();
  auto* cmd = app.add_subcommand("train", "Train one run under the paper's protocol and print a JSON result");
  cmd->footer(
      "Protocol (Mori & Ueda, \"Improved generalization by noise enhancement\", arXiv 2009.13094), as Keras's fit ran it: Keras's Adam with its defaults (--optimizer keras-adam);\n"
      "epochs of ceil(N/B) steps on a fresh permutation, the last batch short (--sampling keras); the\n"
      "training loss is the sample-weighted mean of an epoch's minibatch losses, checked at its end; LR\n"
      "halved once when it reaches L*; stop when it falls below L**; convergence time = optimizer steps.\n"
      "Before these defaults: --sampling epoch --optimizer adam. Ctrl-C stops the run and still\n"
      "writes its result (status \"interrupted\"). Example:\n"
      "  nesgd train --model f1 --batch-size 2000 --alpha 1.5 --seed 1 --out run.json");
  add_train_options(cmd, state->config, state->loss_measure);
  state->data.add_to(cmd);
  cmd->add_option("--out,-o", state->out, "Write the JSON result here (atomically) instead of stdout");
  cmd->add_flag("--quiet,-q", state->quiet, "No progress on stderr");
  cmd->add_option("--save-model", state->files.save_model, "Save the final weights here (for --load-model, `nesgd noise`)");
  cmd->add_option("--save-model-at-l-star", state->files.save_model_at_l_star,
                  "Save the weights at the moment the training loss first reaches L* (before the halved-LR steps), "
                  "e.g. to measure their gradient noise with `nesgd noise --load-model`; not written if L* is never reached");
  cmd->add_option("--checkpoint", state->files.checkpoint,
                  "Resume from this checkpoint if it exists, and save one there periodically and on Ctrl-C; "
                  "removed once the result is written to --out");
  cmd->add_option("--checkpoint-every", state->files.checkpoint_every_seconds, "Seconds between checkpoints")
      ->capture_default_str()
      ->check(positive_number());
  cmd->add_flag("--distributed", state->distributed,
                "Train this one run data-parallel over the processes a launcher started (torchrun --no-python, or "
                "Slurm's srun): each rank takes its share of B and B' and one all-reduce per step sums the "
                "gradients, so the run follows the single-process run of the same seed. Rank 0 writes --out, "
                "--checkpoint and progress; every rank resumes from --checkpoint. README: \"One run over several "
                "processes\"");
  cmd->add_option("--dist-backend", state->dist_backend, "c10d backend: auto (gloo on CPU, nccl on CUDA), gloo, nccl")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}));
  cmd->add_option("--dist-addr", state->dist_overrides.addr,
                  "Host of rank 0, where the ranks meet (default: NESGD_MASTER_ADDR or MASTER_ADDR; needed with srun)");
  cmd->add_option("--dist-port", state->dist_overrides.port, "Port of the rendezvous on rank 0 (default: MASTER_PORT, else 29500)")
      ->check(positive_integer());
  cmd->add_option("--dist-timeout", state->dist_timeout,
                  "Seconds a rank waits for the others (start-up, each step's all-reduce) before the run stops and names "
                  "the lost rank")
      ->capture_default_str()
      ->check(positive_number());
  return {cmd, [state] { return run(*state); }};
}

}  // namespace nesgd::cli
