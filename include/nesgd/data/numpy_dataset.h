// nesgd/data/numpy_dataset.h - a dataset from NumPy arrays: `--dataset npz:PATH`.
//
// PATH is an .npz (np.savez or np.savez_compressed) holding the arrays
// x_train, y_train, x_test and y_test, or a folder holding x_train.npy,
// y_train.npy, x_test.npy and y_test.npy. No registry, no download: the
// files are read as they are (npy.h) and the record's source names the path
// and its SHA-256. Other arrays in the archive or folder are ignored.
//
// Images (x_*): uint8 pixels, scaled by 1/255 when they become tensors as
// those of the registered datasets are, or float32 pixels, taken as they are;
// x_train and x_test must share the dtype. Shapes: (N, H, W) is one channel;
// (N, H, W, C) is NHWC and (N, C, H, W) is NCHW. PixelLayout::kAuto decides
// a 4-D shape from x_train's dims 1 and 3: the one whose size is 1, 3 or 4
// (grey, RGB, RGBA) is the channel axis. When both are (e.g. (N, 3, 4, 3)) or
// neither is (e.g. (N, 28, 28, 2)) the layout is ambiguous and loading fails
// asking for --layout nhwc or nchw, which is then taken as given (any channel
// count). A 3-D shape has no channel axis; the layout does not apply to it.
// Train and test images must agree in C, H and W. Float pixels must be finite.
//
// Labels (y_*): int64, int32, int16, uint16 or uint8, shape (N,) or (N, 1)
// (Keras's CIFAR loaders give the latter), as many as the images, all >= 0.
// The class count is y_train's largest label + 1; a y_test label beyond that
// is an error (a class the model never saw in training).
//
// Every error names the file, the array and the fix. Torch-free.
#pragma once

#include <string>

#include "nesgd/data/dataset.h"
#include "nesgd/data/npy.h"

namespace nesgd::data {

// Dataset names that start with this are NumPy datasets: "npz:PATH".
constexpr const char* kNumpyDatasetPrefix = "npz:";

bool is_numpy_dataset(const std::string& name);

// Where a 4-D image array keeps its channels.
enum class PixelLayout { kAuto, kNhwc, kNchw };

// "auto", "nhwc", "nchw"; throws nesgd::Error for anything else.
PixelLayout pixel_layout_from_string(const std::string& text);
const char* to_string(PixelLayout layout);

// The largest class count accepted (a label of 70,000 in an image dataset is
// a mistake, not a 70,001-way classification).
constexpr int64_t kMaxNumpyClasses = 65536;

// The four arrays as read, before they are checked against each other.
struct NumpyArrays {
  std::string path;     // the .npz or the folder
  bool folder = false;  // a folder of .npy files
  NpyArray x_train, y_train, x_test, y_test;

  // How errors name one array: "PATH: x_train.npy" (.npz) or "PATH/x_train.npy" (folder).
  std::string label(const std::string& array) const;
};

// Reads the four arrays of an .npz or a folder of .npy files, refusing
// dtypes other than those above. Throws nesgd::Error.
NumpyArrays read_numpy_arrays(const std::string& path);

// Checks the arrays against each other (the rules above) and builds the two
// splits; name and source are left to the caller. `layout_used`, when given,
// receives how x was read: "NHWC", "NCHW" or "NHW" and whether --layout or
// detection chose it. Throws nesgd::Error.
DatasetSplits numpy_splits(const NumpyArrays& arrays, PixelLayout layout, std::string* layout_used = nullptr);

// Reads and checks `path` (an .npz or a folder; "~/" means $HOME). The
// splits' name is "npz:PATH"; their source is the absolute path, the SHA-256
// of each file read, and the layout, dtype, image shape and class count.
DatasetSplits load_numpy_dataset(const std::string& path, PixelLayout layout);

}  // namespace nesgd::data
