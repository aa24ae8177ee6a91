#include "nesgd/data/dataset.h"

namespace nesgd::data {

void ImageSet::truncate(int64_t count) {
  if (count <= 0 || count >= n) {
    return;
  }
  images.resize(static_cast<std::size_t>(count * sample_size()));
  labels.resize(static_cast<std::size_t>(count));
  n = count;
}

}  // namespace nesgd::data
