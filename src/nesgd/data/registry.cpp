#include "nesgd/data/registry.h"

#include "nesgd/error.h"

namespace nesgd::data {
namespace {

// Sizes and sums from the official distribution (checked against the MD5s in
// the Fashion-MNIST README and the TensorFlow Datasets checksums). The raw_*
// fields identify the decompressed IDX content, which is what distribution
// packages with re-written gzip headers (Debian's) share with the official files.
DatasetSpec fashion_mnist() {
  DatasetSpec spec;
  spec.name = "fashion-mnist";
  spec.folder = "fashion-mnist";
  spec.description = "Fashion-MNIST (Xiao et al. 2017): 60,000 + 10,000 28x28 grey images, 10 classes";
  spec.base_url = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
  spec.mirror_env = "NESGD_FASHION_MNIST_MIRROR";
  spec.files = {
      {"train-images-idx3-ubyte.gz", 26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
       47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
      {"train-labels-idx1-ubyte.gz", 29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 60008,
       "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
      {"t10k-images-idx3-ubyte.gz", 4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
       7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
      {"t10k-labels-idx1-ubyte.gz", 5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 10008,
       "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
  };
  spec.system_dirs = {"/usr/share/datasets/fashion-mnist"};
  spec.num_classes = 10;
  return spec;
}

// CIFAR (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html), the
// official "binary version" archives. Their sizes and SHA-256 sums identify
// the archives; no sums are published for the files inside, so those are
// checked by size and record structure (and against the SHA256SUMS manifest
// written when nesgd unpacks a verified archive, see resolve.h).
constexpr const char* kCifarBaseUrl = "https://www.cs.toronto.edu/~kriz/";
constexpr uint64_t kCifar10FileBytes = 10000 * 3073;    // 10,000 records of 1 + 3072 bytes
constexpr uint64_t kCifar100TrainBytes = 50000 * 3074;  // 2 label bytes + 3072
constexpr uint64_t kCifar100TestBytes = 10000 * 3074;

DatasetSpec cifar10() {
  DatasetSpec spec;
  spec.name = "cifar10";
  spec.folder = "cifar-10-batches-bin";  // the archive's top folder
  spec.description = "CIFAR-10 (Krizhevsky 2009): 50,000 + 10,000 32x32 colour images, 10 classes";
  spec.base_url = kCifarBaseUrl;
  spec.mirror_env = "NESGD_CIFAR10_MIRROR";
  for (int i = 1; i <= 5; ++i) spec.files.push_back({"data_batch_" + std::to_string(i) + ".bin", kCifar10FileBytes, ""});
  spec.files.push_back({"test_batch.bin", kCifar10FileBytes, ""});
  spec.num_classes = 10;
  spec.format = DataFormat::kCifar10;
  spec.archive = {"cifar-10-binary.tar.gz", 170052171, "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"};
  return spec;
}

DatasetSpec cifar100() {
  DatasetSpec spec;
  spec.name = "cifar100";
  spec.folder = "cifar-100-binary";
  spec.description = "CIFAR-100 (Krizhevsky 2009): 50,000 + 10,000 32x32 colour images, 100 (fine) classes";
  spec.base_url = kCifarBaseUrl;
  spec.mirror_env = "NESGD_CIFAR100_MIRROR";
  spec.files = {{"train.bin", kCifar100TrainBytes, ""}, {"test.bin", kCifar100TestBytes, ""}};
  spec.num_classes = 100;
  spec.format = DataFormat::kCifar100;
  spec.archive = {"cifar-100-binary.tar.gz", 168513733, "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"};
  return spec;
}

// A small real CIFAR-10 for quick runs: the first 4,000 official training
// records and 4,593 class-imbalanced test records, selected from the official
// files by the rule in cifar_subset.h. The sums are those of the files the rule
// gives on the official CIFAR-10; a folder holding them (a data root, or a copy
// beside the checkout) is used as is, else they are derived from `cifar10`.
// Its own entry, so that `cifar10` stays strict about the six full files.
DatasetSpec cifar10_subset() {
  DatasetSpec spec;
  spec.name = "cifar10-subset";
  spec.folder = "cifar-10-subset";
  spec.description =
      "CIFAR-10 subset (derived from cifar10): 4,000 train + 4,593 test images (test set class-imbalanced), 10 classes";
  spec.files = {
      {"data_batch_1.bin", 12292000, "0993cf8b8e43bc207603aef9787006995746513f5e3fa5a52e06d1b069926330"},
      {"test_batch.bin", 14114289, "ce18a546eb53bba7cb2e7d3495fbd8a54b6af573e89216fc298b2b0f7e89fc6e"},
      {"test_indices.txt", 21855, "c788a1dc9406df210f9c371cde4dbf68a0ce6a8e78f15a71d1d93ac6fc8d22f0"},
      {"batches.meta.txt", 60, "2ce042b1e0b48db4bb214408e6414ba18b2731c24af244f2d6c112fddf31af00"},
  };
  spec.num_classes = 10;
  spec.format = DataFormat::kCifar10;
  spec.derived_from = "cifar10";
  return spec;
}

}  // namespace

const std::vector<DatasetSpec>& registered_datasets() {
  static const std::vector<DatasetSpec> datasets = {fashion_mnist(), cifar10(), cifar100(), cifar10_subset()};
  return datasets;
}

const DatasetSpec& find_dataset(const std::string& name) {
  std::string known;
  for (const auto& spec : registered_datasets()) {
    if (spec.name == name) {
      return spec;
    }
    known += (known.empty() ? "" : ", ") + spec.name;
  }
  if (name.rfind("npz:", 0) == 0) {
    throw Error("'" + name + "' is NumPy arrays read where they are (`--dataset " + name +
                "` of train, sweep and noise): it has no registry entry, nothing to fetch or verify");
  }
  throw Error("unknown dataset '" + name + "' (known: " + known +
              "; `nesgd data list` shows them; your own NumPy arrays: npz:PATH)");
}

uint64_t download_bytes(const DatasetSpec& spec) {
  if (!spec.derived_from.empty()) {
    return download_bytes(find_dataset(spec.derived_from));
  }
  if (spec.base_url.empty()) {
    return 0;
  }
  if (!spec.archive.name.empty()) {
    return spec.archive.bytes;
  }
  uint64_t total = 0;
  for (const auto& file : spec.files) {
    total += file.bytes;
  }
  return total;
}

}  // namespace nesgd::data
