#include "nesgd/runtime/precision.h"

#include <ATen/autocast_mode.h>
#include <dlfcn.h>

#include "nesgd/error.h"
#include "nesgd/train/run_config.h"

namespace nesgd::runtime {
namespace {

// The CUDA card's compute capability (major), through the driver API looked
// up at run time as in run_info.cpp (no CUDA headers); 0 where unknown.
int cuda_compute_major(int index) {
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (lib == nullptr) return 0;
  using DeviceGet = int (*)(int*, int);         // CUresult cuDeviceGet(CUdevice*, int ordinal)
  using GetAttribute = int (*)(int*, int, int);  // CUresult cuDeviceGetAttribute(int*, CUdevice_attribute, CUdevice)
  constexpr int kComputeCapabilityMajor = 75;    // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
  auto get = reinterpret_cast<DeviceGet>(dlsym(lib, "cuDeviceGet"));
  auto attribute = reinterpret_cast<GetAttribute>(dlsym(lib, "cuDeviceGetAttribute"));
  int dev = 0, major = 0;
  if (get == nullptr || attribute == nullptr || get(&dev, index) != 0 ||
      attribute(&major, kComputeCapabilityMajor, dev) != 0) {
    major = 0;
  }
  dlclose(lib);
  return major;
}

// Autocast's switches, LibTorch 1.x and 2.x spellings.
bool autocast_enabled(bool cuda) {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
void set_autocast_enabled(bool cuda, bool on) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on);
#else
  if (cuda) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
#endif
}
torch::ScalarType autocast_dtype(bool cuda) {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}
void set_autocast_dtype(bool cuda, torch::ScalarType dtype) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, dtype);
#else
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

torch::ScalarType dtype_of_precision(const std::string& precision) {
  if (precision == "fp32" || precision == "tf32" || precision == "bf16") return torch::kFloat32;
  if (precision == "fp64") return torch::kFloat64;
  throw Error("unknown precision '" + precision + "': use " + names_text(train::precision_names(), "or"));
}

void check_precision(const std::string& precision, const torch::Device& device, const CpuInfo& cpu) {
  dtype_of_precision(precision);  // the name
  const int index = device.has_index() ? device.index() : 0;
  if (precision == "tf32") {
    if (!device.is_cuda()) {
      throw Error("--precision tf32 needs an NVIDIA GPU (Ampere or newer): no CPU computes in TF32. On this "
                  "device use fp32" +
                  std::string(has_native_bf16(cpu) ? ", or bf16 (this CPU has native bf16)" : ""));
    }
    const int major = cuda_compute_major(index);
    if (major != 0 && major < 8) {
      throw Error("--precision tf32 needs compute capability 8.0 (Ampere) or newer; this GPU has " +
                  std::to_string(major) + ".x: use fp32");
    }
  }
  if (precision == "bf16") {
    if (device.is_cuda()) {
      const int major = cuda_compute_major(index);
      if (major != 0 && major < 8) {
        throw Error("--precision bf16 needs compute capability 8.0 (Ampere) or newer for native bf16; this GPU "
                    "has " + std::to_string(major) + ".x: use fp32");
      }
    } else if (!has_native_bf16(cpu)) {
      throw Error("--precision bf16 on a CPU needs native bf16 arithmetic (AVX512-BF16 or AMX-BF16), which this "
                  "CPU (" + (cpu.model.empty() ? std::string("model unknown") : cpu.model) +
                  ") lacks: there bf16 is only emulated, slower than fp32. Use --precision fp32");
    }
  }
}

void apply_precision(const std::string& precision, const torch::Device& device) {
  if (!device.is_cuda()) return;
  const bool tf32 = precision == "tf32";
  at::globalContext().setAllowTF32CuBLAS(tf32);
  at::globalContext().setAllowTF32CuDNN(tf32);
}

AutocastScope::AutocastScope(const std::string& precision, const torch::Device& device) {
  if (precision != "bf16") return;
  active_ = true;
  cuda_ = device.is_cuda();
  was_enabled_ = autocast_enabled(cuda_);
  previous_dtype_ = autocast_dtype(cuda_);
  set_autocast_dtype(cuda_, torch::kBFloat16);
  set_autocast_enabled(cuda_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The cast weights are cached while autocast is on; the outermost scope
  // drops them, as torch.autocast's __exit__ does (the weights change each step).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(cuda_, was_enabled_);
  set_autocast_dtype(cuda_, previous_dtype_);
}

}  // namespace nesgd::runtime
