#include "nesgd/runtime/threads.h"

#include <dlfcn.h>
#include <sched.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "nesgd/models/catalog.h"
#include "nesgd/runtime/cpu_features.h"

namespace nesgd::runtime {
namespace {

using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();
using GetConfigFn = char* (*)();

template <typename Fn>
Fn blas_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

// libgomp reads OMP_WAIT_POLICY once, at load: unless it is "passive", an
// OpenMP worker spins after each parallel region instead of sleeping.
bool openmp_workers_sleep() {
  const char* v = std::getenv("OMP_WAIT_POLICY");
  if (v == nullptr) return false;
  std::string s(v);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "passive";
}

}  // namespace

int hardware_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

BlasBuild blas_build() {
  using GetParallelFn = int (*)();
  auto get = blas_symbol<GetParallelFn>("openblas_get_parallel");
  if (!get) return BlasBuild::kNotOpenBlas;
  switch (get()) {
    case 0: return BlasBuild::kSequential;
    case 2: return BlasBuild::kOpenMp;
    default: return BlasBuild::kPthreads;
  }
}

ThreadSettings default_threads(const std::string& model, int cores) {
  return default_threads(model, cores, blas_build());
}

ThreadSettings default_threads(const std::string& model, int cores, BlasBuild build) {
  // F1, measured on the shared 2-core machine (docs/PERFORMANCE.md, "Thread
  // settings"): the MLP's time is in its GEMMs, so OpenBLAS gets every core.
  // ATen's own ops (Adam, ReLU, bias) are a few percent of the step; giving
  // them more than one thread pays only when ATen's OpenMP workers sleep
  // between regions (OMP_WAIT_POLICY=passive): spinning workers that the
  // kernel deschedules on a busy machine made the step 10-40x slower, at
  // B = 100 and 1000 alike, with either OpenBLAS build.
  // OpenBLAS's OpenMP build runs its regions on ATen's pool, at ATen's width:
  // with ATen at 1 thread the GEMMs ran on one core (8,196 against 15,434
  // samples/s at B = 2000), so there F1 takes every core in the one pool.
  // So does a BLAS that is not OpenBLAS (MKL, inside PyPI's LibTorch): it runs
  // its GEMMs on ATen's pool at ATen's width (measured there at ATen 1: 9,503
  // against PyTorch-Python's 17,690 samples/s at 2 threads, B = 1000).
  const models::ModelEntry* entry = models::find_model(model);
  if (entry != nullptr && entry->threads == models::ThreadProfile::kDense) {
    if (build == BlasBuild::kOpenMp || build == BlasBuild::kNotOpenBlas) return {cores, cores};
    return {openmp_workers_sleep() ? cores : 1, cores};
  }
  // Convolutions run in oneDNN on ATen's pool, so the conv nets get the cores
  // there and a single-threaded BLAS (provisional: measured by the conv benchmark).
  // So does a TorchScript model, whose layers nesgd does not know.
  return {cores, 1};
}

namespace {

// `requested` with its zeros replaced by the measured defaults for `cores`.
ThreadSettings resolve_threads(const std::string& model, ThreadSettings requested, int cores) {
  const ThreadSettings d = default_threads(model, cores);
  return {requested.aten > 0 ? requested.aten : d.aten, requested.blas > 0 ? requested.blas : d.blas};
}

}  // namespace

ThreadSettings apply_threads(const std::string& model, ThreadSettings requested) {
  const ThreadSettings s = resolve_threads(model, requested, hardware_cores());
  // OpenBLAS first: its OpenMP build also calls omp_set_num_threads(blas),
  // which is ATen's thread count too; setting ATen last keeps ATen's as asked.
  // In that build OpenBLAS's regions then run at ATen's width (measured: one
  // thread in all with ATen at 1), hence default_threads' OpenMP case.
  if (auto set = blas_symbol<SetThreadsFn>("openblas_set_num_threads")) set(s.blas);
  at::set_num_threads(s.aten);
  return s;
}

std::string oversubscription_warning(ThreadSettings s, int cores, BlasBuild build, bool openmp_workers_sleep) {
  if (build != BlasBuild::kPthreads || openmp_workers_sleep) return "";
  if (s.aten <= 1 || s.blas <= 1 || s.aten + s.blas <= cores) return "";
  return "ATen " + std::to_string(s.aten) + " threads and OpenBLAS " + std::to_string(s.blas) + " threads on " +
         std::to_string(cores) +
         " cores: ATen's OpenMP workers spin while OpenBLAS computes, which made F1 2.4x slower on 2 cores "
         "(docs/PERFORMANCE.md, \"Thread settings\"). Leave --threads and --blas-threads at 0 for the measured "
         "defaults, keep their sum within the cores, or set OMP_WAIT_POLICY=passive";
}

std::string oversubscription_warning(const std::string& model, ThreadSettings requested) {
  const int cores = hardware_cores();
  return oversubscription_warning(resolve_threads(model, requested, cores), cores, blas_build(), openmp_workers_sleep());
}

std::string blas_core() {
  auto corename = blas_symbol<GetConfigFn>("openblas_get_corename");
  return corename ? std::string(corename()) : std::string();
}

std::string blas_kernel_warning(const std::string& core, const std::vector<std::string>& cpu_flags) {
  // OpenBLAS's x86 kernels that predate AVX2 (its generic fallback is Prescott).
  static const std::vector<std::string> pre_avx2{
      "prescott", "core2",     "penryn", "dunnington", "nehalem",  "sandybridge", "atom",       "katmai",
      "coppermine", "northwood", "banias", "opteron",  "barcelona", "bobcat",      "bulldozer", "piledriver",
      "steamroller", "generic"};
  std::string c = core;
  for (auto& ch : c) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const auto has = [&](const char* f) { return std::find(cpu_flags.begin(), cpu_flags.end(), f) != cpu_flags.end(); };
  if (c.empty() || !has("avx2") || std::find(pre_avx2.begin(), pre_avx2.end(), c) == pre_avx2.end()) return "";
  const std::string fix = has("avx512f") ? "OPENBLAS_CORETYPE=SkylakeX (or Haswell)" : "OPENBLAS_CORETYPE=Haswell";
  return "OpenBLAS runs its " + core +
         " kernels, which predate AVX2, on a CPU that has AVX2: it did not recognize the processor, and its matrix "
         "products run several times slower (F1 trained 3.6 times slower on such a machine). Set " + fix +
         " in the environment before nesgd starts";
}

std::string blas_kernel_warning() { return blas_kernel_warning(blas_core(), this_cpu().flags); }

nlohmann::json describe_threads() {
  nlohmann::json j;
  j["aten_threads"] = at::get_num_threads();
  j["aten_interop_threads"] = at::get_num_interop_threads();
  auto get = blas_symbol<GetThreadsFn>("openblas_get_num_threads");
  j["blas_threads"] = get ? get() : -1;
  auto config = blas_symbol<GetConfigFn>("openblas_get_config");
  j["blas"] = config ? std::string("OpenBLAS ") + config() : std::string("unknown (not OpenBLAS)");
  j["blas_core"] = blas_core();
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  j["openblas_coretype_env"] = coretype ? nlohmann::json(coretype) : nlohmann::json(nullptr);
  j["hardware_cores"] = hardware_cores();
  return j;
}

}  // namespace nesgd::runtime
