// The .npy/.npz readers and NumPy datasets (`--dataset npz:PATH`): files
// written here byte for byte per the NPY format and the zip format (stored and
// deflated entries), files written by NumPy itself (tests/testdata/npz), every
// accepted dtype and layout, and every refusal with the message that names the
// file, the array and the fix.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

#include "nesgd/data/npy.h"
#include "nesgd/data/numpy_dataset.h"
#include "nesgd/data/resolve.h"
#include "nesgd/data/sha256.h"
#include "nesgd/error.h"
#include "support/data.h"
#include "support/fs.h"

namespace fs = std::filesystem;
using namespace nesgd::data;
using nesgd::testing::expect_error;

namespace {

using Bytes = std::vector<uint8_t>;

// --- a tiny NPY and zip writer ------------------------------------------------------------------

void put_le(Bytes& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

std::string shape_literal(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// The header dict exactly as NumPy's write_array spells it.
std::string header_dict(const std::string& descr, const std::vector<int64_t>& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape_literal(shape) + ", }";
}

// An .npy image: magic, version, header length, `dict` padded with spaces and
// '\n' to a multiple of 64 bytes (the NPY spec), then `data`.
Bytes npy_raw(const std::string& dict, const Bytes& data, int major = 1) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  const std::size_t total = preamble + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  put_le(out, header.size(), major == 1 ? 2 : 4);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes npy(const std::string& descr, const std::vector<int64_t>& shape, const Bytes& data, int major = 1) {
  return npy_raw(header_dict(descr, shape), data, major);
}

// Little-endian element bytes of `values` as an integer type of `size` bytes.
Bytes ints(const std::vector<int64_t>& values, int size) {
  Bytes out;
  for (int64_t v : values) put_le(out, static_cast<uint64_t>(v), size);
  return out;
}

Bytes floats(const std::vector<float>& values) {
  Bytes out;
  for (float f : values) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    put_le(out, bits, 4);
  }
  return out;
}

struct ZipEntry {
  std::string name;
  Bytes data;
  bool deflate = false;
};

// Raw deflate of `data`: zlib's compress() output without its 2-byte header and Adler-32 trailer.
Bytes raw_deflate(const Bytes& data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  Bytes z(size);
  EXPECT_EQ(compress(z.data(), &size, data.data(), static_cast<uLong>(data.size())), Z_OK);
  return Bytes(z.begin() + 2, z.begin() + static_cast<std::ptrdiff_t>(size) - 4);
}

// A zip archive (local headers, data, central directory, end record), as np.savez writes one.
Bytes zip(const std::vector<ZipEntry>& entries) {
  Bytes out, directory;
  for (const auto& e : entries) {
    const Bytes body = e.deflate ? raw_deflate(e.data) : e.data;
    const uint32_t crc = static_cast<uint32_t>(crc32(0, e.data.data(), static_cast<uInt>(e.data.size())));
    const uint16_t method = e.deflate ? 8 : 0;
    const uint64_t offset = out.size();
    auto common = [&](Bytes& r) {
      put_le(r, 20, 2);  // version needed
      put_le(r, 0, 2);   // flags
      put_le(r, method, 2);
      put_le(r, 0, 4);  // time, date
      put_le(r, crc, 4);
      put_le(r, body.size(), 4);
      put_le(r, e.data.size(), 4);
      put_le(r, e.name.size(), 2);
      put_le(r, 0, 2);  // extra
    };
    put_le(out, 0x04034b50, 4);
    common(out);
    out.insert(out.end(), e.name.begin(), e.name.end());
    out.insert(out.end(), body.begin(), body.end());
    put_le(directory, 0x02014b50, 4);
    put_le(directory, 20, 2);  // version made by
    common(directory);
    put_le(directory, 0, 2);  // comment
    put_le(directory, 0, 2);  // disk
    put_le(directory, 0, 2);  // internal attributes
    put_le(directory, 0, 4);  // external attributes
    put_le(directory, offset, 4);
    directory.insert(directory.end(), e.name.begin(), e.name.end());
  }
  const uint64_t directory_offset = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);  // disks
  put_le(out, entries.size(), 2);
  put_le(out, entries.size(), 2);
  put_le(out, directory.size(), 4);
  put_le(out, directory_offset, 4);
  put_le(out, 0, 2);  // comment
  return out;
}

// --- a small dataset ------------------------------------------------------------------------------

// Train: 5 images, test: 2, of C x H x W (by default H x W = 5 x 6, which layout
// detection never takes for channels). Within an image every pixel differs.
constexpr int64_t kH = 5;
constexpr int64_t kW = 6;
uint8_t pixel(int64_t n, int64_t c, int64_t h, int64_t w) { return static_cast<uint8_t>((61 * n + 50 * c + 8 * h + w) % 256); }

// The pixels of n images in [N, C, H, W] (nchw) or [N, H, W, C] order.
Bytes pixels(int64_t n, int64_t c, int64_t h, int64_t w, bool nhwc) {
  Bytes out;
  for (int64_t s = 0; s < n; ++s) {
    if (nhwc) {
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          for (int64_t ch = 0; ch < c; ++ch) out.push_back(pixel(s, ch, y, x));
    } else {
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x) out.push_back(pixel(s, ch, y, x));
    }
  }
  return out;
}

