#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/device_name.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include "nesgd/error.h"
#include "nesgd/runtime/cpu_features.h"
#include "nesgd/runtime/memory.h"
#include "nesgd/runtime/threads.h"

#ifndef NESGD_VERSION
#define NESGD_VERSION "unknown"
#endif

namespace nesgd::runtime {

std::string libtorch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

bool runs_on_cpu(const std::string& device) {
  return device == "cpu" || (device == "auto" && !torch::cuda::is_available());
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw Error("--device " + name + " asked for CUDA, but this LibTorch (" + libtorch_version() +
                  ") sees no CUDA device: use --device cpu, or build against a CUDA LibTorch (see README)");
    }
    torch::Device d(name);
    if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count())) {
      throw Error("--device " + name + ": only " + std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
    }
    return d;
  }
  throw Error("unknown device '" + name + "': use cpu, cuda, cuda:N or auto");
}

namespace {

// The CUDA card's name ("NVIDIA H200") through the driver API, looked up at
// run time in libcuda.so.1, which a CUDA LibTorch has loaded and initialised
// by the time a CUDA device was resolved. No CUDA headers or link-time
// dependency, so this file builds unchanged against a CPU-only LibTorch.
// Empty where the driver library is not loaded or does not answer.
std::string cuda_device_name(int index) {
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (lib == nullptr) return "";
  using DeviceGet = int (*)(int*, int);            // CUresult cuDeviceGet(CUdevice*, int ordinal)
  using DeviceGetName = int (*)(char*, int, int);  // CUresult cuDeviceGetName(char*, int len, CUdevice)
  auto get = reinterpret_cast<DeviceGet>(dlsym(lib, "cuDeviceGet"));
  auto get_name = reinterpret_cast<DeviceGetName>(dlsym(lib, "cuDeviceGetName"));
  std::string name;
  int dev = 0;
  char buf[256] = {0};
  if (get != nullptr && get_name != nullptr && get(&dev, index) == 0 &&
      get_name(buf, static_cast<int>(sizeof(buf)) - 1, dev) == 0) {
    name = buf;
  }
  dlclose(lib);
  return name;
}

// The card's total memory through the driver API (see cuda_device_name).
double cuda_total_memory(int index) {
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (lib == nullptr) return 0.0;
  using DeviceGet = int (*)(int*, int);
  using TotalMem = int (*)(size_t*, int);  // CUresult cuDeviceTotalMem_v2(size_t*, CUdevice)
  auto get = reinterpret_cast<DeviceGet>(dlsym(lib, "cuDeviceGet"));
  auto total = reinterpret_cast<TotalMem>(dlsym(lib, "cuDeviceTotalMem_v2"));
  double bytes = 0.0;
  int dev = 0;
  size_t b = 0;
  if (get != nullptr && total != nullptr && get(&dev, index) == 0 && total(&b, dev) == 0) bytes = static_cast<double>(b);
  dlclose(lib);
  return bytes;
}

// The CPU's model name and the instruction-set flags that decide kernel
// choice (runtime/cpu_features.h): machines differ, and every measurement
// names the one it ran on.
nlohmann::json cpu_record() {
  const CpuInfo cpu = this_cpu();
  return {{"model", cpu.model}, {"flags", cpu.flags}};
}

}  // namespace

double device_memory_bytes(const torch::Device& device) {
  if (device.is_cuda()) return cuda_total_memory(device.has_index() ? device.index() : 0);
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0.0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024.0;
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES);
  return pages > 0 ? static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) : 0.0;
}

nlohmann::json environment_record(const torch::Device& device) {
  nlohmann::json j;
  j["nesgd_version"] = NESGD_VERSION;
  j["libtorch_version"] = libtorch_version();
#ifdef NESGD_LIBTORCH_CUDA
  j["libtorch_cuda"] = true;  // built against a LibTorch with CUDA (PyPI's torch, say)
#else
  j["libtorch_cuda"] = false;  // a CPU-only LibTorch (Debian's libtorch-dev, say)
#endif
  j["compiler"] = __VERSION__;
  j["device"] = device.str();
  if (device.is_cuda()) {
    const int index = device.has_index() ? device.index() : 0;
    const std::string name = cuda_device_name(index);
    j["device_name"] = name.empty() ? "CUDA device " + std::to_string(index) : name;
  } else {
    j["device_name"] = "CPU";
  }
  j["cuda_available"] = torch::cuda::is_available();
  j["cpu"] = cpu_record();
  j["threads"] = describe_threads();
  j["malloc"] = describe_malloc();  // heap policy (runtime/memory.h)
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  j["host"] = host;
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  j["finished_at"] = stamp;
  return j;
}

}  // namespace nesgd::runtime
