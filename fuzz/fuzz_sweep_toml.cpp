// Fuzz target: a sweep file in TOML (`nesgd sweep --config sweep.toml`):
// toml++ parses it, nesgd converts it to JSON and reads it as a sweep, then
// expands it into its runs. Seeds: corpus/sweep_toml/; dictionary: dict/sweep_toml.dict.
#include <cstddef>
#include <cstdint>

#include "fuzz_sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nesgd::fuzz::sweep_file(nesgd::fuzz::write_scratch("sweep.toml", data, size));
  return 0;
}
