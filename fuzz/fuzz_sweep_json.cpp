// Fuzz target: a sweep file in JSON (`nesgd sweep --config sweep.json`)
// through exp::sweep_spec_from_file, then expanded into its runs.
// Seeds: corpus/sweep_json/; dictionary: dict/sweep_json.dict.
#include <cstddef>
#include <cstdint>

#include "fuzz_sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nesgd::fuzz::sweep_file(nesgd::fuzz::write_scratch("sweep.json", data, size));
  return 0;
}
