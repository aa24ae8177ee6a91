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

}  // namespace

const std::vector<DatasetSpec>& registered_datasets() {
  static const std::vector<DatasetSpec> datasets = {fashion_mnist()};
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
  throw Error("unknown dataset '" + name + "' (known: " + known + "; `nesgd data list` shows them)");
}

}  // namespace nesgd::data
