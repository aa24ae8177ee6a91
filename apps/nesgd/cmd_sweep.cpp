// `nesgd sweep`: a grid of training runs into a resumable result store.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "common.h"
#include "nesgd/data/registry.h"
#include "nesgd/data/resolve.h"
#include "nesgd/error.h"
#include "nesgd/exp/grid.h"
#include "nesgd/exp/presets.h"
#include "nesgd/exp/progress.h"
#include "nesgd/exp/shard.h"
#include "nesgd/exp/store.h"
#include "nesgd/exp/sweep.h"
#include "nesgd/exp/sweep_request.h"
#include "nesgd/exp/workers.h"
#include "nesgd/runtime/device_name.h"
#include "nesgd/train/pack.h"

namespace nesgd::cli {
namespace {

// Seconds between progress lines of the current run when stderr is a log file.
constexpr double kLogProgressSeconds = 30.0;

struct SweepState {
  std::string preset;
  std::string config_file;
  bool quick = false;
  std::string name;
  std::string store;
  std::string configs, batch_sizes, alphas, seeds, optimizers, noises;
  std::string shard;
  bool dry_run = false;
  bool no_wait = false;
  bool list_presets = false;
  double checkpoint_every = 0.0;
  std::string pack = "auto";
  int workers = 1;
  bool quiet = false;
  train::RunConfig flags;  // train options as parsed; only those given override the sweep
  std::string loss_measure = "epoch-mean";
  DataFlags data;
  CLI::App* cmd = nullptr;
  std::set<std::string> own_options;  // sweep's and data flags: not run-configuration keys
};

// The merging (preset, file, flags, lists) is the library's: exp/sweep_request.h.
exp::SweepSpec build_spec(SweepState& s) {
  exp::SweepRequest r;
  r.preset = s.preset;
  r.config_file = s.config_file;
  r.quick = s.quick;
  r.name = s.name;
  r.configs = s.configs;
  r.batch_sizes = s.batch_sizes;
  r.alphas = s.alphas;
  r.seeds = s.seeds;
  r.optimizers = s.optimizers;
  r.noises = s.noises;
  s.flags.loss_measure = train::loss_measure_from_string(s.loss_measure);
  r.flags = s.flags;
  for (const CLI::Option* o : s.cmd->get_options()) {
    if (o->count() > 0 && s.own_options.count(o->get_name()) == 0) r.given_flags.insert(o->get_name());
  }
  return exp::sweep_spec_from_request(r);
}

std::string describe(const train::RunConfig& c) {
  std::string d = fmt::format("{} B={} alpha={:g} seed={}", exp::config_label(c.model), c.batch_size, c.alpha, c.seed);
  if (c.optimizer.name != train::RunConfig{}.optimizer.name) d += " optimizer=" + c.optimizer.name;
  if (c.noise != optim::kNoiseNE) d += " noise=" + c.noise;
  return d;
}

int list_presets() {
  std::printf("%-10s %6s %6s  %s\n", "preset", "runs", "quick", "study");
  for (const auto& p : exp::presets()) {
    std::printf("%-10s %6zu %6zu  %s\n", p.name.c_str(), exp::preset(p.name, false).size(),
                exp::preset(p.name, true).size(), p.description.c_str());
  }
  std::printf("\nquick: a training subset, a few batch sizes, 3 seeds and an iteration cap (docs/EXPERIMENTS.md)\n");
  return 0;
}

int dry_run(const exp::SweepSpec& spec, const exp::Shard& shard, const std::string& store_dir) {
  std::unique_ptr<exp::ResultStore> store;
  if (!store_dir.empty() && std::filesystem::exists(std::filesystem::path(store_dir) / "store.json")) {
    store = std::make_unique<exp::ResultStore>(store_dir);
  }
  const auto plan = exp::plan_sweep(spec, shard, store.get());
  size_t in_shard = 0, done = 0;
  // The optimizer and noise columns where the sweep crosses them.
  const bool crossed = !spec.optimizers.empty() || !spec.noises.empty();
  std::printf("%5s  %-16s  %-4s %6s %6s %5s  %-5s  %s%s\n", "#", "run", "cfg", "B", "alpha", "seed", "shard", "state",
              crossed ? "   optimizer   noise" : "");
  for (const auto& r : plan) {
    in_shard += r.in_shard ? 1 : 0;
    done += r.done ? 1 : 0;
    const std::string extra =
        crossed ? fmt::format("   {:<11} {}", r.config.optimizer.name, r.config.noise) : std::string();
    std::printf("%5zu  %-16s  %-4s %6lld %6g %5llu  %-5s  %-6s%s\n", r.position + 1, r.id.c_str(),
                exp::config_label(r.config.model).c_str(), static_cast<long long>(r.config.batch_size),
                r.config.alpha, static_cast<unsigned long long>(r.config.seed), r.in_shard ? "yes" : "-",
                r.done ? "stored" : "to do", extra.c_str());
  }
  const train::RunConfig& c = plan.front().config;
  std::printf(
      "\nsweep %s: %zu runs = %zu config(s) x %zu batch size(s) x %zu alpha(s) x %zu seed(s); %zu in shard %s; "
      "%zu already stored\n"
      "every run: train subset %s, max iterations %s, loss measure %s, sampling %s, L* %g, L** %g, %s lr %g, "
      "on %s\n",
      spec.name.c_str(), plan.size(), spec.configs.size(), spec.batch_sizes.size(), spec.alphas.size(),
      spec.seeds.size(), in_shard, shard.to_string().c_str(), done,
      c.train_subset > 0 ? std::to_string(c.train_subset).c_str() : "all",
      c.max_iterations > 0 ? std::to_string(c.max_iterations).c_str() : "none",
      train::to_string(c.loss_measure).c_str(), c.sampling.c_str(), c.l_star, c.l_stop, c.optimizer.name.c_str(),
      c.optimizer.lr,
      c.device.c_str());
  return 0;
}

// The one stdout line for scripts (a worker's goes to stderr, marked), then the store's line.
// `by` is said after the counts, e.g. " by 2 workers".
void print_summary(const SweepState& s, const std::string& name, const exp::Shard& shard,
                   const exp::SweepSummary& sum, const std::string& tag, bool worker, const std::string& by) {
  if (worker && s.quiet) return;
  std::fprintf(worker ? stderr : stdout,
               "%ssweep %s: %zu runs in grid, %zu in shard %s: %zu already stored, %zu run here (%zu converged, %zu "
               "not converged, %zu diverged, %zu pack(s))%s, %zu missing%s\n",
               tag.c_str(), name.c_str(), sum.grid_size, sum.shard_size, shard.to_string().c_str(), sum.already_done,
               sum.ran_here, sum.converged, sum.not_converged, sum.diverged, sum.packs, by.c_str(), sum.missing,
               sum.interrupted ? "; interrupted: run the same command again to resume" : "");
  if (!s.quiet && !worker && sum.exported_rows > 0) {
    std::fprintf(stderr, "store %s: %zu results; pandas: pd.read_csv(\"%s/runs.csv\")\n", s.store.c_str(),
                 sum.exported_rows, s.store.c_str());
  }
}

// What a worker process started by --workers is told: "I/N" (exp/workers.h).
constexpr const char* kWorkerEnv = "NESGD_SWEEP_WORKER";

// --workers shares the CPU's cores: every run of the shard must be on the CPU.
void check_runs_on_cpu(const exp::SweepSpec& spec, const exp::Shard& shard) {
  for (const auto& r : exp::plan_sweep(spec, shard, nullptr)) {
    const std::string& d = r.config.device;
    if (r.in_shard && !runtime::runs_on_cpu(d)) {
      throw Error("--workers shares the CPU's cores among processes, but " + describe(r.config) + " runs on '" + d +
                  "': on a GPU train runs together with --pack (the default there), or start one sweep per GPU "
                  "on the same --store");
    }
  }
}

// The data, once, before the workers start: missing data fails here with one message rather
// than once per worker, and a download happens once rather than in every worker at the same time.
void fetch_data_once(const SweepState& s, const std::vector<exp::PlannedRun>& plan) {
  std::set<std::string> datasets;
  for (const auto& r : plan) {
    if (r.in_shard && !r.done) datasets.insert(r.config.dataset);
  }
  const data::DataOptions data_options = s.data.options(s.quiet);
  for (const auto& name : datasets) {
    if (data::is_numpy_dataset(name)) continue;  // read where it is: nothing to locate or fetch
    const data::DatasetSpec& dataset = data::find_dataset(name);
    try {
      data::locate_dataset(dataset, data_options);
    } catch (const Error&) {
      if (!data_options.allow_download) throw;
      data::fetch_dataset(dataset, data_options);
    }
  }
}

// "sweep NAME: N runs into STORE by W worker processes, CPUs 0 | 1", and a warning when workers share CPUs.
void announce_workers(const SweepState& s, const exp::SweepSpec& spec, const exp::WorkerLaunch& launch,
                      size_t cpus) {
  if (s.quiet) return;
  std::string shares;
  for (const auto& share : launch.cpus) {
    std::string one;
    for (int c : share) one += (one.empty() ? "" : ",") + std::to_string(c);
    shares += (shares.empty() ? "" : " | ") + one;
  }
  std::fprintf(stderr, "sweep %s: %zu runs into %s by %d worker processes, CPUs %s\n", spec.name.c_str(),
               spec.size(), s.store.c_str(), s.workers, shares.c_str());
  if (static_cast<size_t>(s.workers) > cpus) {
    std::fprintf(stderr, "warning: %d workers on %zu CPUs: workers share CPUs, which is slower than one per CPU\n",
                 s.workers, cpus);
  }
  std::fflush(stderr);
}

// How the workers ended: `interrupted` when any was stopped by a signal; the
// number that failed, each named on stderr.
int failed_workers(const SweepState& s, const std::vector<exp::WorkerExit>& exits, bool& interrupted) {
  int failed = 0;
  for (const auto& w : exits) {
    if (w.exit_code == 0) continue;
    if (w.exit_code == 130 || w.exit_code == 128 + SIGINT || w.exit_code == 128 + SIGTERM) {
      interrupted = true;
    } else {
      ++failed;
      std::fprintf(stderr, "nesgd: error: sweep worker %d (pid %d) ended with exit code %d; its message is above "
                   "(lines marked [w%d/%d]). What it and the others stored stays stored\n",
                   w.worker, w.pid, w.exit_code, w.worker, s.workers);
    }
  }
  return failed;
}

// --workers N: N copies of this command on the same store, each pinned to its
// share of the cores (exp/workers.h); this process waits, passes Ctrl-C on, and
// sums up what they stored.
int run_workers(SweepState& s, const exp::SweepSpec& spec, const exp::Shard& shard) {
  check_runs_on_cpu(spec, shard);  // before the store is touched
  exp::StoreOptions store_options;
  store_options.allow_without_locks = shard.count > 1;
  exp::ResultStore store(s.store, store_options);  // made before the workers race to make it
  const auto plan = exp::plan_sweep(spec, shard, &store);
  fetch_data_once(s, plan);
  const std::vector<int> cpus = exp::allowed_cpus();
  exp::WorkerLaunch launch;
  launch.args = exp::without_workers_flag(program_arguments());
  launch.cpus = exp::partition_cpus(cpus, s.workers);
  launch.env_name = kWorkerEnv;
  announce_workers(s, spec, launch, cpus.size());
  const std::vector<exp::WorkerExit> exits = exp::run_workers(launch);

  bool interrupted = false;
  const int failed = failed_workers(s, exits, interrupted);
  // The sum: what this command's workers stored, read back from the store.
  exp::SweepSummary sum = exp::recount_sweep(plan, store.load_results());
  sum.interrupted = interrupted;
  sum.exported_rows = store.write_exports();
  print_summary(s, spec.name, shard, sum, "", false, " by " + std::to_string(s.workers) + " workers");
  if (failed > 0) return 1;
  return sum.interrupted ? 130 : 0;
}

// What a sweep says on stderr while it runs (nothing with --quiet): a line as
// each run or pack starts and ends, and its progress. A terminal gets one line
// rewritten in place; a log (or a worker's shared stderr) gets a line every
// kLogProgressSeconds, not one per epoch check. `tag` marks a worker's lines.
exp::SweepHooks sweep_hooks(const SweepState& s, const std::string& tag, bool tty) {
  exp::SweepHooks hooks;
  hooks.progress_interval_seconds = tty ? 1.0 : kLogProgressSeconds;
  hooks.should_stop = stop_requested;
  if (s.quiet) return hooks;
  auto position = [tag](const exp::SweepProgress& p) {
    return tag + fmt::format("[{}/{}]", p.done + 1 > p.shard_size ? p.shard_size : p.done + 1, p.shard_size);
  };
  auto current = std::make_shared<std::string>();
  auto throttle = std::make_shared<exp::LineThrottle>(kLogProgressSeconds);
  hooks.on_run_start = [current, throttle, position](const exp::PlannedRun& r, const exp::SweepProgress& p) {
    *current = position(p) + " ";
    throttle->restart();
    std::fprintf(stderr, "%sstart %s (run %s)\n", current->c_str(), describe(r.config).c_str(), r.id.c_str());
    std::fflush(stderr);
  };
  hooks.on_train_progress = [tty, current, throttle](const exp::PlannedRun&, const train::Progress& p) {
    if (!tty && !throttle->due(p.seconds)) return;
    print_progress_line(*current + exp::progress_line(p), tty, /*end_line=*/false);
  };
  hooks.on_run_end = [tty, tag](const exp::FinishedRun& f, const exp::SweepProgress& p) {
    if (tty) std::fprintf(stderr, "\r\033[K");
    const auto& r = f.result;
    const std::string eta = p.eta_seconds >= 0 ? exp::format_duration(p.eta_seconds) : std::string("--:--:--");
    std::fprintf(stderr, "%s[%zu/%zu] %-13s %s | acc %.2f%% | %lld it | %s | ETA %s%s\n", tag.c_str(), p.done,
                 p.shard_size, train::to_string(r.status).c_str(), describe(f.run->config).c_str(),
                 100.0 * r.test_accuracy, static_cast<long long>(r.iterations),
                 exp::format_duration(r.wall_seconds).c_str(), eta.c_str(), f.stored ? "" : " (interrupted: not stored)");
    std::fflush(stderr);
  };
  hooks.on_pack_start = [current, throttle, position](const std::vector<const exp::PlannedRun*>& runs,
                                                      const exp::SweepProgress& p) {
    *current = position(p) + " ";
    throttle->restart();
    std::string seeds;
    for (const auto* r : runs) seeds += (seeds.empty() ? "" : ",") + fmt::format("{}/{:g}", r->config.seed, r->config.alpha);
    std::fprintf(stderr, "%sstart a pack of %zu: %s B=%lld, seed/alpha %s\n", current->c_str(), runs.size(),
                 exp::config_label(runs.front()->config.model).c_str(),
                 static_cast<long long>(runs.front()->config.batch_size), seeds.c_str());
    std::fflush(stderr);
  };
  hooks.on_pack_progress = [tty, current, throttle](const train::PackProgress& p) {
    if (!tty && !throttle->due(p.seconds)) return;
    print_progress_line(*current + exp::pack_progress_line(p), tty, /*end_line=*/false);
  };
  hooks.on_message = [tag](const std::string& m) { std::fprintf(stderr, "%s%s\n", tag.c_str(), m.c_str()); };
  return hooks;
}

int run(SweepState& s) {
  if (s.list_presets) return list_presets();
  const exp::SweepSpec spec = build_spec(s);
  exp::Shard shard;
  if (!s.shard.empty()) {
    shard = exp::parse_shard(s.shard);
  } else if (exp::shard_from_slurm(shard) && !s.quiet) {
    std::fprintf(stderr, "shard %s from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT\n", shard.to_string().c_str());
  }
  const int64_t pack = exp::pack_option(s.pack, s.checkpoint_every);  // a bad --pack fails before anything, a dry run too
  if (s.dry_run) return dry_run(spec, shard, s.store);
  if (s.store.empty()) throw Error("--store DIR is required: the folder that holds (and resumes) the results");
  if (s.workers > 1) return run_workers(s, spec, shard);
  // A worker of `--workers N` marks its lines "[wI/N] " and prints no terminal redraws (it shares stderr).
  const char* worker = std::getenv(kWorkerEnv);
  const std::string tag = worker ? fmt::format("[w{}] ", worker) : std::string();

  exp::StoreOptions store_options;
  store_options.allow_without_locks = shard.count > 1;
  exp::ResultStore store(s.store, store_options);

  exp::SweepOptions options;
  options.shard = shard;
  options.data = s.data.options(s.quiet);
  options.wait_for_others = !s.no_wait;
  options.checkpoint_every_seconds = s.checkpoint_every;
  options.pack = pack;
  const exp::SweepHooks hooks = sweep_hooks(s, tag, !worker && isatty(STDERR_FILENO) != 0);
  install_stop_handlers();

  if (!s.quiet) {
    std::fprintf(stderr, "%ssweep %s: %zu runs into %s%s\n", tag.c_str(), spec.name.c_str(), spec.size(), s.store.c_str(),
                 shard.count > 1 ? (", shard " + shard.to_string()).c_str() : "");
  }
  const exp::SweepSummary sum = exp::run_sweep(spec, store, options, hooks);
  print_summary(s, spec.name, shard, sum, tag, worker != nullptr, "");
  return sum.interrupted ? 130 : 0;
}

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto state = std::make_shared<SweepState>();
  auto* cmd = app.add_subcommand("sweep", "Run a grid of training runs into a resumable result store");
  state->cmd = cmd;
  cmd->footer(
      "A run is stored the moment it ends (runs/<id>.json, atomic + fsync); the same command resumes a stopped\n"
      "sweep and skips what is stored. Several processes (any machines sharing the folder) may work on one\n"
      "store: each takes free runs, or give each its --shard I/N (Slurm arrays: automatic).\n"
      "Runs follow the paper's Keras protocol by default (--sampling keras --optimizer keras-adam); add\n"
      "--sampling epoch --optimizer adam for nesgd's earlier protocol (stores written with it keep their run ids).\n"
      "Lists: 100,200,500 or 1..11 or 1..2:0.5. Examples:\n"
      "  nesgd sweep --list-presets\n"
      "  nesgd sweep f1-fig2 --quick --store runs/f1-quick\n"
      "  nesgd sweep --store runs/lr --batch-sizes 100,1000 --alphas 1,1.5 --seeds 1..5 --lr 5e-4\n"
      "  nesgd sweep --config study.toml --store runs/study --shard 0/4\n"
      "  nesgd report --store runs/f1-quick --out report/");
  cmd->add_option("preset", state->preset,
                  "A study of the paper: f1-fig2, c1-fig1, c2-fig2, f1-table3, c1-table3, c2-table3 (see --list-presets)");
  cmd->add_option("--config", state->config_file,
                  "Sweep file (.toml or .json): preset, configs, batch_sizes, alphas, seeds, optimizers, noises and "
                  "any train option");
  cmd->add_flag("--quick", state->quick, "The preset's short variant (training subset, few B, 3 seeds)");
  cmd->add_option("--store", state->store, "Result store folder (created if needed; resumed if it exists)");
  cmd->add_option("--name", state->name, "Name recorded for this sweep (default: the preset's, else 'custom')");
  cmd->add_option("--configs", state->configs, "Paper configs to cross, e.g. f1 or f1,c1 (each with its dataset, L*, L**)");
  cmd->add_option("--batch-sizes", state->batch_sizes, "Batch sizes, e.g. 100,200,500 or 100..1000:100");
  cmd->add_option("--alphas", state->alphas, "NE factors, e.g. 1,1.5 or 1..11");
  cmd->add_option("--seeds", state->seeds, "Seeds, e.g. 1..10");
  cmd->add_option("--optimizers", state->optimizers,
                  "Optimizers to cross, e.g. keras-adam,adapnm (the names of --optimizer; default: --optimizer's one)");
  cmd->add_option("--noises", state->noises,
                  "Noises to cross: ne,isotropic (NE beside its isotropic control of the same strength; default: "
                  "--noise's one)");
  cmd->add_option("--shard", state->shard,
                  "Do only shard I of N (0-based, round robin over the grid); default from Slurm's "
                  "SLURM_ARRAY_TASK_ID/COUNT, else 0/1");
  cmd->add_flag("--dry-run", state->dry_run, "List the runs (and which are stored) without training");
  cmd->add_flag("--no-wait", state->no_wait, "Do not wait for runs held by other processes at the end");
  cmd->add_flag("--list-presets", state->list_presets, "List the presets with their run counts");
  cmd->add_option("--checkpoint-every", state->checkpoint_every,
                  "Checkpoint each run this often (seconds) and on Ctrl-C, into STORE/checkpoints/, so a stopped or "
                  "killed run continues where it was; 0 = off (a killed run starts over)")
      ->capture_default_str()
      ->check(non_negative_number("0 = off"));
  cmd->add_option("--pack", state->pack,
                  "Train up to K runs at once as one stacked network (runs that differ only in seed, alpha and "
                  "learning rate; each member's result is its single run's). 'auto': on a GPU as many as fit in "
                  "half its memory (estimated from the model and B), at most " +
                      std::to_string(train::kMaxAutoPackGpu) +
                      "; on a CPU 1 (a pack there is no faster than its runs one by one). 1 = one run at a time. "
                      "Packs keep no checkpoints: with --checkpoint-every, auto means 1")
      ->capture_default_str();
  cmd->add_option("--workers", state->workers,
                  "Run the sweep as N processes on this machine's CPU, each pinned to its share of the cores and "
                  "taking free runs from the store (the thread defaults follow each share). On 2 cores, 2 workers "
                  "did 1.27x the runs per hour of one process at B = 100 and 1.04-1.10x at B >= 1000 (F1; "
                  "docs/PERFORMANCE.md). Each worker holds its own copy of the data. CPU only: on a GPU use --pack")
      ->capture_default_str()
      ->check(positive_integer());
  cmd->add_flag("--quiet,-q", state->quiet, "Only the final summary line");
  state->data.add_to(cmd);
  for (const CLI::Option* o : cmd->get_options()) state->own_options.insert(o->get_name());
  add_train_options(cmd, state->flags, state->loss_measure);
  return {cmd, [state] { return run(*state); }};
}

}  // namespace nesgd::cli
