#include "nesgd/data/dataset.h"

namespace nesgd::data {

void ImageSet::truncate(int64_t count) {
  if (count <= 0 || count >= n) {
    return;
  }
  const auto values = static_cast<std::size_t>(count * sample_size());
  if (has_float_pixels()) {
    pixels_f32.resize(values);
  } else {
    images.resize(values);
  }
  labels.resize(static_cast<std::size_t>(count));
  n = count;
}

}  // namespace nesgd::data
