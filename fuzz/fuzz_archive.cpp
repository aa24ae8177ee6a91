// Fuzz target: a dataset archive (CIFAR's .tar.gz) through
// data::extract_members, asking for two members the way the dataset fetch
// does (each with its expected size, one CIFAR-10 record here), then reading
// what was unpacked with data::read_cifar. libarchive itself is not
// instrumented: what is fuzzed is nesgd's use of it (formats and filters
// allowed, member selection, size checks, staging, cleanup).
// Seeds: corpus/archive/ (tar, tar.gz, tar.bz2, tar.xz; good and broken).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "nesgd/data/archive.h"
#include "nesgd/data/cifar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nesgd;
  const std::string path = fuzz::write_scratch("input-archive", data, size);
  const std::string out = fuzz::scratch_dir() + "/unpacked";
  const std::string first = out + "/data_batch_1.bin", second = out + "/test_batch.bin";
  ::unlink(first.c_str());
  ::unlink(second.c_str());
  std::vector<data::ArchiveMember> members{
      {"cifar-10-batches-bin/data_batch_1.bin", first, uint64_t{data::kCifarPixelBytes + 1}, ""},
      {"cifar-10-batches-bin/test_batch.bin", second, uint64_t{data::kCifarPixelBytes + 1}, ""},
  };
  fuzz::expect_only_nesgd_errors([&] {
    data::extract_members(path, members);
    if (members[0].sha256.size() != 64 || members[1].sha256.size() != 64) std::abort();
    data::read_cifar(first, data::CifarVariant::kCifar10);
    data::read_cifar(second, data::CifarVariant::kCifar10);
  });
  return 0;
}
