// nesgd/runtime/threads.h - CPU thread settings: ATen's intra-op pool and OpenBLAS's.
//
// On CPU, LibTorch runs dense layers through BLAS (OpenBLAS, with its own
// thread pool) and everything else (elementwise ops, oneDNN convolutions)
// through ATen's OpenMP pool. Both at full width oversubscribe the cores: the
// OpenMP workers spin while OpenBLAS's threads compute, and on a busy machine
// a spinning worker the kernel has descheduled stalls every parallel region.
// The defaults below are measured (docs/PERFORMANCE.md, "Thread settings")
// and depend on OMP_WAIT_POLICY (read from the environment: libgomp reads it
// once at load, so it cannot be changed from here); --threads and
// --blas-threads override them. OpenBLAS is reached through dlsym, so a build
// linked against another BLAS still runs (blas threads then read as -1).
// This part sets thread counts only: it never changes the environment.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nesgd::runtime {

struct ThreadSettings {
  int aten = 0;  // at::set_num_threads
  int blas = 0;  // openblas_set_num_threads
};

// Which OpenBLAS is loaded (openblas_get_parallel): Debian's alternatives
// pick libopenblas0-pthread (scripts/setup.sh) or -openmp at run time.
enum class BlasBuild { kNotOpenBlas, kSequential, kPthreads, kOpenMp };
BlasBuild blas_build();

// The measured best settings for `model` on a machine with `cores` cores,
// for the BLAS build loaded in this process / for `build`.
ThreadSettings default_threads(const std::string& model, int cores);
ThreadSettings default_threads(const std::string& model, int cores, BlasBuild build);

// Applies settings, replacing zeros by default_threads(model, hardware cores).
// Returns what was applied.
ThreadSettings apply_threads(const std::string& model, ThreadSettings requested);

// A warning, or "" where nothing is wrong: with OpenBLAS's pthread build the
// two pools are separate, and where both run more than one thread and
// together more than `cores`, ATen's OpenMP workers spin (unless
// OMP_WAIT_POLICY=passive) while OpenBLAS's threads need those cores
// (measured: F1 with --threads 2 on 2 cores ran at 0.42x the default).
// The settings are as applied (no zeros).
std::string oversubscription_warning(ThreadSettings s, int cores, BlasBuild build, bool openmp_workers_sleep);
// The same for what apply_threads(model, requested) would apply in this process.
std::string oversubscription_warning(const std::string& model, ThreadSettings requested);

// The kernels OpenBLAS chose at load (openblas_get_corename: "Haswell",
// "SkylakeX", ...); "" when the BLAS is not OpenBLAS.
std::string blas_core();

// A warning when OpenBLAS runs kernels older than AVX2 ("Prescott", "Nehalem",
// "Sandybridge", ...) on a CPU that has AVX2: OpenBLAS did not recognize the
// processor (a virtual machine's masked CPU model, or a CPU newer than the
// OpenBLAS build) and its matrix products run several times slower; the fix
// is OPENBLAS_CORETYPE in the environment. "" when there is nothing to say.
// `cpu_flags` as in runtime/cpu_features.h.
std::string blas_kernel_warning(const std::string& core, const std::vector<std::string>& cpu_flags);
// The same for this process.
std::string blas_kernel_warning();

// Current settings and BLAS identity (build, kernels, OPENBLAS_CORETYPE), for run records.
nlohmann::json describe_threads();

// Hardware threads available to this process.
int hardware_cores();

}  // namespace nesgd::runtime
