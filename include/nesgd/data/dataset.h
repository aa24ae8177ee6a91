// nesgd/data/dataset.h - an image-classification dataset held in memory as bytes.
//
// Torch-free on purpose: readers fill this, the training code turns it into
// tensors once (pixels / 255 -> [0, 1]). Images are stored sample-major, each
// sample channel-major (C, H, W), as uint8.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nesgd::data {

struct ImageSet {
  std::vector<uint8_t> images;  // [n, channels, height, width]
  std::vector<int64_t> labels;  // [n], each in [0, num_classes)
  int64_t n = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t num_classes = 0;

  int64_t sample_size() const { return channels * height * width; }
  // Keeps only the first `count` samples (no-op when count >= n or count <= 0).
  void truncate(int64_t count);
};

struct DatasetSplits {
  std::string name;    // registry name, e.g. "fashion-mnist"
  std::string source;  // where it was loaded from, e.g. "/usr/share/datasets/fashion-mnist (debian package)"
  ImageSet train;
  ImageSet test;
};

}  // namespace nesgd::data
