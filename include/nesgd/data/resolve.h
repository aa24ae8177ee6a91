// nesgd/data/resolve.h - find, fetch, verify and load a registered dataset.
//
// Resolution order (the first root holding the dataset's folder wins):
//   1. DataOptions::data_dir (the --data-dir flag)      DIR/<folder>/
//   2. the NESGD_DATA_DIR environment variable           $NESGD_DATA_DIR/<folder>/
//   3. distribution packages (DatasetSpec::system_dirs), e.g. Debian's
//      dataset-fashion-mnist in /usr/share/datasets/fashion-mnist/
//   4. the user cache, $XDG_CACHE_HOME/nesgd or ~/.cache/nesgd, filled by a
//      verified download on first use (when allow_download is true).
// A root named explicitly (1 or 2) that lacks the dataset is an error, not a
// silent fall-through: the user asked for that folder.
// Every file is checked against the registry's SHA-256 of its decompressed
// content while it is read, so a corrupt or foreign file is refused whatever
// root it came from.
// Datasets shipped as one archive (CIFAR, DatasetSpec::archive) are fetched
// as that archive, verified by its SHA-256, unpacked in process (libarchive)
// into <root>/<folder>/, and the SHA-256 of every unpacked file is written to
// <folder>/SHA256SUMS; later checks use those sums (no per-file sums are
// published), and a file without one is checked by size and record structure.
// Derived datasets (DatasetSpec::derived_from: cifar10-subset) found in no
// root are made on first use: their source is located in any root (or
// fetched), the selection rule is applied, and the results are written into
// the cache (or the --data-dir / NESGD_DATA_DIR root of `nesgd data fetch`)
// only if each matches the registry's SHA-256. Without a download this needs
// the source already present.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nesgd/data/dataset.h"
#include "nesgd/data/numpy_dataset.h"
#include "nesgd/data/registry.h"

namespace nesgd::data {

// What fetching says while it works, for a program to show (the CLI prints it
// on stderr). Both members may be empty, as they are by default: the library
// itself never prints.
struct DataReport {
  // One finished line, without its newline: "downloading URL -> PATH",
  // "  PATH: present, sha256 ok", "  unpacked 8 files into FOLDER".
  std::function<void(const std::string& line)> message;
  // Bytes of `file` downloaded so far, of `total` (0: unknown). A download's
  // calls come between its "downloading" line and the next line or error.
  std::function<void(const std::string& file, uint64_t got, uint64_t total)> progress;
};

struct DataOptions {
  std::string data_dir;         // --data-dir; empty: unset
  std::string mirror;           // --mirror base URL; empty: $<spec.mirror_env>, then the official URL
  std::string cache_dir;        // empty: $XDG_CACHE_HOME/nesgd or ~/.cache/nesgd
  bool allow_download = true;   // false: never touch the network
  bool verify = true;           // check SHA-256 of every file while loading
  bool use_environment = true;  // read NESGD_DATA_DIR / mirror env (tests turn this off)
  bool use_system_dirs = true;  // look in distribution package folders
  DataReport report;            // what fetching says; default: nothing
  PixelLayout layout = PixelLayout::kAuto;  // --layout: how npz: image arrays hold their channels
};

struct Located {
  std::string folder;  // absolute folder holding the dataset's files
  std::string origin;  // "--data-dir", "NESGD_DATA_DIR", "system package", "cache" (+ how it got there)
};

// The user cache root (no dataset folder appended).
std::string default_cache_dir();

// Finds the folder per the order above without downloading; throws nesgd::Error
// explaining every place looked and how to fix it when none has the dataset.
Located locate_dataset(const DatasetSpec& spec, const DataOptions& options);

// Downloads (or, for a derived dataset, makes) every missing or invalid file of
// `spec` into the cache (or into options.data_dir / NESGD_DATA_DIR when set).
// Returns the folder. Throws nesgd::Error.
std::string fetch_dataset(const DatasetSpec& spec, const DataOptions& options);

struct FileCheck {
  std::string file;
  bool ok = false;
  std::string detail;  // "sha256 ok (decompressed)", "missing", "sha256 mismatch: got ..., want ..."
};

// Checks every file of the located dataset; never throws for bad files (it
// reports them), throws only if the dataset cannot be located at all.
std::vector<FileCheck> verify_dataset(const DatasetSpec& spec, const DataOptions& options, Located* where = nullptr);

// Locates (downloading if allowed and needed), reads, validates and returns
// the train and test splits. A name "npz:PATH" reads NumPy arrays from PATH
// instead (numpy_dataset.h: no registry, no download, options.layout applies).
// Throws nesgd::Error.
DatasetSplits load_dataset(const std::string& name, const DataOptions& options);

}  // namespace nesgd::data
