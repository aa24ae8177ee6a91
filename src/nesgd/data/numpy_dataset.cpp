#include "nesgd/data/numpy_dataset.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "nesgd/data/sha256.h"
#include "nesgd/error.h"

namespace nesgd::data {
namespace {

namespace fs = std::filesystem;

const char* const kArrayNames[] = {"x_train", "y_train", "x_test", "y_test"};

// Sizes of a channel axis that detection recognizes: grey, RGB, RGBA.
bool is_channel_count(int64_t d) { return d == 1 || d == 3 || d == 4; }

NpyExpect image_expect(const std::string& variable) {
  return {variable, {NpyDtype::kUint8, NpyDtype::kFloat32},
          fmt::format("save it as float32 or uint8: {}.astype(np.float32)", variable)};
}

NpyExpect label_expect(const std::string& variable) {
  return {variable,
          {NpyDtype::kInt64, NpyDtype::kInt32, NpyDtype::kInt16, NpyDtype::kUint16, NpyDtype::kUint8},
          fmt::format("labels are integer class indices 0..K-1: {}.astype(np.int64)", variable)};
}

std::string dims_tuple(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

float load_f32(const uint8_t* p) {
  const uint32_t bits = load_le32(p);
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// One label, whatever integer dtype it was saved as (little-endian).
int64_t load_label(const NpyArray& a, std::size_t i) {
  const uint8_t* p = a.data.data() + i * npy_dtype_size(a.dtype);
  switch (a.dtype) {
    case NpyDtype::kUint8: return p[0];
    case NpyDtype::kInt16: return static_cast<int16_t>(static_cast<uint16_t>(p[0] | (p[1] << 8)));
    case NpyDtype::kUint16: return static_cast<uint16_t>(p[0] | (p[1] << 8));
    case NpyDtype::kInt32: return static_cast<int32_t>(load_le32(p));
    case NpyDtype::kInt64: return static_cast<int64_t>(uint64_t{load_le32(p)} | (uint64_t{load_le32(p + 4)} << 32));
    case NpyDtype::kFloat32: break;
  }
  throw Error("load_label: not an integer dtype");
}

// The index of flat element `flat` in `shape`, as NumPy prints it: [17, 3, 4].
std::string index_text(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    index[k] = flat % shape[k];
    flat /= shape[k];
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

struct ImageGeometry {
  bool nhwc = false;  // channels last in the file
  int64_t channels = 1, height = 0, width = 0;
};

// How x_train's shape is read (numpy_dataset.h states the rule).
ImageGeometry geometry(const std::string& name, const std::vector<int64_t>& shape, PixelLayout layout,
                       std::string* used) {
  ImageGeometry g;
  if (shape.size() == 3) {
    g.height = shape[1];
    g.width = shape[2];
    if (used) *used = "NHW (one channel)";
    return g;
  }
  if (shape.size() != 4) {
    throw Error(fmt::format("{} has shape {}: expected images (N, H, W), (N, H, W, C) or (N, C, H, W)", name,
                            dims_tuple(shape)));
  }
  const bool last = is_channel_count(shape[3]);
  const bool first = is_channel_count(shape[1]);
  if (layout == PixelLayout::kAuto) {
    const std::string flag = "pass --layout nhwc if it is (N, H, W, C) or --layout nchw if it is (N, C, H, W)";
    if (last && first) {
      throw Error(fmt::format("{} has shape {}, which is ambiguous: dims 1 and 3 could both be the channel axis (1, "
                              "3 or 4 channels). Fix: {}",
                              name, dims_tuple(shape), flag));
    }
    if (!last && !first) {
      throw Error(fmt::format("{} has shape {}: neither dim 1 nor dim 3 is a channel count that layout detection "
                              "knows (1, 3 or 4). Fix: {}",
                              name, dims_tuple(shape), flag));
    }
    g.nhwc = last;
  } else {
    g.nhwc = layout == PixelLayout::kNhwc;
  }
  g.channels = g.nhwc ? shape[3] : shape[1];
  g.height = g.nhwc ? shape[1] : shape[2];
  g.width = g.nhwc ? shape[2] : shape[3];
  if (used) *used = fmt::format("{} ({})", g.nhwc ? "NHWC" : "NCHW", layout == PixelLayout::kAuto ? "detected" : "--layout");
  return g;
}

// The pixels of one split as [N, C, H, W], converted from the file's layout.
template <typename T, typename Load>
std::vector<T> channel_major(const NpyArray& a, int64_t n, const ImageGeometry& g, Load load) {
  const int64_t c = g.channels, h = g.height, w = g.width;
  const std::size_t size = npy_dtype_size(a.dtype);
  std::vector<T> out(static_cast<std::size_t>(n * c * h * w));
  const uint8_t* src = a.data.data();
  if (!g.nhwc) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = load(src + i * size);
    return out;
  }
  std::size_t from = 0;  // walks the file's (N, H, W, C) order
  for (int64_t s = 0; s < n; ++s) {
    T* sample = out.data() + s * c * h * w;
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        for (int64_t ch = 0; ch < c; ++ch, from += size) sample[(ch * h + y) * w + x] = load(src + from);
      }
    }
  }
  return out;
}

// One split's images (converted to [N, C, H, W]) and labels (checked >= 0;
// their range is checked across both splits by the caller).
ImageSet make_split(const NumpyArrays& arrays, const std::string& x_name, const NpyArray& x,
                    const std::string& y_name, const NpyArray& y, const ImageGeometry& g) {
  const std::string xl = arrays.label(x_name), yl = arrays.label(y_name);
  const int64_t n = x.shape[0];
  if (n == 0) throw Error(fmt::format("{} has shape {}: it holds no images", xl, dims_tuple(x.shape)));
  const bool column = y.shape.size() == 2 && y.shape[1] == 1;
  if (y.shape.size() != 1 && !column) {
    throw Error(fmt::format("{} has shape {}: labels must be one-dimensional, (N,). Fix: {}.reshape(-1)", yl,
                            dims_tuple(y.shape), y_name));
  }
  if (y.shape[0] != n) {
    throw Error(fmt::format("{} holds {} labels but {} holds {} images: they must be as many", yl, y.shape[0], xl,
                            n));
  }

  ImageSet set;
  set.n = n;
  set.channels = g.channels;
  set.height = g.height;
  set.width = g.width;
  set.labels.resize(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < set.labels.size(); ++i) {
    const int64_t label = load_label(y, i);
    if (label < 0) {
      throw Error(fmt::format("{}: label {} at index {} is negative; labels are class indices 0..K-1", yl, label, i));
    }
    set.labels[i] = label;
  }
  if (x.dtype == NpyDtype::kFloat32) {
    const std::size_t count = static_cast<std::size_t>(x.count());
    for (std::size_t i = 0; i < count; ++i) {
      const float v = load_f32(x.data.data() + 4 * i);
      if (!std::isfinite(v)) {
        throw Error(fmt::format("{} holds {} at index {} (the first non-finite value): pixels must be finite. Fix: "
                                "replace or drop those images, e.g. np.nan_to_num({})",
                                xl, std::isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf",
                                index_text(x.shape, static_cast<int64_t>(i)), x_name));
      }
    }
    set.pixels_f32 = channel_major<float>(x, n, g, load_f32);
  } else {
    set.images = channel_major<uint8_t>(x, n, g, [](const uint8_t* p) { return *p; });
  }
  return set;
}

std::string expand_home(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') throw Error("npz:" + path + ": HOME is not set, so ~ means nothing; give the full path");
  return std::string(home) + path.substr(1);
}

}  // namespace

bool is_numpy_dataset(const std::string& name) { return name.rfind(kNumpyDatasetPrefix, 0) == 0; }

PixelLayout pixel_layout_from_string(const std::string& text) {
  if (text == "auto") return PixelLayout::kAuto;
  if (text == "nhwc") return PixelLayout::kNhwc;
  if (text == "nchw") return PixelLayout::kNchw;
  throw Error("unknown layout '" + text + "': use auto, nhwc (N, H, W, C) or nchw (N, C, H, W)");
}

const char* to_string(PixelLayout layout) {
  switch (layout) {
    case PixelLayout::kAuto: return "auto";
    case PixelLayout::kNhwc: return "nhwc";
    case PixelLayout::kNchw: return "nchw";
  }
  return "?";
}

std::string NumpyArrays::label(const std::string& array) const {
  return folder ? (fs::path(path) / (array + ".npy")).string() : path + ": " + array + ".npy";
}

NumpyArrays read_numpy_arrays(const std::string& path) {
  NumpyArrays arrays;
  arrays.path = path;
  NpyArray* slots[] = {&arrays.x_train, &arrays.y_train, &arrays.x_test, &arrays.y_test};
  auto expect = [](const std::string& name) { return name[0] == 'x' ? image_expect(name) : label_expect(name); };
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    throw Error(fmt::format("{}: no such file or folder. --dataset npz:PATH takes an .npz file (np.savez) or a folder "
                            "holding x_train.npy, y_train.npy, x_test.npy and y_test.npy",
                            path));
  }
  if (fs::is_directory(status)) {
    arrays.folder = true;
    std::vector<std::string> missing;
    for (const char* name : kArrayNames) {
      if (!fs::is_regular_file(arrays.label(name), ec)) missing.push_back(std::string(name) + ".npy");
    }
    if (!missing.empty()) {
      std::string npz_hint;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (entry.path().extension() == ".npz") {
          npz_hint = fmt::format(" (to read {} instead, pass --dataset npz:{})", entry.path().filename().string(),
                                 entry.path().string());
          break;
        }
      }
      throw Error(fmt::format("{} lacks {}: a NumPy dataset folder holds x_train.npy, y_train.npy, x_test.npy and "
                              "y_test.npy (np.save each){}",
                              path, fmt::join(missing, ", "), npz_hint));
    }
    for (std::size_t i = 0; i < 4; ++i) *slots[i] = read_npy(arrays.label(kArrayNames[i]), expect(kArrayNames[i]));
    return arrays;
  }
  const NpzFile npz(path);
  for (std::size_t i = 0; i < 4; ++i) *slots[i] = npz.read_array(kArrayNames[i], expect(kArrayNames[i]));
  return arrays;
}

