// The dataset registry and resolution: the Fashion-MNIST entry carries the
// published sums; generated dataset folders exercise every load error; the
// real data (shared folder, Debian package) loads with verification on.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "support/data.h"
#include "support/fs.h"

#include "nesgd/data/idx.h"
#include "nesgd/data/registry.h"
#include "nesgd/data/resolve.h"
#include "nesgd/error.h"

namespace fs = std::filesystem;
using namespace nesgd::data;
using nesgd::testing::expect_error;
using nesgd::testing::isolated_options;

namespace {

constexpr const char* kDebianFolder = "/usr/share/datasets/fashion-mnist";

TEST(Registry, FashionMnistEntryHasPublishedSums) {
  const DatasetSpec& spec = find_dataset("fashion-mnist");
  EXPECT_EQ(spec.folder, "fashion-mnist");
  EXPECT_EQ(spec.base_url, "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/");
  EXPECT_EQ(spec.mirror_env, "NESGD_FASHION_MNIST_MIRROR");
  EXPECT_EQ(spec.num_classes, 10);
  EXPECT_EQ(spec.system_dirs, std::vector<std::string>{kDebianFolder});
  // Typed again from the shared data README, not copied from registry.cpp.
  const std::vector<DatasetFile> want = {
      {"train-images-idx3-ubyte.gz", 26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
       47040016, "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
      {"train-labels-idx1-ubyte.gz", 29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 60008,
       "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
      {"t10k-images-idx3-ubyte.gz", 4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
       7840016, "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
      {"t10k-labels-idx1-ubyte.gz", 5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 10008,
       "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
  };
  ASSERT_EQ(spec.files.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(spec.files[i].name, want[i].name);
    EXPECT_EQ(spec.files[i].bytes, want[i].bytes) << want[i].name;
    EXPECT_EQ(spec.files[i].sha256, want[i].sha256) << want[i].name;
    EXPECT_EQ(spec.files[i].raw_bytes, want[i].raw_bytes) << want[i].name;
    EXPECT_EQ(spec.files[i].raw_sha256, want[i].raw_sha256) << want[i].name;
  }
}

TEST(Registry, UnknownNameListsKnownOnes) {
  expect_error([] { find_dataset("mnist-fashion"); }, {"unknown dataset 'mnist-fashion'", "fashion-mnist"});
  ASSERT_FALSE(registered_datasets().empty());
  EXPECT_EQ(registered_datasets().front().name, "fashion-mnist");
}

TEST(ImageSet, TruncateKeepsFirstSamples) {
  ImageSet set;
  set.n = 3;
  set.channels = 1;
  set.height = 1;
  set.width = 2;
  set.images = {1, 2, 3, 4, 5, 6};
  set.labels = {7, 8, 9};
  set.truncate(0);  // no-op
  set.truncate(5);  // no-op
  EXPECT_EQ(set.n, 3);
  set.truncate(2);
  EXPECT_EQ(set.n, 2);
  EXPECT_EQ(set.images, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(set.labels, (std::vector<int64_t>{7, 8}));
}

TEST(Resolve, DefaultCacheDirFollowsXdg) {
  const char* old_xdg = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old_xdg != nullptr ? old_xdg : "";
  setenv("XDG_CACHE_HOME", "/some/cache", 1);
  EXPECT_EQ(default_cache_dir(), "/some/cache/nesgd");
  setenv("XDG_CACHE_HOME", "relative/ignored", 1);  // the XDG spec says relative paths are invalid
  const std::string home = std::getenv("HOME") != nullptr ? std::getenv("HOME") : "";
  if (!home.empty()) {
    EXPECT_EQ(default_cache_dir(), (fs::path(home) / ".cache" / "nesgd").string());
  }
  old_xdg != nullptr ? setenv("XDG_CACHE_HOME", saved.c_str(), 1) : unsetenv("XDG_CACHE_HOME");
}

// A temporary data root with generated Fashion-MNIST-shaped folders (wrong
// sums, so verification must be off to load them).
class GeneratedDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "nesgd-registry-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    options_ = isolated_options();
    options_.verify = false;
    options_.data_dir = (root_ / "data").string();
    options_.cache_dir = (root_ / "cache").string();
  }
  void TearDown() override { nesgd::testing::remove_tree(root_.string()); }

  struct Split {
    uint32_t images = 20;
    uint32_t labels = 20;
    uint32_t side = 28;
  };
  // Writes the four files into <root>/<sub>/fashion-mnist/; label i is i % 10
  // and pixel j of image i is (i + j) % 256.
  void write_dataset(const std::string& sub, Split train, Split test, bool gzip = true) {
    const fs::path folder = root_ / sub / "fashion-mnist";
    fs::create_directories(folder);
    const std::string ext = gzip ? ".gz" : "";
    auto write = [&](const std::string& prefix, Split s) {
      IdxArray images{{s.images, s.side, 28}, {}};
      for (uint32_t i = 0; i < s.images * s.side * 28; ++i) {
        images.data.push_back(static_cast<uint8_t>(i / (s.side * 28) + i % (s.side * 28)));
      }
      write_idx((folder / (prefix + "-images-idx3-ubyte" + ext)).string(), images, gzip);
      IdxArray labels{{s.labels}, {}};
      for (uint32_t i = 0; i < s.labels; ++i) labels.data.push_back(static_cast<uint8_t>(i % 10));
      write_idx((folder / (prefix + "-labels-idx1-ubyte" + ext)).string(), labels, gzip);
    };
    write("train", train);
    write("t10k", test);
  }
  std::string file(const std::string& sub, const std::string& name) const {
    return (root_ / sub / "fashion-mnist" / name).string();
  }

  fs::path root_;
  DataOptions options_;
};

TEST_F(GeneratedDataset, LoadsWithVerifyOff) {
  write_dataset("data", {20, 20}, {10, 10});
  const DatasetSplits splits = load_dataset("fashion-mnist", options_);
  EXPECT_EQ(splits.name, "fashion-mnist");
  EXPECT_NE(splits.source.find("--data-dir"), std::string::npos) << splits.source;
  EXPECT_EQ(splits.train.n, 20);
  EXPECT_EQ(splits.test.n, 10);
  for (const ImageSet* set : {&splits.train, &splits.test}) {
    EXPECT_EQ(set->channels, 1);
    EXPECT_EQ(set->height, 28);
    EXPECT_EQ(set->width, 28);
    EXPECT_EQ(set->num_classes, 10);
    ASSERT_EQ(set->images.size(), static_cast<std::size_t>(set->n * 28 * 28));
    ASSERT_EQ(set->labels.size(), static_cast<std::size_t>(set->n));
    EXPECT_EQ(set->labels[7], 7);
    EXPECT_EQ(set->images[3 * 784 + 5], 8);  // image 3, pixel 5
  }
}

TEST_F(GeneratedDataset, AcceptsDecompressedNames) {
  write_dataset("data", {20, 20}, {10, 10}, /*gzip=*/false);
  EXPECT_EQ(load_dataset("fashion-mnist", options_).train.n, 20);
}

TEST_F(GeneratedDataset, CountMismatch) {
  write_dataset("data", {20, 19}, {10, 10});
  expect_error(
      [&] { load_dataset("fashion-mnist", options_); },
      {"count mismatch", "train-images-idx3-ubyte.gz holds 20 images", "train-labels-idx1-ubyte.gz holds 19 labels"});
}

TEST_F(GeneratedDataset, LabelOutOfRange) {
  write_dataset("data", {20, 20}, {10, 10});
  IdxArray labels{{10}, {0, 1, 2, 3, 4, 12, 6, 7, 8, 9}};
  write_idx(file("data", "t10k-labels-idx1-ubyte.gz"), labels, true);
  expect_error([&] { load_dataset("fashion-mnist", options_); },
               {"t10k-labels-idx1-ubyte.gz", "label 12 at index 5 is out of range [0, 10)"});
}

TEST_F(GeneratedDataset, WrongImageSize) {
  write_dataset("data", {20, 20, 27}, {10, 10});
  expect_error([&] { load_dataset("fashion-mnist", options_); },
               {"train-images-idx3-ubyte.gz", "dims 20 x 27 x 28", "expected N x 28 x 28"});
}

TEST_F(GeneratedDataset, MalformedFileErrorReachesCaller) {
  write_dataset("data", {20, 20}, {10, 10});
  std::ofstream(file("data", "train-labels-idx1-ubyte.gz"), std::ios::binary) << "not an idx file";
  expect_error([&] { load_dataset("fashion-mnist", options_); }, {"train-labels-idx1-ubyte.gz", "wrong magic"});
}

TEST_F(GeneratedDataset, VerifyRejectsForeignData) {
  write_dataset("data", {20, 20}, {10, 10});
  options_.verify = true;
  expect_error(
      [&] { load_dataset("fashion-mnist", options_); },
      {"train-images-idx3-ubyte.gz", "SHA-256", "want c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
       "delete it", "nesgd data fetch fashion-mnist"});
}

TEST_F(GeneratedDataset, VerifyDatasetReportsEachFile) {
  write_dataset("data", {20, 20}, {10, 10});
  fs::remove(file("data", "t10k-labels-idx1-ubyte.gz"));
  Located where;
  const auto checks = verify_dataset(find_dataset("fashion-mnist"), options_, &where);
  EXPECT_EQ(where.origin, "--data-dir");
  ASSERT_EQ(checks.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(checks[i].ok) << checks[i].file;
    EXPECT_EQ(checks[i].detail.rfind("sha256 mismatch: got ", 0), 0u) << checks[i].detail;
  }
  EXPECT_EQ(checks[3].file, "t10k-labels-idx1-ubyte.gz");
  EXPECT_FALSE(checks[3].ok);
  EXPECT_EQ(checks[3].detail, "missing");
}

TEST_F(GeneratedDataset, ExplicitRootWithoutDatasetIsAnError) {
  fs::create_directories(options_.data_dir);
  write_dataset("cache", {20, 20}, {10, 10});  // must not be used: --data-dir was named
  options_.allow_download = true;
  options_.mirror = "http://127.0.0.1:9/";  // and nothing is downloaded
  expect_error([&] { load_dataset("fashion-mnist", options_); },
               {"not found where --data-dir points", options_.data_dir + "/fashion-mnist", "no such folder",
                "nesgd data fetch fashion-mnist --data-dir"});

  // --data-dir naming the dataset folder itself gets a hint.
  options_.data_dir = (root_ / "cache" / "fashion-mnist").string() + "/";
  expect_error(
      [&] { load_dataset("fashion-mnist", options_); },
      {"itself holds the fashion-mnist files: point --data-dir at its parent folder " + (root_ / "cache").string()});
}

TEST_F(GeneratedDataset, ResolutionOrder) {
  write_dataset("data", {20, 20}, {10, 10});
  write_dataset("cache", {30, 30}, {10, 10});
  write_dataset("env", {40, 40}, {10, 10});
  const DatasetSpec& spec = find_dataset("fashion-mnist");
  EXPECT_EQ(locate_dataset(spec, options_).origin, "--data-dir");
  EXPECT_EQ(load_dataset("fashion-mnist", options_).train.n, 20);

  options_.data_dir.clear();
  EXPECT_EQ(locate_dataset(spec, options_).origin, "cache");
  EXPECT_EQ(load_dataset("fashion-mnist", options_).train.n, 30);

  const char* old = std::getenv("NESGD_DATA_DIR");
  const std::string saved = old != nullptr ? old : "";
  setenv("NESGD_DATA_DIR", (root_ / "env").c_str(), 1);
  EXPECT_EQ(locate_dataset(spec, options_).origin, "cache");  // use_environment is off
  options_.use_environment = true;
  EXPECT_EQ(locate_dataset(spec, options_).origin, "NESGD_DATA_DIR");
  EXPECT_EQ(load_dataset("fashion-mnist", options_).train.n, 40);
  old != nullptr ? setenv("NESGD_DATA_DIR", saved.c_str(), 1) : unsetenv("NESGD_DATA_DIR");
}

TEST_F(GeneratedDataset, NotFoundListsPlacesAndFixes) {
  write_dataset("cache", {20, 20}, {10, 10});
  fs::remove(file("cache", "train-images-idx3-ubyte.gz"));  // an incomplete cache does not count
  options_.data_dir.clear();
  options_.use_system_dirs = true;
  const DatasetSpec& spec = find_dataset("fashion-mnist");
  DatasetSpec nowhere = spec;  // a system folder that surely does not exist
  nowhere.system_dirs = {(root_ / "no-such-package").string()};
  expect_error([&] { locate_dataset(nowhere, options_); },
               {"fashion-mnist not found", (root_ / "no-such-package").string() + " (system package): no such folder",
                "(cache): missing train-images-idx3-ubyte.gz", "nesgd data fetch fashion-mnist", "--data-dir",
                "NESGD_DATA_DIR", "apt install dataset-fashion-mnist"});
  options_.use_system_dirs = false;
  expect_error([&] { load_dataset("fashion-mnist", options_); },
               {"fashion-mnist not found", "Downloading was not allowed", "nesgd data fetch fashion-mnist"});
}

// The published facts about the real data (shared data README).
void expect_official_fashion_mnist(const DatasetSplits& splits) {
  ASSERT_EQ(splits.train.n, 60000);
  ASSERT_EQ(splits.test.n, 10000);
  for (const ImageSet* set : {&splits.train, &splits.test}) {
    EXPECT_EQ(set->channels, 1);
    EXPECT_EQ(set->height, 28);
    EXPECT_EQ(set->width, 28);
    EXPECT_EQ(set->num_classes, 10);
    EXPECT_EQ(set->images.size(), static_cast<std::size_t>(set->n) * 784);
    ASSERT_EQ(set->labels.size(), static_cast<std::size_t>(set->n));
  }
  const std::vector<int64_t> first_train = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  const std::vector<int64_t> first_test = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
  EXPECT_EQ(std::vector<int64_t>(splits.train.labels.begin(), splits.train.labels.begin() + 10), first_train);
  EXPECT_EQ(std::vector<int64_t>(splits.test.labels.begin(), splits.test.labels.begin() + 10), first_test);
  std::array<int, 10> train_counts{}, test_counts{};
  for (int64_t label : splits.train.labels) ++train_counts[label];
  for (int64_t label : splits.test.labels) ++test_counts[label];
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(train_counts[c], 6000) << "class " << c;
    EXPECT_EQ(test_counts[c], 1000) << "class " << c;
  }
}

TEST(RealData, SharedFolderLoadsVerified) {
  const fs::path root = NESGD_SHARED_DATA;
  if (!fs::is_directory(root / "fashion-mnist")) {
    GTEST_SKIP() << "no data folder beside the checkout at " << (root / "fashion-mnist")
                 << ": this test checks that folder; put the project's data folder there to run it";
  }
  DataOptions options = isolated_options();
  options.data_dir = root.string();
  const DatasetSplits splits = load_dataset("fashion-mnist", options);
  expect_official_fashion_mnist(splits);

  // The shared files are the official .gz files, so the compressed-file sums
  // hold too, and verify_dataset agrees with the loader.
  for (const auto& check : verify_dataset(find_dataset("fashion-mnist"), options)) {
    EXPECT_TRUE(check.ok) << check.file << ": " << check.detail;
    EXPECT_EQ(check.detail, "sha256 ok (decompressed)");
  }
}

TEST(RealData, DebianPackageLoadsVerified) {
  if (!fs::is_directory(kDebianFolder)) {
    GTEST_SKIP() << kDebianFolder << " absent (Debian package dataset-fashion-mnist not installed)";
  }
  std::string tmpl = (fs::temp_directory_path() / "nesgd-empty-cache-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  DataOptions options = isolated_options();
  options.use_system_dirs = true;
  options.cache_dir = tmpl;
  const DatasetSplits splits = load_dataset("fashion-mnist", options);
  nesgd::testing::remove_tree(tmpl);
  EXPECT_NE(splits.source.find("system package"), std::string::npos) << splits.source;
  EXPECT_NE(splits.source.find(kDebianFolder), std::string::npos) << splits.source;
  expect_official_fashion_mnist(splits);
}

}  // namespace
