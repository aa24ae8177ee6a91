// nesgd/runtime/cpu_features.h - what the CPU can do, from /proc/cpuinfo (torch-free).
//
// Machines differ (some have AVX-512 and bf16 arithmetic, some only AVX2):
// every measurement records the flags that decide kernel choice, and bf16
// training is refused where the CPU would only emulate it.
#pragma once

#include <string>
#include <vector>

namespace nesgd::runtime {

// The flags that decide kernel choice (AVX2, FMA, AVX-512, bf16, AMX), in a fixed order.
const std::vector<std::string>& kernel_flags();

struct CpuInfo {
  std::string model;               // "AMD EPYC ..." ("" where unknown)
  std::vector<std::string> flags;  // those of kernel_flags() that the first CPU lists
};

// Parses /proc/cpuinfo's text (or a test's): the first "model name" and "flags".
CpuInfo parse_cpuinfo(const std::string& text);
// This machine's (read once per process); empty where /proc/cpuinfo cannot be read.
CpuInfo this_cpu();

// Native bf16 arithmetic: AVX512-BF16 or AMX-BF16.
bool has_native_bf16(const CpuInfo& cpu);

}  // namespace nesgd::runtime