DatasetSplits numpy_splits(const NumpyArrays& arrays, PixelLayout layout, std::string* layout_used) {
  const NpyArray& xtr = arrays.x_train;
  const NpyArray& xte = arrays.x_test;
  const ImageGeometry g = geometry(arrays.label("x_train"), xtr.shape, layout, layout_used);
  if (g.channels <= 0 || g.height <= 0 || g.width <= 0) {
    throw Error(fmt::format("{} has shape {}: images need at least one channel, row and column",
                            arrays.label("x_train"), dims_tuple(xtr.shape)));
  }
  if (xte.shape.size() != xtr.shape.size()) {
    throw Error(fmt::format("{} has shape {} but {} has shape {}: train and test images must have the same number "
                            "of dimensions",
                            arrays.label("x_train"), dims_tuple(xtr.shape), arrays.label("x_test"),
                            dims_tuple(xte.shape)));
  }
  if (xtr.dtype != xte.dtype) {
    throw Error(fmt::format("{} is {} but {} is {}: save both with the same dtype (uint8 pixels are scaled by 1/255, "
                            "float32 pixels are taken as they are)",
                            arrays.label("x_train"), npy_dtype_name(xtr.dtype), arrays.label("x_test"),
                            npy_dtype_name(xte.dtype)));
  }
  ImageGeometry gt = g;
  if (xte.shape.size() == 4) {
    gt.channels = g.nhwc ? xte.shape[3] : xte.shape[1];
    gt.height = g.nhwc ? xte.shape[1] : xte.shape[2];
    gt.width = g.nhwc ? xte.shape[2] : xte.shape[3];
  } else {
    gt.height = xte.shape[1];
    gt.width = xte.shape[2];
  }
  if (gt.channels != g.channels || gt.height != g.height || gt.width != g.width) {
    throw Error(fmt::format("{} holds {}x{}x{} images (CxHxW) but {} holds {}x{}x{}: train and test images must agree",
                            arrays.label("x_train"), g.channels, g.height, g.width, arrays.label("x_test"),
                            gt.channels, gt.height, gt.width));
  }

  DatasetSplits splits;
  splits.train = make_split(arrays, "x_train", xtr, "y_train", arrays.y_train, g);
  splits.test = make_split(arrays, "x_test", xte, "y_test", arrays.y_test, gt);
  const auto& train_labels = splits.train.labels;
  const int64_t top = *std::max_element(train_labels.begin(), train_labels.end());
  if (top >= kMaxNumpyClasses) {
    throw Error(fmt::format("{}: largest label {} would mean {} classes, over the {} nesgd accepts: are these class "
                            "indices 0..K-1?",
                            arrays.label("y_train"), top, top + 1, kMaxNumpyClasses));
  }
  const auto& test_labels = splits.test.labels;
  for (std::size_t i = 0; i < test_labels.size(); ++i) {
    if (test_labels[i] > top) {
      throw Error(fmt::format("{}: label {} at index {} is out of the training labels' range 0..{}: the test set "
                              "has a class that y_train never shows",
                              arrays.label("y_test"), test_labels[i], i, top));
    }
  }
  splits.train.num_classes = top + 1;
  splits.test.num_classes = top + 1;
  return splits;
}