const std::vector<int64_t> kTrainLabels = {0, 2, 1, 2, 0};
const std::vector<int64_t> kTestLabels = {1, 2};

class NpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "nesgd-npy-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { nesgd::testing::remove_tree(dir_.string()); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write(const std::string& name, const Bytes& bytes) const {
    const std::string p = path(name);
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good()) << p;
    return p;
  }

  // The four standard arrays, each replaceable.
  std::map<std::string, Bytes> arrays(int64_t channels = 3, bool nhwc = true, int64_t h = kH, int64_t w = kW) const {
    const std::vector<int64_t> train = nhwc ? std::vector<int64_t>{5, h, w, channels}
                                            : std::vector<int64_t>{5, channels, h, w};
    const std::vector<int64_t> test = nhwc ? std::vector<int64_t>{2, h, w, channels}
                                           : std::vector<int64_t>{2, channels, h, w};
    // Test images are the pixel formula at n = 5, 6.
    Bytes test_pixels = pixels(7, channels, h, w, nhwc);
    test_pixels.erase(test_pixels.begin(), test_pixels.begin() + 5 * channels * h * w);
    return {{"x_train", npy("|u1", train, pixels(5, channels, h, w, nhwc))},
            {"y_train", npy("<i8", {5}, ints(kTrainLabels, 8))},
            {"x_test", npy("|u1", test, test_pixels)},
            {"y_test", npy("<i8", {2}, ints(kTestLabels, 8))}};
  }

  std::string write_npz(const std::string& name, const std::map<std::string, Bytes>& a, bool deflate = false) const {
    std::vector<ZipEntry> entries;
    for (const char* key : {"x_train", "y_train", "x_test", "y_test"}) {
      if (a.count(key)) entries.push_back({std::string(key) + ".npy", a.at(key), deflate});
    }
    return write(name, zip(entries));
  }

  std::string write_folder(const std::string& name, const std::map<std::string, Bytes>& a) const {
    for (const auto& [key, bytes] : a) write(name + "/" + key + ".npy", bytes);
    return path(name);
  }

  // Loading `where` must fail with every fragment (and name `where` itself).
  static void expect_load_error(const std::string& where, const std::vector<std::string>& fragments,
                                PixelLayout layout = PixelLayout::kAuto) {
    std::vector<std::string> all = fragments;
    all.push_back(where);
    expect_error([&] { load_numpy_dataset(where, layout); }, all);
  }

  fs::path dir_;
};

// The splits hold the pixel formula in [N, C, H, W] order and the labels.
void expect_standard(const DatasetSplits& s, int64_t channels, int64_t h = kH, int64_t w = kW) {
  ASSERT_EQ(s.train.n, 5);
  ASSERT_EQ(s.test.n, 2);
  for (const ImageSet* set : {&s.train, &s.test}) {
    EXPECT_EQ(set->channels, channels);
    EXPECT_EQ(set->height, h);
    EXPECT_EQ(set->width, w);
    EXPECT_EQ(set->num_classes, 3);
    EXPECT_TRUE(set->pixels_f32.empty());
  }
  EXPECT_EQ(s.train.images, pixels(5, channels, h, w, false));
  Bytes test_pixels = pixels(7, channels, h, w, false);
  test_pixels.erase(test_pixels.begin(), test_pixels.begin() + 5 * channels * h * w);
  EXPECT_EQ(s.test.images, test_pixels);
  EXPECT_EQ(s.train.labels, kTrainLabels);
  EXPECT_EQ(s.test.labels, kTestLabels);
}

// --- the .npy reader ------------------------------------------------------------------------------

