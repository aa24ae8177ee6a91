// nesgd/exp/shard.h - splitting a sweep's ordered runs among processes that
// share nothing but the store: --shard I/N, or Slurm job arrays (torch-free).
//
// Shard I of N takes every N-th run of the grid, starting at I, so each shard
// sees every batch size and the shards are disjoint and together the grid.
// Nothing here reads the store or trains.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace nesgd::exp {

// Shard `index` of `count` takes the runs at positions p with p % count == index
// (round robin over the ordered grid, so every shard sees every batch size).
struct Shard {
  int64_t index = 0;
  int64_t count = 1;
  bool contains(size_t position) const { return static_cast<int64_t>(position % static_cast<size_t>(count)) == index; }
  std::string to_string() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// "I/N" with 0 <= I < N. Throws nesgd::Error naming the fix.
Shard parse_shard(const std::string& text);

// Slurm job arrays: SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and
// SLURM_ARRAY_TASK_MIN (ids need not start at 0: --array=1-10 gives 1..10).
// Returns false when the variables are not set. `getenv` is injectable for tests.
using GetEnv = std::function<const char*(const char*)>;
bool shard_from_slurm(Shard& shard, const GetEnv& getenv_fn = {});

}  // namespace nesgd::exp
