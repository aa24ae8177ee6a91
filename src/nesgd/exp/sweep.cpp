// Running a sweep into a result store, resumably (exp/sweep.h).
#include "nesgd/exp/sweep.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "nesgd/clock.h"
#include "nesgd/error.h"
#include "nesgd/exp/run_id.h"
#include "nesgd/runtime/precision.h"
#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/threads.h"

namespace nesgd::exp {
namespace {

// Datasets of the sweep, each loaded on first use and kept for later runs
// (a full Fashion-MNIST decode + checksum takes seconds; runs take longer
// but there are hundreds of them).
class DataCache {
 public:
  explicit DataCache(data::DataOptions options) : options_(std::move(options)) {}
  const data::DatasetSplits& get(const std::string& name) {
    auto it = loaded_.find(name);
    if (it == loaded_.end()) {
      it = loaded_.emplace(name, std::make_unique<data::DatasetSplits>(data::load_dataset(name, options_))).first;
    }
    return *it->second;
  }

 private:
  data::DataOptions options_;
  std::map<std::string, std::unique_ptr<data::DatasetSplits>> loaded_;
};

// The runs of one unit of work that this process claimed, with their claims.
struct ClaimedRuns {
  std::vector<const PlannedRun*> runs;
  std::vector<RunClaim> claims;
};

// One process's pass through a sweep: it claims, trains and stores runs, and
// counts them into the summary as they end.
class SweepRunner {
 public:
  SweepRunner(const SweepSpec& spec, ResultStore& store, const SweepOptions& options, const SweepHooks& hooks,
              const std::vector<PlannedRun>& plan)
      : spec_(spec), store_(store), options_(options), hooks_(hooks), plan_(plan), data_(options.data) {
    summary_.grid_size = plan.size();
  }

  SweepSummary run();

 private:
  std::vector<const PlannedRun*> pending_runs();
  void check_pending(const std::vector<const PlannedRun*>& pending);
  std::vector<const PlannedRun*> run_free_units(const std::vector<const PlannedRun*>& pending);
  ClaimedRuns claim(const std::vector<const PlannedRun*>& unit, std::vector<const PlannedRun*>& busy);
  void run_single(const PlannedRun* run, RunClaim& claim);
  void run_pack(const std::vector<const PlannedRun*>& runs, std::vector<RunClaim>& claims);
  void end_run(const PlannedRun* run, const train::RunResult& result, bool stored);
  void wait_for_others(size_t held_elsewhere);
  SweepProgress progress() const;
  bool stopping() const { return hooks_.should_stop && hooks_.should_stop(); }

