// nesgd/runtime/device_name.h - what a --device value means, for code that must not include LibTorch.
#pragma once

#include <string>

namespace nesgd::runtime {

// Whether `device` ("cpu", "cuda", "cuda:N" or "auto") runs on this machine's CPU: "cpu", or
// "auto" where LibTorch sees no CUDA device. Never throws; a CUDA name is simply not the CPU
// (whether that GPU exists is resolve_device's question, in run_info.h).
bool runs_on_cpu(const std::string& device);

}  // namespace nesgd::runtime