TEST_F(NpyTest, HeaderVersionsOneTwoThreeReadTheSame) {
  const Bytes data = floats({1.5f, -2.0f, 0.25f, 8.0f, 3.0f, 1e-3f});
  for (int major : {1, 2, 3}) {
    const std::string p = write("v" + std::to_string(major) + ".npy", npy("<f4", {2, 3}, data, major));
    const NpyArray a = read_npy(p);
    EXPECT_EQ(a.dtype, NpyDtype::kFloat32) << major;
    EXPECT_EQ(a.descr, "<f4");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(a.data, data) << major;
  }
}

TEST_F(NpyTest, EveryDecodedDtype) {
  const std::vector<std::pair<std::string, NpyDtype>> dtypes = {
      {"|u1", NpyDtype::kUint8}, {"<i2", NpyDtype::kInt16}, {"<u2", NpyDtype::kUint16},
      {"<i4", NpyDtype::kInt32}, {"<i8", NpyDtype::kInt64}, {"<f4", NpyDtype::kFloat32}};
  for (const auto& [descr, dtype] : dtypes) {
    const Bytes data(3 * npy_dtype_size(dtype), 7);
    const NpyArray a = read_npy(write("a.npy", npy(descr, {3}, data)));
    EXPECT_EQ(a.dtype, dtype) << descr;
    EXPECT_EQ(a.count(), 3);
    EXPECT_EQ(a.data, data) << descr;
  }
}

TEST_F(NpyTest, HeaderSpellingsNumpyHasWritten) {
  // Double quotes, no trailing comma, a scalar, Python 2's long suffix, no padding alignment.
  for (const auto& [dict, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"{\"descr\": \"|u1\", \"fortran_order\": False, \"shape\": (2, 2)}", {2, 2}},
           {"{'shape': (4,), 'fortran_order': False, 'descr': '|u1'}", {4}},
           {"{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 2L), }", {2, 2}},
           {"{'descr': '|u1', 'fortran_order': False, 'shape': (), }", {}}}) {
    const int64_t n = shape.empty() ? 1 : 4;
    const NpyArray a = read_npy(write("a.npy", npy_raw(dict, Bytes(static_cast<std::size_t>(n), 1))));
    EXPECT_EQ(a.shape, shape) << dict;
  }
}

TEST_F(NpyTest, MalformedHeadersNameTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{'descr': '|u1', 'fortran_order': False}", "missing 'shape'"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (4,), 'extra': 1}", "unknown key 'extra'"},
      {"{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (4,)}", "'descr' appears twice"},
      {"{'descr': '|u1', 'fortran_order': false, 'shape': (4,)}", "expected True or False"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (4)}", "trailing comma"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (-4,)}", "non-negative integer"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (4,)} x", "after the closing"},
      {"{'descr': '|u1, 'fortran_order': False, 'shape': (4,)}", "expected ',' or '}'"},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"},
      {"__import__('os')", "expected '{'"},
  };
  for (const auto& [dict, fragment] : cases) {
    const std::string p = write("bad.npy", npy_raw(dict, Bytes(4, 1)));
    expect_error([&] { read_npy(p); }, {p, "malformed .npy header", fragment, "np.save"});
  }
  // The header must end with '\n'.
  Bytes no_newline = npy("|u1", {4}, Bytes(4, 1));
  no_newline[no_newline.size() - 5] = ' ';
  const std::string p = write("nl.npy", no_newline);
  expect_error([&] { read_npy(p); }, {p, "does not end with a newline"});
}

TEST_F(NpyTest, RefusedDtypesNameTheFix) {
  NpyExpect x{"x_train", {NpyDtype::kUint8, NpyDtype::kFloat32},
              "save it as float32 or uint8: x_train.astype(np.float32)"};
  auto refused = [&](const std::string& dict, const std::vector<std::string>& fragments) {
    const std::string p = write("x_train.npy", npy_raw(dict, Bytes(16, 0)));
    std::vector<std::string> all = fragments;
    all.push_back(p);
    expect_error([&] { read_npy(p, x); }, all);
  };
  refused(header_dict("<f8", {2}),
          {"x_train.npy has dtype <f8 (float64); save it as float32 or uint8: x_train.astype(np.float32)"});
  refused(header_dict("<i4", {4}), {"has dtype <i4 (int32)", "x_train.astype(np.float32)"});
  refused(header_dict("|b1", {16}), {"(bool)"});
  refused(header_dict("<c8", {2}), {"(complex64)"});
  refused(header_dict("<U1", {4}), {"(str)"});
  refused(header_dict(">f8", {2}), {"(float64, big-endian)"});
  refused(header_dict(">f4", {4}), {"is big-endian (>f4); save it little-endian: x_train.astype('<f4')"});
  refused(header_dict("|O", {2}), {"Python objects", "never unpickles"});
  refused(header_dict("<f4", {2, 2}, true), {"Fortran order", "np.ascontiguousarray(x_train)"});
  refused("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2,), }",
          {"structured array", "('a', '<f4')"});
  refused(header_dict("f4", {4}), {"does not start with a byte order"});
}

