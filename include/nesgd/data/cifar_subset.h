// nesgd/data/cifar_subset.h - the cifar10-subset selection rule (torch-free).
//
// `cifar10-subset` is a small real CIFAR-10 for quick runs: a fixed,
// documented selection of records of the official CIFAR-10 binary files,
//   data_batch_1.bin  records 0-3,999 of the official data_batch_1.bin (the
//                     first 4,000 training images, in the official order);
//   test_batch.bin    every record of the official test_batch.bin with index
//                     0-999, then every later record whose label is airplane
//                     (0), automobile (1), ship (8) or truck (9), in index
//                     order: 4,593 records, so the test set is class-imbalanced
//                     (its first 1,000 records are a balanced-ish test set);
//   test_indices.txt  the official 0-based test index of each test record,
//                     one per line ("%d\n"), ascending;
//   batches.meta.txt  the ten class names in label order, one per line.
// Applied to the official files, the rule gives files byte-identical to the
// ones the registry lists (their SHA-256 are recorded there), so anyone who
// has CIFAR-10 can make the subset. This part only selects bytes: finding,
// verifying and writing files is resolve.h's job.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace nesgd::data {

constexpr int64_t kCifar10SubsetTrainRecords = 4000;  // the first records of data_batch_1.bin
constexpr int64_t kCifar10SubsetTestHead = 1000;      // test indices kept whatever their class
constexpr std::array<int64_t, 4> kCifar10SubsetTestClasses = {0, 1, 8, 9};  // kept beyond the head
extern const std::array<const char*, 10> kCifar10ClassNames;                 // airplane ... truck

// One file of a derived dataset, held in memory (name inside the dataset folder).
struct DerivedFile {
  std::string name;
  std::string content;
};

// Applies the rule above to the contents of the official data_batch_1.bin and
// test_batch.bin (CIFAR-10 records of 1 label byte + 3,072 pixel bytes).
// Returns data_batch_1.bin, test_batch.bin, test_indices.txt and
// batches.meta.txt, in that order. Throws nesgd::Error if a source is not a
// whole number of records, holds a label above 9, or has fewer than 4,000
// (training) or 1,000 (test) records.
std::vector<DerivedFile> select_cifar10_subset(const std::string& data_batch_1, const std::string& test_batch);

}  // namespace nesgd::data
