// Fuzz target: a sweep file in TOML (`nesgd sweep --config sweep.toml`).
// nesgd's own TOML reader (exp/toml.h; toml++ 3.3, used before, had undefined
// behaviour on malformed text) converts the bytes to JSON, which must then
// print: every string it returns is valid UTF-8 (nlohmann::json's dump()
// throws its own exception otherwise, which counts as a finding). Then the
// same bytes as a file are read as a sweep and expanded into its runs.
// Seeds: corpus/sweep_toml/; dictionary: dict/sweep_toml.dict.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_sweep.h"
#include "nesgd/exp/toml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nesgd::fuzz::expect_only_nesgd_errors([&] { (void)nesgd::exp::toml_to_json(text, "sweep.toml").dump(); });
  nesgd::fuzz::sweep_file(nesgd::fuzz::write_scratch("sweep.toml", data, size));
  return 0;
}
