// nesgd/data/registry.h - the datasets nesgd knows, with official URLs and sums.
//
// A DatasetSpec is plain data: where a dataset's files come from, their sizes
// and SHA-256 sums (of the downloaded file and, for gzip files, of the
// decompressed content, which is what identifies the data whatever gzip header
// a redistributor wrote). Nothing here reads or downloads; see resolve.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nesgd::data {

// Which reader a dataset's files need.
enum class DataFormat { kIdx, kCifar10, kCifar100 };

struct DatasetFile {
  std::string name;        // file name inside the dataset folder, e.g. "train-images-idx3-ubyte.gz"
  uint64_t bytes = 0;      // size of the official file
  std::string sha256;      // SHA-256 of the official file; empty: none published (size and structure are checked)
  uint64_t raw_bytes = 0;  // size after gzip decompression (0 if not gzip)
  std::string raw_sha256;  // SHA-256 after decompression (empty if not gzip)
};

struct DatasetSpec {
  std::string name;         // registry key, e.g. "fashion-mnist"
  std::string folder;       // folder under a data root, e.g. "fashion-mnist"
  std::string description;  // one line for `nesgd data list`
  std::string base_url;     // official download base (empty: no download)
  std::string mirror_env;   // environment variable that overrides base_url
  std::vector<DatasetFile> files;
  std::vector<std::string> system_dirs;  // distribution package folders, searched after --data-dir/env
  int64_t num_classes = 0;
  DataFormat format = DataFormat::kIdx;
  // Datasets distributed as one archive (CIFAR's tar.gz): `archive` is that
  // file (name under base_url, size, SHA-256); it is downloaded, verified and
  // unpacked, and `folder` is the archive's top folder, holding `files`.
  // Empty name: each file is downloaded on its own.
  DatasetFile archive;
  // Datasets made from another registered dataset by a fixed selection of its
  // records (cifar10-subset, see cifar_subset.h): the source's name. Where no
  // root holds the dataset, fetching it locates (or fetches) the source,
  // applies the selection and checks every result against `files`' SHA-256
  // before writing it. Empty: not derived.
  std::string derived_from;
};

// All registered datasets, in a stable order.
const std::vector<DatasetSpec>& registered_datasets();

// Looks a dataset up by name; throws nesgd::Error listing the known names.
const DatasetSpec& find_dataset(const std::string& name);

// Bytes a fetch downloads when nothing is present: the archive, else the sum
// of the files; a derived dataset's are its source's. 0: no download URL.
uint64_t download_bytes(const DatasetSpec& spec);

}  // namespace nesgd::data
