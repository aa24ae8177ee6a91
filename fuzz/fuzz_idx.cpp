// Fuzz target: an IDX file as found on disk (raw, or gzip as stored by Debian
// and the official mirrors) through data::read_idx. Seeds: corpus/idx/.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "nesgd/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nesgd;
  const std::string path = fuzz::write_scratch("input-idx", data, size);
  fuzz::expect_only_nesgd_errors([&] {
    const data::IdxReadResult r = data::read_idx(path);
    // What the reader promises on success.
    uint64_t n = 1;
    for (uint32_t d : r.array.dims) n *= d;
    if (r.array.dims.empty() || r.array.dims.size() > 4 || n != r.array.data.size() || r.sha256_raw.size() != 64) {
      std::abort();
    }
  });
  return 0;
}
