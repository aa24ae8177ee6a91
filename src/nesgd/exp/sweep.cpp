#include "nesgd/exp/sweep.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "nesgd/error.h"
#include "nesgd/exp/run_id.h"
#include "nesgd/runtime/precision.h"
#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/threads.h"
#include "nesgd/clock.h"

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

// The sweep's pending runs as units of work, in grid order: packs of runs
// that may share one (same pack key, and alpha = 1 apart from alpha != 1, so
// no member computes a B' it does not use), at most `pack` each (0: the
// automatic size), and single runs.
std::vector<std::vector<const PlannedRun*>> work_units(const std::vector<const PlannedRun*>& pending, int64_t pack) {
  std::vector<std::vector<const PlannedRun*>> units;
  if (pack == 1) {
    for (const PlannedRun* r : pending) units.push_back({r});
    return units;
  }
  std::map<std::string, std::vector<const PlannedRun*>> groups;
  std::vector<std::string> order;
  for (const PlannedRun* r : pending) {
    if (!train::pack_unsupported_reason(r->config).empty()) {
      units.push_back({r});
      continue;
    }
    const std::string key = train::pack_key(r->config) + (r->config.alpha != 1.0 ? "|ne" : "|plain");
    if (groups.find(key) == groups.end()) order.push_back(key);
    groups[key].push_back(r);
  }
  for (const std::string& key : order) {
    const auto& runs = groups[key];
    const int64_t k = pack > 1 ? pack : train::auto_pack_size(runs.front()->config);
    for (size_t i = 0; i < runs.size(); i += static_cast<size_t>(k)) {
      units.emplace_back(runs.begin() + static_cast<std::ptrdiff_t>(i),
                         runs.begin() + static_cast<std::ptrdiff_t>(std::min(runs.size(), i + static_cast<size_t>(k))));
    }
  }
  std::stable_sort(units.begin(), units.end(),
                   [](const auto& a, const auto& b) { return a.front()->position < b.front()->position; });
  return units;
}

}  // namespace

std::vector<PlannedRun> plan_sweep(const SweepSpec& spec, const Shard& shard, const ResultStore* store) {
  const std::vector<train::RunConfig> configs = expand(spec);
  std::vector<PlannedRun> plan;
  plan.reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    PlannedRun r;
    r.position = i;
    r.config = configs[i];
    r.id = run_id(configs[i]);
    r.in_shard = shard.contains(i);
    r.done = store != nullptr && store->has_result(r.id);
    plan.push_back(std::move(r));
  }
  return plan;
}

