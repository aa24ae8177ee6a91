// nesgd/data/idx.h - reader and writer for the IDX format (MNIST, Fashion-MNIST).
//
// IDX is big-endian: a 4-byte magic 0x0000TTDD (TT = element type, 0x08 = uint8;
// DD = number of dimensions), DD 4-byte dimension sizes, then the elements in
// row-major order. Files may be gzip-compressed or raw; both are read the same
// way. Only uint8 payloads are supported (all the datasets here use them).
// The reader validates everything it can and throws nesgd::Error naming the
// file and the exact problem; it knows nothing of datasets or tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nesgd::data {

struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. {60000, 28, 28} or {60000}
  std::vector<uint8_t> data;   // product(dims) bytes, row-major
};

struct IdxReadResult {
  IdxArray array;
  std::string sha256_raw;  // SHA-256 (hex) of the decompressed file content
};

// Reads an IDX file (gzip or raw). Throws nesgd::Error on a missing, truncated
// or malformed file, or when trailing bytes follow the declared payload.
IdxReadResult read_idx(const std::string& path);

// Writes `array` as IDX (uint8), gzip-compressed when `gzip` is true.
void write_idx(const std::string& path, const IdxArray& array, bool gzip);

}  // namespace nesgd::data
