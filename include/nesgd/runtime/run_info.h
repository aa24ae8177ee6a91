// nesgd/runtime/run_info.h - the device a run uses and the environment it records.
#pragma once

#include <torch/torch.h>

#include <string>

#include <nlohmann/json.hpp>

namespace nesgd::runtime {

// "cpu", "cuda", "cuda:N" or "auto" (CUDA if available, else CPU). Asking for
// CUDA where there is none is an error that says so and suggests --device cpu.
torch::Device resolve_device(const std::string& name);

// nesgd and LibTorch versions, compiler, device name, threads/BLAS, host, time.
nlohmann::json environment_record(const torch::Device& device);

// Memory a run on `device` may use, in bytes: the available system memory
// (MemAvailable) for the CPU, the card's total memory for a CUDA device
// (through the driver API, without CUDA headers). 0 when unknown.
double device_memory_bytes(const torch::Device& device);

// "1.13.0" - the LibTorch this binary was compiled against.
std::string libtorch_version();

}  // namespace nesgd::runtime
