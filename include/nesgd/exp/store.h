// nesgd/exp/store.h - the result store: a folder of finished runs (torch-free).
//
// Layout of a store DIR (docs/EXPERIMENTS.md):
//   DIR/store.json          format marker {"format": "nesgd-store", "version": 1}
//   DIR/runs/<id>.json      one finished run: the source of truth
//   DIR/claims/<id>.lock    a run in progress, held with flock() by its process
//   DIR/sweeps/<name>-<digest>.json  each sweep run into the store: grid and run ids
//   DIR/runs.csv            flattened, one row per run   (regenerated exports:
//   DIR/runs.jsonl          one record per line           pandas reads either)
//
// Why this shape: a result file is written once, through a temporary file in
// the same folder, fsync, rename, fsync of the folder (durable_write.h), so it
// is either absent or whole, even after SIGKILL or a power cut, and it is
// never rewritten. No file is ever appended to by two writers, so concurrent
// processes (one machine or many on a shared file system) cannot corrupt
// anything. A claim is
// an flock() on an open descriptor: the kernel drops it when its process dies
// however it dies, so a killed run is simply free again, never done twice at
// the same time. Exports are derived and can always be rebuilt from runs/.
//
// The store neither trains nor aggregates; see sweep.h and report/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nesgd::exp {

// Bumped when the layout changes incompatibly.
constexpr int kStoreFormatVersion = 1;

enum class ClaimOutcome {
  kClaimed,  // this process holds the run; do it, then store_result()
  kDone,     // a result exists already: skip
  kBusy,     // another live process holds the run
};

// A held claim; releasing it (destructor) drops the lock. Move-only.
class RunClaim {
 public:
  RunClaim() = default;
  RunClaim(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  RunClaim(RunClaim&& other) noexcept;
  RunClaim& operator=(RunClaim&& other) noexcept;
  RunClaim(const RunClaim&) = delete;
  RunClaim& operator=(const RunClaim&) = delete;
  ~RunClaim() { release(false); }

  bool held() const { return fd_ >= 0; }
  // Drops the lock; `remove_file` also unlinks the claim file. Only safe to
  // remove once the run's result is stored: a process that then takes a lock
  // on the old or a new file finds the result and skips the run.
  void release(bool remove_file);

 private:
  int fd_ = -1;
  std::string path_;
};

struct StoreOptions {
  // Where flock() is not supported (some cluster file systems), carry on
  // without claims. Only safe when every process has its own shard.
  bool allow_without_locks = false;
};

class ResultStore {
 public:
  // Opens (creating if needed) the store at `dir`. A folder that holds other
  // things but no store.json is refused only if it has a runs/ folder of
  // something else; an empty or new folder becomes a store.
  explicit ResultStore(std::string dir, StoreOptions options = {});

  const std::string& dir() const { return dir_; }
  std::string result_path(const std::string& id) const;
  bool has_result(const std::string& id) const;

  // Tries to take run `id`. kClaimed fills `claim`.
  ClaimOutcome claim(const std::string& id, RunClaim& claim);

  // Stores a finished run durably, then releases and removes its claim.
  // `record` is written as pretty JSON; it must hold "run_id" == id.
  void store_result(const std::string& id, const nlohmann::json& record, RunClaim& claim);

  // Every stored result, sorted by run id. A file that does not parse, or is
  // not a JSON object, throws nesgd::Error naming it (the store never writes such a file).
  std::vector<nlohmann::json> load_results() const;
  std::vector<std::string> result_ids() const;

  // Records a sweep (its description and run ids) under sweeps/<name>-<digest>.json.
  void record_sweep(const std::string& name, const nlohmann::json& description);
  // Every sweep record; one that does not parse or lacks the shape the report
  // reads (an object, "name" a string, "run_ids" a list of strings) throws nesgd::Error naming it.
  std::vector<nlohmann::json> sweeps() const;

  // Rebuilds runs.csv and runs.jsonl from runs/ (serialized between
  // processes by an flock on DIR/.export.lock, so the last writer has seen
  // every result stored before it started). Returns the number of rows.
  size_t write_exports() const;

 private:
  std::string dir_;
  StoreOptions options_;
};

// One row of runs.csv: the record's scalars, "config.*" and "environment.*"
// flattened with dotted names; the curve is left to the JSON. Columns: a fixed
// leading set (run_id, config_name, batch_size, alpha, seed, status, ...) then the
// rest in alphabetical order, the union over all records.
std::string runs_csv(const std::vector<nlohmann::json>& records);

// "F1" for model "f1": the paper's name of a configuration; a TorchScript model's file stem.
std::string config_label(const std::string& model);

}  // namespace nesgd::exp