nlohmann::json sweep_description(const SweepSpec& spec, const std::vector<PlannedRun>& plan) {
  nlohmann::json j = to_json(spec);
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& r : plan) ids.push_back(r.id);
  j["run_ids"] = ids;
  return j;
}

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

  SweepSummary summary;
  summary.grid_size = plan.size();
  std::vector<const PlannedRun*> pending;
  for (const auto& r : plan) {
    if (!r.in_shard) continue;
    ++summary.shard_size;
    if (r.done) {
      ++summary.already_done;
    } else {
      pending.push_back(&r);
    }
  }

  // Every pending run is checked against its training-set size before the
  // first one trains (a batch size above it, or a keras epoch's short batch
  // that ghost batch norm cannot split), so a bad grid fails at once rather
  // than hours in. Data is read only when there is something to run.
  DataCache data(options.data);
  std::set<std::string> thread_warnings;
  for (const PlannedRun* run : pending) {
    const data::DatasetSplits& splits = data.get(run->config.dataset);
    const int64_t n_train = run->config.train_subset > 0 ? std::min(run->config.train_subset, splits.train.n)
                                                         : splits.train.n;
    run->config.validate_for_training_set(n_train);
    // The device and its precision too (bf16 on a CPU without native bf16, tf32 off CUDA, a
    // missing GPU): every run would fail the same way.
    const torch::Device device = runtime::resolve_device(run->config.device);
    runtime::check_precision(run->config.precision, device);
    // Thread counts that oversubscribe the cores are allowed (measuring them is legitimate) but said once.
    if (device.is_cpu() && hooks.on_message) {
      const std::string w =
          runtime::oversubscription_warning(run->config.model, {run->config.threads, run->config.blas_threads});
      if (!w.empty() && thread_warnings.insert(w).second) hooks.on_message("warning: " + w);
      const std::string k = runtime::blas_kernel_warning();
      if (!k.empty() && thread_warnings.insert(k).second) hooks.on_message("warning: " + k);
    }
  }
  double run_seconds_total = 0.0;
  auto stopping = [&hooks] { return hooks.should_stop && hooks.should_stop(); };
  auto progress = [&]() {
    SweepProgress p;
    p.grid_size = summary.grid_size;
    p.shard_size = summary.shard_size;
    p.ran_here = summary.ran_here;
    for (const auto& r : plan) {
      if (r.in_shard && store.has_result(r.id)) ++p.done;
    }
    if (summary.ran_here > 0) {
      p.mean_run_seconds = run_seconds_total / static_cast<double>(summary.ran_here);
      p.eta_seconds = p.mean_run_seconds * static_cast<double>(p.shard_size - p.done);
    }
    return p;
  };

  auto count = [&summary](train::RunStatus status) {
    ++summary.ran_here;
    switch (status) {
      case train::RunStatus::kConverged: ++summary.converged; break;
      case train::RunStatus::kNotConverged: ++summary.not_converged; break;
      case train::RunStatus::kDiverged: ++summary.diverged; break;
      default: break;
    }
  };
  auto dataset_for = [&data](const PlannedRun& run) -> const data::DatasetSplits& {
    return data.get(run.config.dataset);  // loaded and checked above
  };

  // One run alone (with checkpoints when asked for).
  auto run_single = [&](const PlannedRun* run, RunClaim& claim) {
    const data::DatasetSplits& splits = dataset_for(*run);
    if (hooks.on_run_start) hooks.on_run_start(*run, progress());
    train::TrainHooks th;
    th.progress_interval_seconds = hooks.progress_interval_seconds;
    if (hooks.on_train_progress) {
      th.on_progress = [&hooks, run](const train::Progress& p) { hooks.on_train_progress(*run, p); };
    }
    th.should_stop = hooks.should_stop;

    train::RunFiles files;
    if (options.checkpoint_every_seconds > 0) {
      files.checkpoint = (std::filesystem::path(store.dir()) / "checkpoints" / (run->id + ".pt")).string();
      files.checkpoint_every_seconds = options.checkpoint_every_seconds;
    }
    const auto t0 = Clock::now();
    FinishedRun finished;
    finished.run = run;
    finished.result = train::train_run(run->config, splits, th, files);
    if (finished.result.status == train::RunStatus::kInterrupted) {
      claim.release(false);  // free for the next sweep; nothing stored
      summary.interrupted = true;
      if (hooks.on_run_end) hooks.on_run_end(finished, progress());
      return;
    }
    store.store_result(run->id, result_record(finished.result, run->config, spec.name), claim);
    finished.stored = true;
    if (!files.checkpoint.empty()) {
      std::error_code ec;
      std::filesystem::remove(files.checkpoint, ec);  // the result is stored: it has served
    }
    run_seconds_total += seconds_since(t0);
    count(finished.result.status);
    if (hooks.on_run_end) hooks.on_run_end(finished, progress());
  };

  // Runs trained together; each member is stored the moment it stops.
  auto run_pack = [&](const std::vector<const PlannedRun*>& runs, std::vector<RunClaim>& claims) {
    const data::DatasetSplits& splits = dataset_for(*runs.front());
    if (hooks.on_pack_start) hooks.on_pack_start(runs, progress());
    std::vector<train::RunConfig> configs;
    for (const PlannedRun* r : runs) configs.push_back(r->config);
    train::PackHooks ph;
    ph.progress_interval_seconds = hooks.progress_interval_seconds;
    ph.on_progress = hooks.on_pack_progress;
    ph.should_stop = hooks.should_stop;
    const auto t0 = Clock::now();
    ph.on_member_done = [&](size_t index, const train::RunResult& result) {
      const PlannedRun* run = runs[index];
      store.store_result(run->id, result_record(result, run->config, spec.name), claims[index]);
      // Each member's share of the pack's time so far, for the sweep's ETA.
      run_seconds_total += seconds_since(t0) / static_cast<double>(runs.size());
      count(result.status);
      if (hooks.on_run_end) {
        FinishedRun finished;
        finished.run = run;
        finished.result = result;
        finished.stored = true;
        hooks.on_run_end(finished, progress());
      }
    };
    const std::vector<train::RunResult> results = train::train_pack(configs, splits, ph);
    ++summary.packs;
    for (size_t i = 0; i < runs.size(); ++i) {
      if (results[i].status != train::RunStatus::kInterrupted) continue;
      claims[i].release(false);  // free for the next sweep; nothing stored
      summary.interrupted = true;
      if (hooks.on_run_end) {
        FinishedRun finished;
        finished.run = runs[i];
        finished.result = results[i];
        hooks.on_run_end(finished, progress());
      }
    }
  };

  // Passes over the pending runs: the first does every free run; later ones
  // pick up runs that other processes held (and finished, or died on).
  bool waited_message = false;
  while (!pending.empty() && !stopping()) {
    std::vector<const PlannedRun*> busy;
    for (const std::vector<const PlannedRun*>& unit : work_units(pending, options.pack)) {
      if (stopping()) {
        summary.interrupted = true;
        break;
      }
      std::vector<const PlannedRun*> runs;
      std::vector<RunClaim> claims;
      for (const PlannedRun* run : unit) {
        RunClaim claim;
        const ClaimOutcome outcome = store.claim(run->id, claim);
        if (outcome == ClaimOutcome::kDone) continue;
        if (outcome == ClaimOutcome::kBusy) {
          busy.push_back(run);
          continue;
        }
        runs.push_back(run);
        claims.push_back(std::move(claim));
      }
      if (runs.size() == 1) run_single(runs.front(), claims.front());
      if (runs.size() > 1) run_pack(runs, claims);
      if (summary.interrupted) break;
    }
    if (summary.interrupted) break;

    pending.clear();
    for (const PlannedRun* run : busy) {
      if (!store.has_result(run->id)) pending.push_back(run);
    }
    if (pending.empty() || !options.wait_for_others) break;
    if (hooks.on_message && !waited_message) {
      hooks.on_message("waiting for " + std::to_string(pending.size()) +
                       " run(s) held by other processes (they are redone here if those processes die)");
      waited_message = true;
    }
    for (double slept = 0; slept < options.poll_seconds && !stopping(); slept += 0.1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (stopping()) summary.interrupted = true;

  for (const auto& r : plan) {
    if (r.in_shard && !store.has_result(r.id)) ++summary.missing;
  }
  if (options.write_exports) summary.exported_rows = store.write_exports();
  return summary;
}

}  // namespace nesgd::exp
