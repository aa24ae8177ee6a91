// Fuzz target: a NumPy dataset file, `--dataset npz:PATH`. The input is read
// as an .npz (data::read_numpy_arrays, then data::numpy_splits under each
// layout), entry by entry as a zip (NpzFile::read_entry, parse_npy), and as
// a single .npy file (data::read_npy). Seeds: corpus/npz/ (small archives as
// np.savez and np.savez_compressed write them, .npy files of format 1.0 to
// 3.0, and typical damage).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "nesgd/data/npy.h"
#include "nesgd/data/numpy_dataset.h"

namespace {

using namespace nesgd;

// What an NpyArray promises: its bytes are exactly the shape's elements.
void check_array(const data::NpyArray& a) {
  uint64_t count = 1;
  for (int64_t d : a.shape) {
    if (d < 0) std::abort();
    count *= static_cast<uint64_t>(d);
  }
  if (count * data::npy_dtype_size(a.dtype) != a.data.size()) std::abort();
}

// What numpy_splits promises: consistent sizes, labels in range, finite float pixels.
void check_set(const data::ImageSet& s) {
  if (s.n <= 0 || s.channels <= 0 || s.height <= 0 || s.width <= 0 || s.num_classes <= 0 ||
      s.num_classes > data::kMaxNumpyClasses || static_cast<int64_t>(s.labels.size()) != s.n) {
    std::abort();
  }
  const auto values = static_cast<std::size_t>(s.n * s.sample_size());
  if (s.has_float_pixels() ? (s.pixels_f32.size() != values || !s.images.empty()) : s.images.size() != values) {
    std::abort();
  }
  for (float v : s.pixels_f32) {
    if (!std::isfinite(v)) std::abort();
  }
  for (int64_t label : s.labels) {
    if (label < 0 || label >= s.num_classes) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch("input.npz", data, size);
  fuzz::expect_only_nesgd_errors([&] {
    const data::NumpyArrays arrays = data::read_numpy_arrays(path);
    for (const auto* a : {&arrays.x_train, &arrays.y_train, &arrays.x_test, &arrays.y_test}) check_array(*a);
    for (auto layout : {data::PixelLayout::kAuto, data::PixelLayout::kNhwc, data::PixelLayout::kNchw}) {
      fuzz::expect_only_nesgd_errors([&] {
        const data::DatasetSplits s = data::numpy_splits(arrays, layout);
        check_set(s.train);
        check_set(s.test);
        if (s.train.sample_size() != s.test.sample_size() || s.train.num_classes != s.test.num_classes) std::abort();
      });
    }
  });
  fuzz::expect_only_nesgd_errors([&] {
    const data::NpzFile npz(path);
    for (const auto& name : npz.entry_names()) {
      fuzz::expect_only_nesgd_errors([&] { check_array(data::parse_npy(name, npz.read_entry(name))); });
    }
  });
  fuzz::expect_only_nesgd_errors([&] { check_array(data::read_npy(path)); });
  return 0;
}
