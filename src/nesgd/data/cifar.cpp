#include "nesgd/data/cifar.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "nesgd/data/sha256.h"
#include "nesgd/error.h"

namespace nesgd::data {
namespace {

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Records are read in groups of this many to keep reads large.
constexpr int64_t kRecordsPerRead = 1000;

const char* variant_name(CifarVariant v) { return v == CifarVariant::kCifar10 ? "CIFAR-10" : "CIFAR-100"; }

}  // namespace

int64_t cifar_label_bytes(CifarVariant v) { return v == CifarVariant::kCifar10 ? 1 : 2; }
int64_t cifar_record_bytes(CifarVariant v) { return cifar_label_bytes(v) + kCifarPixelBytes; }
int64_t cifar_num_classes(CifarVariant v) { return v == CifarVariant::kCifar10 ? 10 : 100; }

CifarReadResult read_cifar(const std::string& path, CifarVariant variant) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path + ": file not found");
  if (fs::is_directory(path, ec)) throw Error(path + ": is a directory, expected a " + variant_name(variant) + " .bin file");
  const uint64_t size = fs::file_size(path, ec);
  if (ec) throw Error(path + ": cannot read its size: " + ec.message());
  const int64_t record = cifar_record_bytes(variant);
  if (size == 0) throw Error(fmt::format("{}: file is empty, expected {}-byte {} records", path, record, variant_name(variant)));
  if (size % static_cast<uint64_t>(record) != 0) {
    throw Error(fmt::format(
        "{}: size {} bytes is not a whole number of {}-byte {} records ({} records and {} bytes left over): the file "
        "is truncated or not {} binary data. Fix: delete it and fetch the dataset again",
        path, size, record, variant_name(variant), size / record, size % record, variant_name(variant)));
  }
  File file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error(path + ": cannot open: " + std::strerror(errno));

  const int64_t n = static_cast<int64_t>(size / static_cast<uint64_t>(record));
  const int64_t label_bytes = cifar_label_bytes(variant);
  const int64_t classes = cifar_num_classes(variant);
  CifarReadResult result;
  result.bytes = size;
  ImageSet& set = result.images;
  set.n = n;
  set.channels = kCifarChannels;
  set.height = kCifarSide;
  set.width = kCifarSide;
  set.num_classes = classes;
  set.images.resize(static_cast<std::size_t>(n * kCifarPixelBytes));
  set.labels.resize(static_cast<std::size_t>(n));
  if (variant == CifarVariant::kCifar100) result.coarse_labels.resize(static_cast<std::size_t>(n));

  Sha256 hasher;
  std::vector<uint8_t> buffer(static_cast<std::size_t>(std::min(kRecordsPerRead, n) * record));
  for (int64_t first = 0; first < n; first += kRecordsPerRead) {
    const int64_t count = std::min(kRecordsPerRead, n - first);
    const std::size_t want = static_cast<std::size_t>(count * record);
    if (std::fread(buffer.data(), 1, want, file.get()) != want) {
      throw Error(fmt::format("{}: read error at record {}: {}", path, first,
                              std::ferror(file.get()) ? std::strerror(errno) : "file shrank while reading"));
    }
    hasher.update(buffer.data(), want);
    for (int64_t i = 0; i < count; ++i) {
      const uint8_t* rec = buffer.data() + i * record;
      const int64_t index = first + i;
      // CIFAR-100: rec[0] is the coarse label, rec[1] the fine one.
      const int64_t label = rec[label_bytes - 1];
      if (label >= classes) {
        throw Error(fmt::format("{}: record {} has label {}, out of range [0, {}) for {}: not {} data?", path, index,
                                label, classes, variant_name(variant), variant_name(variant)));
      }
      set.labels[static_cast<std::size_t>(index)] = label;
      if (variant == CifarVariant::kCifar100) {
        if (rec[0] >= kCifar100CoarseClasses) {
          throw Error(fmt::format("{}: record {} has coarse label {}, out of range [0, {}): not CIFAR-100 data?", path,
                                  index, rec[0], kCifar100CoarseClasses));
        }
        result.coarse_labels[static_cast<std::size_t>(index)] = rec[0];
      }
      std::memcpy(set.images.data() + index * kCifarPixelBytes, rec + label_bytes, kCifarPixelBytes);
    }
  }
  result.sha256 = hasher.hex_digest();
  return result;
}

void append_images(ImageSet& into, const ImageSet& part) {
  if (into.n == 0 && into.images.empty()) {
    into = part;
    return;
  }
  if (into.sample_size() != part.sample_size() || into.num_classes != part.num_classes) {
    throw Error("append_images: image shape or class count differ");
  }
  into.images.insert(into.images.end(), part.images.begin(), part.images.end());
  into.labels.insert(into.labels.end(), part.labels.begin(), part.labels.end());
  into.n += part.n;
}

void write_cifar(const std::string& path, const ImageSet& set, CifarVariant variant,
                 const std::vector<int64_t>& coarse_labels) {
  if (set.channels != kCifarChannels || set.height != kCifarSide || set.width != kCifarSide) {
    throw Error(fmt::format("write_cifar {}: images are {}x{}x{}, the format holds 3x32x32", path, set.channels,
                            set.height, set.width));
  }
  if (static_cast<int64_t>(set.labels.size()) != set.n ||
      static_cast<int64_t>(set.images.size()) != set.n * kCifarPixelBytes) {
    throw Error("write_cifar " + path + ": image or label count does not match n");
  }
  File file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
  std::vector<uint8_t> rec(static_cast<std::size_t>(cifar_record_bytes(variant)));
  const int64_t label_bytes = cifar_label_bytes(variant);
  for (int64_t i = 0; i < set.n; ++i) {
    rec[label_bytes - 1] = static_cast<uint8_t>(set.labels[static_cast<std::size_t>(i)]);
    if (variant == CifarVariant::kCifar100) {
      rec[0] = coarse_labels.empty() ? 0 : static_cast<uint8_t>(coarse_labels[static_cast<std::size_t>(i)]);
    }
    std::memcpy(rec.data() + label_bytes, set.images.data() + i * kCifarPixelBytes, kCifarPixelBytes);
    if (std::fwrite(rec.data(), 1, rec.size(), file.get()) != rec.size()) {
      throw Error(path + ": write failed (disk full?)");
    }
  }
  if (std::fflush(file.get()) != 0) throw Error(path + ": write failed (disk full?)");
}

}  // namespace nesgd::data