TEST_F(NpyTest, TruncatedFilesSayWhereTheyEnd) {
  const Bytes whole = npy("<f4", {4, 5}, floats(std::vector<float>(20, 1.0f)));
  ASSERT_EQ(whole.size(), 128u + 80u);
  const std::vector<std::pair<std::size_t, std::string>> cuts = {
      {0, "file is empty"},
      {3, "shorter than the 8-byte NPY magic and version"},
      {9, "shorter than the 10-byte preamble"},
      {40, "truncated in the header: it declares a header of 118 bytes, only 30 present"},
      {127, "truncated in the header"},
      {128, "truncated: shape (4, 5) of float32 needs 80 bytes of data, only 0 present"},
      {200, "only 72 present"},
  };
  for (const auto& [size, fragment] : cuts) {
    const std::string p = write("cut.npy", Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(size)));
    expect_error([&] { read_npy(p); }, {p, fragment});
    // The same image held in memory (an .npz entry) gives the same answer.
    expect_error([&] { parse_npy("entry.npy", Bytes(whole.begin(), whole.begin() + size)); }, {"entry.npy", fragment});
  }
  Bytes longer = whole;
  longer.push_back(0);
  const std::string p = write("long.npy", longer);
  expect_error([&] { read_npy(p); }, {p, "1 trailing bytes after the 80 bytes of data"});
}

TEST_F(NpyTest, AbsurdShapesFailBeforeAnyAllocation) {
  // 2^40 x 2^40 floats would overflow 64 bits; (2^40,) fits the product but not the 8-byte file.
  const std::string huge = write("huge.npy", npy("<f4", {int64_t{1} << 40, int64_t{1} << 40}, {}));
  expect_error([&] { read_npy(huge); }, {huge, "would take more than"});
  const std::string big = write("big.npy", npy("|u1", {int64_t{1} << 40}, Bytes(8, 0)));
  expect_error([&] { read_npy(big); }, {big, "needs 1099511627776 bytes of data, only 8 present"});
  Bytes long_header = npy("|u1", {1}, {1});
  long_header[8] = 0xFF;
  long_header[9] = 0xFF;
  const std::string claims = write("claims.npy", long_header);
  expect_error([&] { read_npy(claims); }, {claims, "truncated in the header: it declares a header of 65535 bytes"});
  Bytes v2 = npy("|u1", {1}, {1}, 2);
  v2[11] = 0x7F;  // a 2 GB header
  const std::string v2p = write("v2.npy", v2);
  expect_error([&] { read_npy(v2p); }, {v2p, "over the 1048576 that any real .npy header needs"});
}

TEST_F(NpyTest, WrongMagicAndVersion) {
  const std::string idx = write("idx.npy", Bytes{0, 0, 8, 1, 0, 0, 0, 1, 7, 7, 7, 7});
  expect_error([&] { read_npy(idx); }, {idx, "not an .npy file", "np.save"});
  const std::string zipped = write("z.npy", zip({{"a.npy", npy("|u1", {1}, {1})}}));
  expect_error([&] { read_npy(zipped); }, {zipped, "it is a zip archive"});
  Bytes v4 = npy("|u1", {1}, {1});
  v4[6] = 4;
  const std::string p = write("v4.npy", v4);
  expect_error([&] { read_npy(p); }, {p, "NPY format version 4.0 is not supported"});
  expect_error([&] { read_npy(path("absent.npy")); }, {"absent.npy: file not found"});
}

// --- the .npz container -----------------------------------------------------------------------------

