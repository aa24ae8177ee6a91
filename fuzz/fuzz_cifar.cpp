// Fuzz target: a CIFAR binary batch file (data_batch_N.bin, test_batch.bin,
// train.bin, test.bin) through data::read_cifar, read as CIFAR-10 and as
// CIFAR-100. Seeds: corpus/cifar/ (one- and two-record files, bad sizes, bad labels).
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "nesgd/data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nesgd;
  const std::string path = fuzz::write_scratch("input.bin", data, size);
  for (data::CifarVariant variant : {data::CifarVariant::kCifar10, data::CifarVariant::kCifar100}) {
    fuzz::expect_only_nesgd_errors([&] {
      const data::CifarReadResult r = data::read_cifar(path, variant);
      const auto& set = r.images;
      if (set.n <= 0 || static_cast<int64_t>(set.images.size()) != set.n * data::kCifarPixelBytes ||
          static_cast<int64_t>(set.labels.size()) != set.n || r.bytes != size) {
        std::abort();
      }
      for (int64_t label : set.labels) {
        if (label < 0 || label >= data::cifar_num_classes(variant)) std::abort();
      }
    });
  }
  return 0;
}