DatasetSplits load_numpy_dataset(const std::string& path_text, PixelLayout layout) {
  if (path_text.empty()) {
    throw Error("--dataset npz: needs a path: npz:PATH, where PATH is an .npz file (np.savez) or a folder holding "
                "x_train.npy, y_train.npy, x_test.npy and y_test.npy");
  }
  std::error_code ec;
  const std::string path = fs::absolute(expand_home(path_text), ec).lexically_normal().string();
  const NumpyArrays arrays = read_numpy_arrays(ec ? path_text : path);
  std::string layout_used;
  DatasetSplits splits = numpy_splits(arrays, layout, &layout_used);
  splits.name = kNumpyDatasetPrefix + path_text;
  std::string sums;
  if (arrays.folder) {
    for (const char* name : kArrayNames) {
      sums += fmt::format("{}{}.npy sha256 {}", sums.empty() ? "" : ", ", name, sha256_file(arrays.label(name)));
    }
  } else {
    sums = "sha256 " + sha256_file(arrays.path);
  }
  const ImageSet& t = splits.train;
  splits.source = fmt::format("{} ({}; {} pixels, {}, {}x{}x{} images (CxHxW), {} classes)", arrays.path, sums,
                              npy_dtype_name(arrays.x_train.dtype), layout_used, t.channels, t.height, t.width,
                              t.num_classes);
  return splits;
}

}  // namespace nesgd::data