TEST_F(NpyTest, NpzStoredAndDeflatedEntries) {
  const Bytes a = npy("<i2", {3}, ints({-1, 300, 7}, 2));
  Bytes big_pixels(5000);
  for (std::size_t i = 0; i < big_pixels.size(); ++i) big_pixels[i] = static_cast<uint8_t>(i % 7);
  const Bytes b = npy("|u1", {50, 100}, big_pixels);
  for (bool deflate : {false, true}) {
    const std::string p = write("two.npz", zip({{"a.npy", a, deflate}, {"b.npy", b, deflate}}));
    const NpzFile npz(p);
    EXPECT_EQ(npz.entry_names(), (std::vector<std::string>{"a.npy", "b.npy"}));
    EXPECT_EQ(npz.read_entry("a.npy"), a);
    EXPECT_EQ(npz.read_array("b").data, big_pixels) << deflate;
    EXPECT_EQ(npz.read_array("a").shape, std::vector<int64_t>{3});
    expect_error([&] { npz.read_array("c"); }, {p, "has no array 'c'", "it holds a.npy, b.npy"});
  }
  EXPECT_LT(fs::file_size(path("two.npz")), 1000u);  // really deflated
}

TEST_F(NpyTest, CorruptZipsAreRefused) {
  const Bytes entry = npy("|u1", {400}, Bytes(400, 9));
  const Bytes stored = zip({{"a.npy", entry}});
  const Bytes deflated = zip({{"a.npy", entry, true}});
  auto refused = [&](const Bytes& bytes, const std::vector<std::string>& fragments) {
    const std::string p = write("bad.npz", bytes);
    std::vector<std::string> all = fragments;
    all.push_back(p);
    expect_error([&] { NpzFile(p).read_array("a"); }, all);
  };
  // Cut anywhere: the end record is gone.
  for (std::size_t size : {std::size_t{30}, stored.size() / 2, stored.size() - 1}) {
    refused(Bytes(stored.begin(), stored.begin() + static_cast<std::ptrdiff_t>(size)),
            {"end record is missing", "truncated"});
  }
  refused(Bytes(stored.begin(), stored.begin() + 10), {"too short for a zip archive"});
  refused(Bytes(), {"file is empty"});
  refused(Bytes(100, 'x'), {"not a zip archive"});
  // A damaged stored byte: CRC; damaged deflate data: zlib's complaint or the CRC.
  Bytes flipped = stored;
  flipped[30 + 5 + 200] ^= 1;
  refused(flipped, {"CRC-32", "damaged"});
  Bytes bad_deflate = deflated;
  bad_deflate[30 + 5] = 0xFF;  // an invalid block type
  refused(bad_deflate, {"corrupt deflate data"});
  // A wrong directory signature, entry count, local header name.
  Bytes bad_directory = stored;
  const std::size_t directory_at = 30 + 5 + entry.size();
  bad_directory[directory_at] = 'X';
  refused(bad_directory, {"bad central directory record"});
  Bytes bad_count = stored;
  bad_count[bad_count.size() - 12] = 2;  // total entries
  bad_count[bad_count.size() - 14] = 2;  // entries on this disk
  refused(bad_count, {"counts 2 entries", "holds 1"});
  Bytes renamed = stored;
  renamed[30] = 'b';  // the local header's name: b.npy
  refused(renamed, {"local header disagrees with the central directory"});
  // Unsupported methods, encryption, zip64.
  Bytes bzip2 = stored;
  bzip2[8] = 12;
  bzip2[directory_at + 10] = 12;
  refused(bzip2, {"compression method 12 is not supported"});
  Bytes encrypted = stored;
  encrypted[directory_at + 8] = 1;
  refused(encrypted, {"encrypted"});
  Bytes zip64 = stored;
  for (int i = 0; i < 4; ++i) zip64[zip64.size() - 6 + i] = 0xFF;  // directory offset 0xFFFFFFFF
  refused(zip64, {"zip64 archives", "folder of"});
  // A single .npy given as an .npz.
  refused(entry, {"is a single .npy file, not an .npz archive"});
}

TEST_F(NpyTest, DeflateSizesAreCheckedAgainstTheStream) {
  const Bytes entry = npy("|u1", {400}, Bytes(400, 9));
  Bytes bytes = zip({{"a.npy", entry, true}});
  // Claim one byte more (local header and directory): the stream ends early.
  const std::size_t compressed = bytes[18] | (bytes[19] << 8);
  const std::size_t directory_at = 30 + 5 + compressed;
  Bytes more = bytes;
  more[22] += 1;
  more[directory_at + 24] += 1;
  std::string p = write("more.npz", more);
  expect_error([&] { NpzFile(p).read_entry("a.npy"); }, {p, "the deflate stream gives 528 bytes", "says 529"});
  Bytes less = bytes;
  less[22] -= 1;
  less[directory_at + 24] -= 1;
  p = write("less.npz", less);
  expect_error([&] { NpzFile(p).read_entry("a.npy"); }, {p, "inflates to more than the"});
  // A claim deflate cannot reach (a zip bomb's header) is refused before allocating.
  Bytes bomb = bytes;
  bomb[directory_at + 27] = 0x7F;
  bomb[25] = 0x7F;
  p = write("bomb.npz", bomb);
  expect_error([&] { NpzFile(p).read_entry("a.npy"); }, {p, "cannot inflate to the"});
}

