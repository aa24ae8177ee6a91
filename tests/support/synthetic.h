// Synthetic image datasets for tests that need a training problem but nothing
// of the real files: class k lights a distinct block of pixel values (in
// memory order), plus uniform noise, so every network here fits it in a few
// dozen steps. Deterministic in its seed; torch-free.
#pragma once

#include <cstdint>
#include <random>

#include "nesgd/data/dataset.h"

namespace nesgd::testing {

struct SyntheticShape {
  int64_t channels = 1;
  int64_t height = 28;
  int64_t width = 28;
  int64_t classes = 10;
  int noise = 60;  // each value gets uniform noise in [0, noise]; a lit block adds 150
};

inline data::ImageSet synthetic_images(int64_t n, const SyntheticShape& shape, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> noise(0, shape.noise);
  const int64_t values = shape.channels * shape.height * shape.width;
  const int64_t block = values / shape.classes;
  data::ImageSet s;
  s.n = n;
  s.channels = shape.channels;
  s.height = shape.height;
  s.width = shape.width;
  s.num_classes = shape.classes;
  s.images.resize(static_cast<size_t>(n * values));
  s.labels.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i % shape.classes;
    s.labels[static_cast<size_t>(i)] = k;
    for (int64_t p = 0; p < values; ++p) {
      const bool on = p / block == k;
      s.images[static_cast<size_t>(i * values + p)] = static_cast<uint8_t>(noise(rng) + (on ? 150 : 0));
    }
  }
  return s;
}

// n_train training and n_test test images of `shape` (default: Fashion-MNIST's 1 x 28 x 28, 10 classes).
inline data::DatasetSplits synthetic(int64_t n_train, int64_t n_test, uint64_t seed,
                                     const SyntheticShape& shape = {}) {
  std::mt19937_64 rng(seed);
  data::DatasetSplits d;
  d.name = "synthetic";
  d.source = "generated in test";
  d.train = synthetic_images(n_train, shape, rng);
  d.test = synthetic_images(n_test, shape, rng);
  return d;
}

}  // namespace nesgd::testing
