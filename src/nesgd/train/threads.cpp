#include "nesgd/train/threads.h"

#include <dlfcn.h>
#include <sched.h>
#include <torch/torch.h>

#include <algorithm>
#include <thread>

namespace nesgd::train {
namespace {

using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();
using GetConfigFn = char* (*)();

template <typename Fn>
Fn blas_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

int hardware_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadSettings default_threads(const std::string& model, int cores) {
  // Measured on 2 cores (docs/PERFORMANCE.md): the MLP is BLAS-bound, so
  // OpenBLAS gets every core and ATen one thread (its OpenMP workers would
  // otherwise spin against OpenBLAS's). Convolutions run in oneDNN on ATen's
  // pool, so the conv nets get the cores there and a single-threaded BLAS.
  if (model == "f1") return {1, cores};
  return {cores, 1};
}

ThreadSettings apply_threads(const std::string& model, ThreadSettings requested) {
  const ThreadSettings d = default_threads(model, hardware_cores());
  ThreadSettings s{requested.aten > 0 ? requested.aten : d.aten, requested.blas > 0 ? requested.blas : d.blas};
  at::set_num_threads(s.aten);
  if (auto set = blas_symbol<SetThreadsFn>("openblas_set_num_threads")) set(s.blas);
  return s;
}

nlohmann::json describe_threads() {
  nlohmann::json j;
  j["aten_threads"] = at::get_num_threads();
  j["aten_interop_threads"] = at::get_num_interop_threads();
  auto get = blas_symbol<GetThreadsFn>("openblas_get_num_threads");
  j["blas_threads"] = get ? get() : -1;
  auto config = blas_symbol<GetConfigFn>("openblas_get_config");
  j["blas"] = config ? std::string("OpenBLAS ") + config() : std::string("unknown (not OpenBLAS)");
  j["hardware_cores"] = hardware_cores();
  return j;
}

}  // namespace nesgd::train