// --- NumPy datasets ----------------------------------------------------------------------------------

TEST_F(NpyTest, NhwcNchwAndGreyGiveTheSameChannelMajorPixels) {
  expect_standard(load_numpy_dataset(write_npz("nhwc.npz", arrays(3, true)), PixelLayout::kAuto), 3);
  expect_standard(load_numpy_dataset(write_npz("nchw.npz", arrays(3, false), true), PixelLayout::kAuto), 3);
  expect_standard(load_numpy_dataset(write_folder("rgba", arrays(4, true)), PixelLayout::kAuto), 4);
  expect_standard(load_numpy_dataset(write_npz("grey.npz", arrays(1, false)), PixelLayout::kAuto), 1);
  // 3-D arrays: one channel, whatever the layout flag says.
  auto a = arrays(1, false);
  a["x_train"] = npy("|u1", {5, kH, kW}, pixels(5, 1, kH, kW, false));
  Bytes test_pixels = pixels(7, 1, kH, kW, false);
  a["x_test"] = npy("|u1", {2, kH, kW}, Bytes(test_pixels.begin() + 5 * kH * kW, test_pixels.end()));
  const std::string p = write_npz("hw.npz", a);
  for (PixelLayout layout : {PixelLayout::kAuto, PixelLayout::kNchw}) {
    const DatasetSplits s = load_numpy_dataset(p, layout);
    expect_standard(s, 1);
    EXPECT_NE(s.source.find("NHW (one channel)"), std::string::npos) << s.source;
  }
}

TEST_F(NpyTest, AmbiguousLayoutNeedsTheFlag) {
  // (N, 3, 6, 3): dims 1 and 3 could both be channels.
  const std::string p = write_npz("amb.npz", arrays(3, true, 3, 6));
  expect_load_error(p, {"x_train.npy has shape (5, 3, 6, 3), which is ambiguous", "--layout nhwc", "--layout nchw"});
  expect_standard(load_numpy_dataset(p, PixelLayout::kNhwc), 3, 3, 6);
  // Neither dim 1 nor dim 3 is 1, 3 or 4: two channels need the flag, then load.
  const std::string two = write_folder("two", arrays(2, false));
  expect_load_error(two, {"neither dim 1 nor dim 3", "--layout nchw"});
  const DatasetSplits s = load_numpy_dataset(two, PixelLayout::kNchw);
  expect_standard(s, 2);
  EXPECT_NE(s.source.find("NCHW (--layout)"), std::string::npos) << s.source;
}

TEST_F(NpyTest, EveryLabelDtypeAndColumnLabels) {
  const std::vector<std::pair<std::string, int>> dtypes = {{"<i8", 8}, {"<i4", 4}, {"|u1", 1}, {"<i2", 2}, {"<u2", 2}};
  for (const auto& [descr, size] : dtypes) {
    auto a = arrays();
    a["y_train"] = npy(descr, {5}, ints(kTrainLabels, size));
    a["y_test"] = npy(descr, {2, 1}, ints(kTestLabels, size));  // (N, 1) as Keras gives CIFAR labels
    expect_standard(load_numpy_dataset(write_npz("labels.npz", a), PixelLayout::kAuto), 3);
  }
}

TEST_F(NpyTest, FloatPixelsAreTakenAsTheyAre) {
  auto a = arrays(1, true);
  std::vector<float> train(5 * kH * kW), test(2 * kH * kW);
  for (std::size_t i = 0; i < train.size(); ++i) train[i] = -1.5f + 0.25f * static_cast<float>(i);
  for (std::size_t i = 0; i < test.size(); ++i) test[i] = 100.0f + static_cast<float>(i);
  a["x_train"] = npy("<f4", {5, kH, kW, 1}, floats(train));
  a["x_test"] = npy("<f4", {2, kH, kW, 1}, floats(test));
  DatasetSplits s = load_numpy_dataset(write_npz("f.npz", a, true), PixelLayout::kAuto);
  EXPECT_TRUE(s.train.images.empty());
  EXPECT_EQ(s.train.pixels_f32, train);
  EXPECT_EQ(s.test.pixels_f32, test);
  EXPECT_NE(s.source.find("float32 pixels"), std::string::npos) << s.source;
  s.train.truncate(2);
  EXPECT_EQ(s.train.pixels_f32, std::vector<float>(train.begin(), train.begin() + 2 * kH * kW));
  EXPECT_EQ(s.train.labels, (std::vector<int64_t>{0, 2}));
}

