// Splitting a sweep among processes (exp/shard.h): --shard I/N and Slurm job arrays.
#include "nesgd/exp/shard.h"

#include <cstdlib>
#include <stdexcept>

#include "nesgd/error.h"

namespace nesgd::exp {

Shard parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  auto bad = [&text]() {
    return Error("--shard '" + text + "': expected I/N with 0 <= I < N, e.g. --shard 0/4 ... --shard 3/4");
  };
  if (slash == std::string::npos) throw bad();
  Shard s;
  try {
    size_t used = 0;
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    s.index = std::stoll(a, &used);
    if (used != a.size()) throw bad();
    s.count = std::stoll(b, &used);
    if (used != b.size()) throw bad();
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (s.count < 1 || s.index < 0 || s.index >= s.count) throw bad();
  return s;
}

bool shard_from_slurm(Shard& shard, const GetEnv& getenv_fn) {
  const GetEnv get = getenv_fn ? getenv_fn : GetEnv([](const char* k) -> const char* { return std::getenv(k); });
  const char* id = get("SLURM_ARRAY_TASK_ID");
  const char* count = get("SLURM_ARRAY_TASK_COUNT");
  if (id == nullptr || count == nullptr) return false;
  const char* min = get("SLURM_ARRAY_TASK_MIN");
  try {
    const int64_t first = min != nullptr ? std::stoll(min) : 0;
    const Shard s{std::stoll(id) - first, std::stoll(count)};
    if (s.count < 1 || s.index < 0 || s.index >= s.count) throw std::out_of_range("shard");
    shard = s;
  } catch (const std::logic_error&) {
    throw Error(std::string("Slurm array: SLURM_ARRAY_TASK_ID=") + id + ", SLURM_ARRAY_TASK_COUNT=" + count +
                ", SLURM_ARRAY_TASK_MIN=" + (min ? min : "unset") +
                " do not give a task index in [0, count); use a contiguous --array=0-(N-1) or pass --shard I/N");
  }
  return true;
}

}  // namespace nesgd::exp