  const SweepSpec& spec_;
  ResultStore& store_;
  const SweepOptions& options_;
  const SweepHooks& hooks_;
  const std::vector<PlannedRun>& plan_;
  DataCache data_;
  SweepSummary summary_;
  double run_seconds_total_ = 0.0;
  bool waited_message_ = false;
};

// Passes over the pending runs: the first does every free run; later ones
// pick up runs that other processes held (and finished, or died on).
SweepSummary SweepRunner::run() {
  std::vector<const PlannedRun*> pending = pending_runs();
  check_pending(pending);
  while (!pending.empty() && !stopping()) {
    const std::vector<const PlannedRun*> busy = run_free_units(pending);
    if (summary_.interrupted) break;
    pending.clear();
    for (const PlannedRun* run : busy) {
      if (!store_.has_result(run->id)) pending.push_back(run);
    }
    if (pending.empty() || !options_.wait_for_others) break;
    wait_for_others(pending.size());
  }
  if (stopping()) summary_.interrupted = true;
  for (const auto& r : plan_) {
    if (r.in_shard && !store_.has_result(r.id)) ++summary_.missing;
  }
  if (options_.write_exports) summary_.exported_rows = store_.write_exports();
  return summary_;
}

// The shard's runs the store does not hold yet; counts the shard and what it held.
std::vector<const PlannedRun*> SweepRunner::pending_runs() {
  std::vector<const PlannedRun*> pending;
  for (const auto& r : plan_) {
    if (!r.in_shard) continue;
    ++summary_.shard_size;
    if (r.done) {
      ++summary_.already_done;
    } else {
      pending.push_back(&r);
    }
  }
  return pending;
}

// Every pending run is checked against its training-set size before the
// first one trains (a batch size above it, or a keras epoch's short batch
// that ghost batch norm cannot split), so a bad grid fails at once rather
// than hours in. Data is read only when there is something to run.
void SweepRunner::check_pending(const std::vector<const PlannedRun*>& pending) {
  std::set<std::string> thread_warnings;
  for (const PlannedRun* run : pending) {
    const data::DatasetSplits& splits = data_.get(run->config.dataset);
    const int64_t n_train = run->config.train_subset > 0 ? std::min(run->config.train_subset, splits.train.n)
                                                         : splits.train.n;
    run->config.validate_for_training_set(n_train);
    // The device and its precision too (bf16 on a CPU without native bf16, tf32 off CUDA, a
    // missing GPU): every run would fail the same way.
    const torch::Device device = runtime::resolve_device(run->config.device);
    runtime::check_precision(run->config.precision, device);
    // Thread counts that oversubscribe the cores are allowed (measuring them is legitimate) but said once.
    if (device.is_cpu() && hooks_.on_message) {
      const std::string w =
          runtime::oversubscription_warning(run->config.model, {run->config.threads, run->config.blas_threads});
      if (!w.empty() && thread_warnings.insert(w).second) hooks_.on_message("warning: " + w);
      const std::string k = runtime::blas_kernel_warning();
      if (!k.empty() && thread_warnings.insert(k).second) hooks_.on_message("warning: " + k);
    }
  }
}

// Trains every unit whose runs are free; returns the runs other processes held.
std::vector<const PlannedRun*> SweepRunner::run_free_units(const std::vector<const PlannedRun*>& pending) {
  std::vector<const PlannedRun*> busy;
  for (const std::vector<const PlannedRun*>& unit : work_units(pending, options_.pack, train::auto_pack_size)) {
    if (stopping()) {
      summary_.interrupted = true;
      break;
    }
    ClaimedRuns claimed = claim(unit, busy);
    if (claimed.runs.size() == 1) run_single(claimed.runs.front(), claimed.claims.front());
    if (claimed.runs.size() > 1) run_pack(claimed.runs, claimed.claims);
    if (summary_.interrupted) break;
  }
  return busy;
}

// The unit's runs that are neither stored nor held elsewhere (those held go to `busy`).
ClaimedRuns SweepRunner::claim(const std::vector<const PlannedRun*>& unit, std::vector<const PlannedRun*>& busy) {
  ClaimedRuns claimed;
  for (const PlannedRun* run : unit) {
    RunClaim claim;
    const ClaimOutcome outcome = store_.claim(run->id, claim);
    if (outcome == ClaimOutcome::kDone) continue;
    if (outcome == ClaimOutcome::kBusy) {
      busy.push_back(run);
      continue;
    }
    claimed.runs.push_back(run);
    claimed.claims.push_back(std::move(claim));
  }
  return claimed;
}

// One run alone (with checkpoints when asked for).
void SweepRunner::run_single(const PlannedRun* run, RunClaim& claim) {
  const data::DatasetSplits& splits = data_.get(run->config.dataset);  // loaded and checked before
  if (hooks_.on_run_start) hooks_.on_run_start(*run, progress());
  train::TrainHooks th;
  th.progress_interval_seconds = hooks_.progress_interval_seconds;
  if (hooks_.on_train_progress) {
    th.on_progress = [this, run](const train::Progress& p) { hooks_.on_train_progress(*run, p); };
  }
  th.should_stop = hooks_.should_stop;
  train::RunFiles files;
  if (options_.checkpoint_every_seconds > 0) {
    files.checkpoint = (std::filesystem::path(store_.dir()) / "checkpoints" / (run->id + ".pt")).string();
    files.checkpoint_every_seconds = options_.checkpoint_every_seconds;
  }
  const auto t0 = Clock::now();
  const train::RunResult result = train::train_run(run->config, splits, th, files);
  if (result.status == train::RunStatus::kInterrupted) {
    claim.release(false);  // free for the next sweep; nothing stored
    summary_.interrupted = true;
    end_run(run, result, false);
    return;
  }
  store_.store_result(run->id, result_record(result, run->config, spec_.name), claim);
  if (!files.checkpoint.empty()) {
    std::error_code ec;
    std::filesystem::remove(files.checkpoint, ec);  // the result is stored: it has served
  }
  run_seconds_total_ += seconds_since(t0);
  count_run(summary_, train::to_string(result.status));
  end_run(run, result, true);
}

// Runs trained together; each member is stored the moment it stops.
void SweepRunner::run_pack(const std::vector<const PlannedRun*>& runs, std::vector<RunClaim>& claims) {
  const data::DatasetSplits& splits = data_.get(runs.front()->config.dataset);  // loaded and checked before
  if (hooks_.on_pack_start) hooks_.on_pack_start(runs, progress());
  std::vector<train::RunConfig> configs;
  for (const PlannedRun* r : runs) configs.push_back(r->config);
  train::PackHooks ph;
  ph.progress_interval_seconds = hooks_.progress_interval_seconds;
  ph.on_progress = hooks_.on_pack_progress;
  ph.should_stop = hooks_.should_stop;
  const auto t0 = Clock::now();
  ph.on_member_done = [&](size_t index, const train::RunResult& result) {
    const PlannedRun* run = runs[index];
    store_.store_result(run->id, result_record(result, run->config, spec_.name), claims[index]);
    // Each member's share of the pack's time so far, for the sweep's ETA.
    run_seconds_total_ += seconds_since(t0) / static_cast<double>(runs.size());
    count_run(summary_, train::to_string(result.status));
    end_run(run, result, true);
  };
  const std::vector<train::RunResult> results = train::train_pack(configs, splits, ph);
  ++summary_.packs;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (results[i].status != train::RunStatus::kInterrupted) continue;
    claims[i].release(false);  // free for the next sweep; nothing stored
    summary_.interrupted = true;
    end_run(runs[i], results[i], false);
  }
}

void SweepRunner::end_run(const PlannedRun* run, const train::RunResult& result, bool stored) {
  if (!hooks_.on_run_end) return;
  FinishedRun finished;
  finished.run = run;
  finished.result = result;
  finished.stored = stored;
  hooks_.on_run_end(finished, progress());
}

void SweepRunner::wait_for_others(size_t held_elsewhere) {
  if (hooks_.on_message && !waited_message_) {
    hooks_.on_message("waiting for " + std::to_string(held_elsewhere) +
                      " run(s) held by other processes (they are redone here if those processes die)");
    waited_message_ = true;
  }
  for (double slept = 0; slept < options_.poll_seconds && !stopping(); slept += 0.1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

SweepProgress SweepRunner::progress() const {
  SweepProgress p;
  p.grid_size = summary_.grid_size;
  p.shard_size = summary_.shard_size;
  p.ran_here = summary_.ran_here;
  for (const auto& r : plan_) {
    if (r.in_shard && store_.has_result(r.id)) ++p.done;
  }
  if (summary_.ran_here > 0) {
    p.mean_run_seconds = run_seconds_total_ / static_cast<double>(summary_.ran_here);
    p.eta_seconds = p.mean_run_seconds * static_cast<double>(p.shard_size - p.done);
  }
  return p;
}

}  // namespace

nlohmann::json result_record(const train::RunResult& result, const train::RunConfig& config,
                             const std::string& sweep_name) {
  nlohmann::json j = train::to_json(result, config);
  j["run_id"] = run_id(config);
  j["setting_id"] = setting_id(config);
  j["config_name"] = config_label(config.model);
  j["batch_size"] = config.batch_size;
  j["alpha"] = config.alpha;
  j["sweep"] = sweep_name;
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  j["worker"] = {{"host", host}, {"pid", static_cast<int64_t>(::getpid())}};
  return j;
}

SweepSummary run_sweep(const SweepSpec& spec, ResultStore& store, const SweepOptions& options,
                       const SweepHooks& hooks) {
  const std::vector<PlannedRun> plan = plan_sweep(spec, options.shard, &store);
  store.record_sweep(spec.name, sweep_description(spec, plan));
  return SweepRunner(spec, store, options, hooks, plan).run();
}

}  // namespace nesgd::exp