TEST_F(NpyTest, NonFinitePixelsNameTheFirstOne) {
  auto a = arrays(1, true);
  std::vector<float> train(5 * kH * kW, 0.5f);
  train[2 * kH * kW + 8] = std::numeric_limits<float>::quiet_NaN();  // image 2, row 1, column 2
  train[4 * kH * kW] = std::numeric_limits<float>::infinity();
  a["x_train"] = npy("<f4", {5, kH, kW, 1}, floats(train));
  a["x_test"] = npy("<f4", {2, kH, kW, 1}, floats(std::vector<float>(2 * kH * kW, 0.0f)));
  expect_load_error(write_npz("nan.npz", a), {"x_train.npy holds NaN at index [2, 1, 2, 0]", "np.nan_to_num"});
  std::vector<float> test(2 * kH * kW, 0.0f);
  test.back() = -std::numeric_limits<float>::infinity();
  a["x_train"] = npy("<f4", {5, kH, kW, 1}, floats(std::vector<float>(5 * kH * kW, 0.0f)));
  a["x_test"] = npy("<f4", {2, kH, kW, 1}, floats(test));
  expect_load_error(write_folder("inf", a), {"x_test.npy holds -inf at index [1, 4, 5, 0]"});
}

TEST_F(NpyTest, ArraysThatDoNotFitTogether) {
  auto with = [&](const std::string& key, const Bytes& bytes) {
    auto a = arrays();
    a[key] = bytes;
    return write_npz("bad.npz", a);
  };
  expect_load_error(with("x_train", npy("<f8", {5, kH, kW, 3}, Bytes(5 * 90 * 8))),
                    {"x_train.npy has dtype <f8 (float64); save it as float32 or uint8: x_train.astype(np.float32)"});
  expect_load_error(with("y_test", npy("<f4", {2}, floats({1, 2}))),
                    {"y_test.npy has dtype <f4 (float32)", "y_test.astype(np.int64)"});
  expect_load_error(with("y_train", npy(">i8", {5}, Bytes(40))), {"big-endian", "y_train.astype('<i8')"});
  expect_load_error(with("x_test", npy("<f4", {2, kH, kW, 3}, Bytes(2 * 90 * 4))),
                    {"x_train.npy is uint8 but", "x_test.npy is float32", "same dtype"});
  expect_load_error(with("x_train", npy("|u1", {5, 12}, Bytes(60))), {"has shape (5, 12): expected images"});
  expect_load_error(with("x_test", npy("|u1", {2, kH, kW}, Bytes(60))), {"same number of dimensions"});
  expect_load_error(with("x_test", npy("|u1", {2, kW, kH, 3}, Bytes(180))),
                    {"holds 3x5x6 images (CxHxW) but", "holds 3x6x5", "must agree"});
  expect_load_error(with("y_train", npy("<i8", {4}, ints({0, 1, 2, 0}, 8))),
                    {"y_train.npy holds 4 labels but", "x_train.npy holds 5 images"});
  expect_load_error(with("y_train", npy("<i8", {5, 2}, Bytes(80))), {"labels must be one-dimensional", "reshape(-1)"});
  expect_load_error(with("y_train", npy("<i8", {5}, ints({0, 1, -3, 1, 0}, 8))),
                    {"y_train.npy: label -3 at index 2 is negative"});
  expect_load_error(with("y_test", npy("<i8", {2}, ints({1, 3}, 8))),
                    {"y_test.npy: label 3 at index 1 is out of the training labels' range 0..2"});
  expect_load_error(with("y_train", npy("<i4", {5}, ints({0, 1, 70000, 1, 0}, 4))), {"would mean 70001 classes"});
  expect_load_error(with("x_train", npy("|u1", {0, kH, kW, 3}, {})), {"holds no images"});
  expect_load_error(with("x_train", npy("|u1", {5, 0, kW, 3}, {})), {"at least one channel, row and column"});
}

TEST_F(NpyTest, MissingArraysAndPaths) {
  auto a = arrays();
  a.erase("y_test");
  expect_load_error(write_npz("three.npz", a), {"has no array 'y_test'", "it holds x_train.npy, y_train.npy, x_test.npy"});
  write_npz("folder/data.npz", arrays());
  const std::string folder = write_folder("folder", a);
  expect_load_error(folder, {"lacks y_test.npy", "pass --dataset npz:"});
  expect_load_error(path("nowhere"), {"no such file or folder"});
  expect_error([] { load_numpy_dataset("", PixelLayout::kAuto); }, {"needs a path"});
  const std::string single = write("x.npy", a["x_train"]);
  expect_load_error(single, {"single .npy file"});
}

