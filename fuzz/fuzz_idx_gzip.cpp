// Fuzz target: IDX content inside a valid gzip stream. Mutating compressed
// bytes mostly yields corrupt streams that zlib rejects early, so this target
// compresses the input itself: the IDX header and payload logic behind the
// gzip layer gets the coverage, including streams that end early.
// Input: one control byte, then the IDX content. Control bit 7 set: the
// compressed stream loses its last (bits 0..6) bytes, and must then be refused.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "nesgd/data/idx.h"

namespace {

std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<uint8_t> out(deflateBound(&z, static_cast<uLong>(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nesgd;
  if (size < 1) return 0;
  const uint8_t control = data[0];
  std::vector<uint8_t> gz = gzip(data + 1, size - 1);
  const size_t cut = (control & 0x80) ? std::min<size_t>(gz.size(), control & 0x7f) : 0;
  gz.resize(gz.size() - cut);
  const std::string path = fuzz::write_scratch("input-idx.gz", gz.data(), gz.size());
  fuzz::expect_only_nesgd_errors([&] {
    const data::IdxReadResult r = data::read_idx(path);
    // A stream that was cut must not read as complete.
    if (r.array.data.size() > size || cut > 0) std::abort();
  });
  return 0;
}
