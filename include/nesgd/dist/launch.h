// nesgd/dist/launch.h - where a data-parallel run's processes meet, and how a
// batch is split over them. Torch-free.
//
// One run over W processes ("ranks"), started by a launcher:
//   torchrun --no-python ...     sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT
//   srun ...                     sets SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the address
//                                comes from --dist-addr, NESGD_MASTER_ADDR or MASTER_ADDR
// Rank 0 hosts the rendezvous (a c10d TCPStore) at MASTER_ADDR:MASTER_PORT.
//
// The split: every rank draws the single run's batches B and B' (same seed,
// same streams) and keeps one contiguous slice of each. Slices are made of
// whole units (the ghost batch with ghost batch norm, else one sample), so
// each rank normalizes exactly the single run's ghost batches. A full batch
// must split evenly (B a multiple of W x unit); a keras epoch's short last
// batch may split unevenly, even leaving a rank without samples.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace nesgd::dist {

// Rendezvous port when neither the launcher nor a flag names one (torchrun's default).
constexpr int kDefaultPort = 29500;
// Seconds a collective may wait for a peer before the run stops with an error.
constexpr double kDefaultTimeoutSeconds = 120.0;

struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;
  int master_port = kDefaultPort;
  std::string launcher;  // "torchrun" (RANK/WORLD_SIZE) or "slurm"
  // torchrun's agent hosts the store itself (TORCHELASTIC_USE_AGENT_STORE=True):
  // every rank joins it as a client, under the key prefix of this restart.
  bool agent_store = false;
  std::string store_prefix = "nesgd";
};

// Overrides from the command line; empty / 0 = take the environment's.
struct LaunchOverrides {
  std::string addr;
  int port = 0;
};

// Reads the launcher's variables through `getenv` (std::getenv by default;
// tests pass their own). Throws nesgd::Error naming the missing or malformed
// variable and how to launch.
using Getenv = std::function<std::optional<std::string>(const std::string&)>;
LaunchInfo launch_info_from_env(const LaunchOverrides& overrides = {}, const Getenv& getenv = {});

// [begin, end) of a batch of `batch` samples that `rank` of `world` keeps,
// in whole units of `unit` samples (batch a multiple of unit).
struct Slice {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};
Slice slice_of_batch(int64_t batch, int64_t unit, int rank, int world);

// Throws nesgd::Error unless a full batch of `batch_size` splits evenly over
// `world` ranks in units of `unit` (1 without ghost batch norm).
void check_batch_split(int64_t batch_size, int64_t unit, int world);

// The names of the top-level fields in which two JSON objects (given as
// text) differ, comma-separated; empty when equal.
std::string differing_fields(const std::string& a_json, const std::string& b_json);

}  // namespace nesgd::dist
