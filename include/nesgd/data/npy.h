// nesgd/data/npy.h - strict readers of NumPy's .npy files and .npz archives.
//
// An .npy file (numpy.lib.format) is the magic "\x93NUMPY", a version byte pair
// (1.0, 2.0 or 3.0), the length of the header (2 bytes little-endian in 1.0,
// 4 bytes in 2.0 and 3.0), and the header: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
// padded with spaces and ended by '\n'; then the elements. The header is parsed
// as exactly that grammar (the three keys, each once; strings, True/False,
// tuples of non-negative integers), never evaluated. An .npz (np.savez,
// np.savez_compressed) is a zip archive holding one NAME.npy per array, each
// stored (method 0) or deflated (method 8).
// The readers decode little-endian uint8, int16, uint16, int32, int64 and
// float32, in C order; they refuse big-endian data, fortran_order True,
// object, structured and every other dtype, with an error naming the file, the
// array and the NumPy call that fixes it. Every length is checked against the
// size of the file (or of the zip entry) before anything is allocated, so a
// truncated or hostile file gives an nesgd::Error, never a huge allocation or
// a read past its end. Torch-free; knows nothing of datasets (numpy_dataset.h).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace nesgd::data {

// The element types the readers decode.
enum class NpyDtype { kUint8, kInt16, kUint16, kInt32, kInt64, kFloat32 };

const char* npy_dtype_name(NpyDtype dtype);  // "uint8", "float32", ...
std::size_t npy_dtype_size(NpyDtype dtype);  // bytes per element

// What a caller accepts of one array. The reader refuses anything else before
// reading the data, with `dtype_fix` in the message.
struct NpyExpect {
  std::string variable = "a";   // the array's name in suggested fixes: "x_train.astype('<f4')"
  std::vector<NpyDtype> dtypes;  // empty: every dtype the reader decodes
  std::string dtype_fix;         // e.g. "save it as float32 or uint8: x_train.astype(np.float32)"
};

struct NpyArray {
  NpyDtype dtype = NpyDtype::kUint8;
  std::string descr;            // as the header spells it, e.g. "<f4"
  std::vector<int64_t> shape;   // C order; () for a scalar
  std::vector<uint8_t> data;    // count() elements, little-endian, C order

  int64_t count() const;  // product of shape (1 for a scalar)
};

// Reads one .npy file. `expect` selects the dtypes accepted. Throws
// nesgd::Error naming the file on anything missing, truncated, malformed,
// refused, or followed by trailing bytes.
NpyArray read_npy(const std::string& path, const NpyExpect& expect = {});

// Parses a whole .npy image held in memory (an .npz entry); `name` names it in
// errors, e.g. "data.npz: x_train.npy". The data is moved out of `bytes`.
NpyArray parse_npy(const std::string& name, std::vector<uint8_t> bytes, const NpyExpect& expect = {});

// An .npz archive: the zip's central directory is read when it opens; entries
// are read on demand, each checked against its CRC-32. Zip64 archives (an
// entry or the archive over 4 GB; np.savez makes them above 2 GB) are refused
// with a pointer to the folder-of-.npy alternative.
class NpzFile {
 public:
  explicit NpzFile(const std::string& path);
  ~NpzFile();
  NpzFile(const NpzFile&) = delete;
  NpzFile& operator=(const NpzFile&) = delete;

  const std::string& path() const { return path_; }
  // Entry names in the archive's order, e.g. {"x_train.npy", "y_train.npy"}.
  std::vector<std::string> entry_names() const;
  bool has_entry(const std::string& name) const;
  // The entry's uncompressed bytes. Throws nesgd::Error if it is missing or damaged.
  std::vector<uint8_t> read_entry(const std::string& name) const;
  // The array NAME, stored as the entry NAME.npy.
  NpyArray read_array(const std::string& name, const NpyExpect& expect = {}) const;

 private:
  struct Entry;
  std::string path_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  uint64_t size_ = 0;
  std::vector<Entry> entries_;
};

// True when the file starts like a zip archive (local header or empty archive).
bool looks_like_zip(const std::string& path);

}  // namespace nesgd::data
