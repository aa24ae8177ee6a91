#include "nesgd/runtime/cpu_features.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

namespace nesgd::runtime {

const std::vector<std::string>& kernel_flags() {
  static const std::vector<std::string> flags{"avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                                              "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"};
  return flags;
}

CpuInfo parse_cpuinfo(const std::string& text) {
  CpuInfo cpu;
  std::istringstream in(text);
  std::string line;
  bool have_flags = false;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    const auto key_end = line.find_last_not_of(" \t", colon - 1);
    if (key_end == std::string::npos) continue;
    const std::string key = line.substr(0, key_end + 1);
    const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && cpu.model.empty()) cpu.model = value;
    if (key == "flags" && !have_flags) {
      have_flags = true;
      std::istringstream words(value);
      const std::vector<std::string> have{std::istream_iterator<std::string>(words), {}};
      for (const auto& f : kernel_flags()) {
        if (std::find(have.begin(), have.end(), f) != have.end()) cpu.flags.push_back(f);
      }
    }
    if (have_flags && !cpu.model.empty()) break;
  }
  return cpu;
}

CpuInfo this_cpu() {
  // Read once per process: a sweep asks for every pending run, and the file does not change.
  static const CpuInfo info = [] {
    std::ifstream in("/proc/cpuinfo");
    if (!in) return CpuInfo{};
    std::ostringstream text;
    text << in.rdbuf();
    return parse_cpuinfo(text.str());
  }();
  return info;
}

bool has_native_bf16(const CpuInfo& cpu) {
  const auto has = [&cpu](const char* f) { return std::find(cpu.flags.begin(), cpu.flags.end(), f) != cpu.flags.end(); };
  return has("avx512_bf16") || has("amx_bf16");
}

}  // namespace nesgd::runtime
