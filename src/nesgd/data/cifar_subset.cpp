#include "nesgd/data/cifar_subset.h"

#include <fmt/format.h>

#include <algorithm>

#include "nesgd/data/cifar.h"
#include "nesgd/error.h"

namespace nesgd::data {

const std::array<const char*, 10> kCifar10ClassNames = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                        "dog",      "frog",       "horse", "ship", "truck"};

namespace {

// Number of whole CIFAR-10 records in `bytes`; throws for a partial record or a bad label.
int64_t count_records(const std::string& bytes, const char* what) {
  const auto record = static_cast<std::size_t>(cifar_record_bytes(CifarVariant::kCifar10));
  if (bytes.size() % record != 0) {
    throw Error(fmt::format("{}: {} bytes is not a whole number of {}-byte CIFAR-10 records", what, bytes.size(),
                            record));
  }
  const auto n = static_cast<int64_t>(bytes.size() / record);
  for (int64_t i = 0; i < n; ++i) {
    const auto label = static_cast<uint8_t>(bytes[static_cast<std::size_t>(i) * record]);
    if (label >= cifar_num_classes(CifarVariant::kCifar10)) {
      throw Error(fmt::format("{}: record {} has label {}, out of range [0, 10)", what, i, label));
    }
  }
  return n;
}

}  // namespace

std::vector<DerivedFile> select_cifar10_subset(const std::string& data_batch_1, const std::string& test_batch) {
  const auto record = static_cast<std::size_t>(cifar_record_bytes(CifarVariant::kCifar10));
  const int64_t n_train = count_records(data_batch_1, "data_batch_1.bin");
  const int64_t n_test = count_records(test_batch, "test_batch.bin");
  if (n_train < kCifar10SubsetTrainRecords || n_test < kCifar10SubsetTestHead) {
    throw Error(fmt::format("cifar10-subset needs at least {} training and {} test records; the source has {} and {}",
                            kCifar10SubsetTrainRecords, kCifar10SubsetTestHead, n_train, n_test));
  }
  std::vector<DerivedFile> files(4);
  files[0].name = "data_batch_1.bin";
  files[0].content = data_batch_1.substr(0, static_cast<std::size_t>(kCifar10SubsetTrainRecords) * record);

  files[1].name = "test_batch.bin";
  files[2].name = "test_indices.txt";
  for (int64_t i = 0; i < n_test; ++i) {
    const std::size_t at = static_cast<std::size_t>(i) * record;
    const int64_t label = static_cast<uint8_t>(test_batch[at]);
    const bool kept_class = std::find(kCifar10SubsetTestClasses.begin(), kCifar10SubsetTestClasses.end(), label) !=
                            kCifar10SubsetTestClasses.end();
    if (i < kCifar10SubsetTestHead || kept_class) {
      files[1].content.append(test_batch, at, record);
      files[2].content += fmt::format("{}\n", i);
    }
  }

  files[3].name = "batches.meta.txt";
  for (const char* name : kCifar10ClassNames) {
    files[3].content += std::string(name) + "\n";
  }
  return files;
}

}  // namespace nesgd::data