TEST_F(NpyTest, LoadDatasetReadsNpzNamesWithTheLayoutOption) {
  const std::string p = write_npz("via.npz", arrays(3, true, 3, 6));
  DataOptions options = nesgd::testing::isolated_options();
  expect_error([&] { load_dataset("npz:" + p, options); }, {"ambiguous"});
  options.layout = pixel_layout_from_string("nhwc");
  const DatasetSplits s = load_dataset("npz:" + p, options);
  expect_standard(s, 3, 3, 6);
  EXPECT_EQ(s.name, "npz:" + p);
  EXPECT_EQ(s.source, p + " (sha256 " + sha256_file(p) +
                          "; uint8 pixels, NHWC (--layout), 3x3x6 images (CxHxW), 3 classes)");
  expect_error([] { pixel_layout_from_string("hwc"); }, {"unknown layout 'hwc'", "nhwc", "nchw"});
  expect_error([] { find_dataset("npz:x.npz"); }, {"read where they are", "nothing to fetch"});
}

// --- files written by NumPy itself (tests/testdata/npz/make_fixtures.py) ------------------------------

// The fixtures' formulas, restated: pixel(n, c, h, w) = (50 n + 40 c + 7 h + w) % 256, label(n) = 3 n % 7.
int fixture_pixel(int64_t n, int64_t c, int64_t h, int64_t w) {
  return static_cast<int>((50 * n + 40 * c + 7 * h + w) % 256);
}

void expect_fixture(const ImageSet& set, int64_t n, int64_t channels, bool float_pixels) {
  ASSERT_EQ(set.n, n);
  EXPECT_EQ(set.channels, channels);
  EXPECT_EQ(set.height, 5);
  EXPECT_EQ(set.width, 6);
  EXPECT_EQ(set.num_classes, 7);
  std::size_t i = 0;
  for (int64_t s = 0; s < n; ++s) {
    EXPECT_EQ(set.labels[static_cast<std::size_t>(s)], 3 * s % 7);
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t h = 0; h < 5; ++h)
        for (int64_t w = 0; w < 6; ++w, ++i) {
          const int want = fixture_pixel(s, c, h, w);
          if (float_pixels) {
            ASSERT_EQ(set.pixels_f32[i], static_cast<float>(want) / 256.0f) << i;
          } else {
            ASSERT_EQ(set.images[i], want) << i;
          }
        }
  }
}

TEST(NpyNumpyFixtures, SavezUint8Nhwc) {
  const DatasetSplits s = load_numpy_dataset(NESGD_TEST_DATA_DIR "/npz/savez_uint8_nhwc.npz", PixelLayout::kAuto);
  expect_fixture(s.train, 7, 3, false);
  // Test images restart the formula at n = 0.
  expect_fixture(s.test, 3, 3, false);
  EXPECT_NE(s.source.find("NHWC (detected)"), std::string::npos) << s.source;
}

TEST(NpyNumpyFixtures, SavezCompressedFloat32NchwWithColumnLabels) {
  const std::string p = NESGD_TEST_DATA_DIR "/npz/savez_compressed_float32_nchw.npz";
  const DatasetSplits s = load_numpy_dataset(p, PixelLayout::kAuto);
  expect_fixture(s.train, 7, 3, true);
  expect_fixture(s.test, 3, 3, true);
  EXPECT_NE(s.source.find("NCHW (detected)"), std::string::npos) << s.source;
  // The extra array (a str array) is not read, but the archive lists it.
  const NpzFile npz(p);
  EXPECT_TRUE(npz.has_entry("class_names.npy"));
  expect_error([&] { npz.read_array("class_names"); }, {"class_names.npy has dtype <U1 (str)"});
}

TEST(NpyNumpyFixtures, FolderOfNpyVersionsOneTwoThree) {
  const DatasetSplits s = load_numpy_dataset(NESGD_TEST_DATA_DIR "/npz/npy_folder_grey", PixelLayout::kAuto);
  expect_fixture(s.train, 7, 1, false);
  expect_fixture(s.test, 3, 1, false);
  EXPECT_NE(s.source.find("x_test.npy sha256 "), std::string::npos) << s.source;
}

}  // namespace
