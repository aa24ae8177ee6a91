// nesgd/data/dataset.h - an image-classification dataset held in memory as bytes.
//
// Torch-free on purpose: readers fill this, the training code turns it into
// tensors once (pixels / 255 -> [0, 1]). Images are stored sample-major, each
// sample channel-major (C, H, W), as uint8; or, for NumPy datasets saved as
// float32 (numpy_dataset.h), as float32 values taken as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nesgd::data {

struct ImageSet {
  std::vector<uint8_t> images;  // [n, channels, height, width]; empty when pixels_f32 holds the pixels
  // Float pixels [n, channels, height, width], used instead of `images` when
  // non-empty: they become tensors as they are, without the 1/255 scaling.
  std::vector<float> pixels_f32;
  std::vector<int64_t> labels;  // [n], each in [0, num_classes)
  int64_t n = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t num_classes = 0;

  int64_t sample_size() const { return channels * height * width; }
  bool has_float_pixels() const { return !pixels_f32.empty(); }
  // Keeps only the first `count` samples (no-op when count >= n or count <= 0).
  void truncate(int64_t count);
};

struct DatasetSplits {
  std::string name;    // registry name, e.g. "fashion-mnist", or "npz:PATH" (numpy_dataset.h)
  std::string source;  // where it was loaded from, e.g. "/usr/share/datasets/fashion-mnist (debian package)"
  ImageSet train;
  ImageSet test;
};

}  // namespace nesgd::data
