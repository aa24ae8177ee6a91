// nesgd/data/cifar.h - reader and writer for the CIFAR-10/100 binary record format.
//
// The official "binary version" files have no header: a file is a sequence of
// fixed-size records. CIFAR-10: 1 label byte (0..9) + 3072 pixel bytes.
// CIFAR-100: 2 label bytes, coarse (0..19) then fine (0..99), + 3072 pixel
// bytes; we use the fine label. The 3072 pixels are the 1024 red, 1024 green,
// then 1024 blue bytes of a 32x32 image, each plane row-major, top row first:
// exactly the [C, H, W] layout of ImageSet. The number of records is the file
// size divided by the record size (never assume 10,000 per file).
// The reader validates the size (a whole, non-zero number of records) and
// every label, and throws nesgd::Error naming the file and the problem; it
// knows nothing of registries, downloads or tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nesgd/data/dataset.h"

namespace nesgd::data {

enum class CifarVariant { kCifar10, kCifar100 };

constexpr int64_t kCifarChannels = 3;
constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarPixelBytes = kCifarChannels * kCifarSide * kCifarSide;  // 3072

int64_t cifar_label_bytes(CifarVariant v);   // 1 | 2
int64_t cifar_record_bytes(CifarVariant v);  // 3073 | 3074
int64_t cifar_num_classes(CifarVariant v);   // 10 | 100 (fine labels)
constexpr int64_t kCifar100CoarseClasses = 20;

struct CifarReadResult {
  ImageSet images;
  std::vector<int64_t> coarse_labels;  // CIFAR-100 only (empty for CIFAR-10)
  std::string sha256;                  // of the whole file, computed while reading
  uint64_t bytes = 0;                  // file size
};

// Reads one file. Throws nesgd::Error for a missing, empty or truncated file
// (size not a whole number of records) or a label out of range.
CifarReadResult read_cifar(const std::string& path, CifarVariant variant);

// Appends `part` to `into` (same variant): the training split of CIFAR-10 is
// five files read one after the other.
void append_images(ImageSet& into, const ImageSet& part);

// Writes `set` (3x32x32 images) in the record format. For CIFAR-100 the coarse
// labels come from `coarse_labels` (empty: all 0). Used by tests and tools.
void write_cifar(const std::string& path, const ImageSet& set, CifarVariant variant,
                 const std::vector<int64_t>& coarse_labels = {});

}  // namespace nesgd::data
