// CIFAR-10/100 binary readers and registry entries: round trips on generated
// files, every malformed-file error, fetch = verified archive download +
// libarchive extraction (served from a file:// URL), the cifar10-subset rule
// on synthetic CIFAR-10 files (and, where the shipped subset folder beside the
// checkout exists, on a CIFAR-10 rebuilt around its records: byte-identical
// output), and that shipped subset against the label counts its README gives.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "support/data.h"
#include "support/fs.h"
#include "support/cli.h"
#include "support/limits.h"

#include "nesgd/data/archive.h"
#include "nesgd/data/cifar.h"
#include "nesgd/data/cifar_subset.h"
#include "nesgd/data/download.h"
#include "nesgd/data/registry.h"
#include "nesgd/data/resolve.h"
#include "nesgd/data/sha256.h"
#include "nesgd/error.h"

namespace fs = std::filesystem;
using namespace nesgd::data;
using nesgd::testing::expect_error;
using nesgd::testing::isolated_options;

namespace {

// n images whose pixel j of image i is (7 i + j) % 256 and label i % classes.
ImageSet generated(int64_t n, int64_t classes, int64_t offset = 0) {
  ImageSet set;
  set.n = n;
  set.channels = 3;
  set.height = 32;
  set.width = 32;
  set.num_classes = classes;
  for (int64_t i = 0; i < n; ++i) {
    set.labels.push_back((i + offset) % classes);
    for (int64_t j = 0; j < kCifarPixelBytes; ++j) set.images.push_back(static_cast<uint8_t>((7 * (i + offset) + j) % 256));
  }
  return set;
}

}  // namespace

// A temporary data root per test (a fixture of the global namespace: gtest
// derives each test class from it).
class CifarRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "nesgd-cifar-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { nesgd::testing::remove_tree(root_.string()); }
  std::string path(const std::string& name) const { return (root_ / name).string(); }
  // Overwrites byte `offset` of a file.
  static void poke(const std::string& file, std::streamoff offset, uint8_t value) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    f.put(static_cast<char>(value));
  }
  fs::path root_;
};

TEST(CifarFormat, RecordSizes) {
  EXPECT_EQ(cifar_record_bytes(CifarVariant::kCifar10), 3073);
  EXPECT_EQ(cifar_record_bytes(CifarVariant::kCifar100), 3074);
  EXPECT_EQ(cifar_num_classes(CifarVariant::kCifar100), 100);
}

TEST_F(CifarRoot, Cifar10RoundTrip) {
  const ImageSet set = generated(7, 10);
  write_cifar(path("a.bin"), set, CifarVariant::kCifar10);
  EXPECT_EQ(fs::file_size(path("a.bin")), 7u * 3073u);
  const CifarReadResult r = read_cifar(path("a.bin"), CifarVariant::kCifar10);
  EXPECT_EQ(r.images.n, 7);
  EXPECT_EQ(r.images.channels, 3);
  EXPECT_EQ(r.images.height, 32);
  EXPECT_EQ(r.images.num_classes, 10);
  EXPECT_EQ(r.images.labels, set.labels);
  EXPECT_EQ(r.images.images, set.images);
  EXPECT_TRUE(r.coarse_labels.empty());
  EXPECT_EQ(r.sha256, sha256_file(path("a.bin")));
  // Record layout: label byte, then the red plane of image 0 starts at byte 1.
  std::ifstream in(path("a.bin"), std::ios::binary);
  std::array<char, 3> head{};
  in.read(head.data(), 3);
  EXPECT_EQ(head[0], 0);
  EXPECT_EQ(head[1], 0);
  EXPECT_EQ(head[2], 1);
}

TEST_F(CifarRoot, Cifar100RoundTripUsesTheFineLabel) {
  ImageSet set = generated(5, 100, 95);  // fine labels 95..99, 0
  const std::vector<int64_t> coarse = {19, 0, 3, 7, 11};
  write_cifar(path("b.bin"), set, CifarVariant::kCifar100, coarse);
  EXPECT_EQ(fs::file_size(path("b.bin")), 5u * 3074u);
  const CifarReadResult r = read_cifar(path("b.bin"), CifarVariant::kCifar100);
  EXPECT_EQ(r.images.labels, set.labels);
  EXPECT_EQ(r.coarse_labels, coarse);
  EXPECT_EQ(r.images.images, set.images);
  EXPECT_EQ(r.images.num_classes, 100);
}

TEST_F(CifarRoot, TruncatedEmptyAndMissingFiles) {
  write_cifar(path("a.bin"), generated(3, 10), CifarVariant::kCifar10);
  fs::resize_file(path("a.bin"), 3 * 3073 - 5);
  expect_error([&] { read_cifar(path("a.bin"), CifarVariant::kCifar10); },
               {"a.bin", "size 9214 bytes is not a whole number of 3073-byte CIFAR-10 records",
                "2 records and 3068 bytes left over", "truncated"});
  // The same bytes read as CIFAR-100 are not whole 3074-byte records either.
  write_cifar(path("c.bin"), generated(2, 10), CifarVariant::kCifar10);
  expect_error([&] { read_cifar(path("c.bin"), CifarVariant::kCifar100); }, {"3074-byte CIFAR-100 records"});
  std::ofstream(path("empty.bin")).close();
  expect_error([&] { read_cifar(path("empty.bin"), CifarVariant::kCifar10); }, {"empty.bin", "file is empty"});
  expect_error([&] { read_cifar(path("nope.bin"), CifarVariant::kCifar10); }, {"nope.bin", "file not found"});
}

TEST_F(CifarRoot, LabelsOutOfRange) {
  write_cifar(path("a.bin"), generated(4, 10), CifarVariant::kCifar10);
  poke(path("a.bin"), 2 * 3073, 10);  // label of record 2
  expect_error([&] { read_cifar(path("a.bin"), CifarVariant::kCifar10); },
               {"a.bin", "record 2 has label 10, out of range [0, 10)"});
  write_cifar(path("b.bin"), generated(4, 100), CifarVariant::kCifar100);
  poke(path("b.bin"), 3 * 3074 + 1, 100);  // fine label of record 3
  expect_error([&] { read_cifar(path("b.bin"), CifarVariant::kCifar100); }, {"record 3 has label 100, out of range [0, 100)"});
  write_cifar(path("c.bin"), generated(4, 100), CifarVariant::kCifar100);
  poke(path("c.bin"), 1 * 3074, 20);  // coarse label of record 1
  expect_error([&] { read_cifar(path("c.bin"), CifarVariant::kCifar100); }, {"record 1 has coarse label 20"});
}

TEST(CifarRegistry, EntriesCarryTheOfficialArchives) {
  const DatasetSpec& c10 = find_dataset("cifar10");
  EXPECT_EQ(c10.format, DataFormat::kCifar10);
  EXPECT_EQ(c10.folder, "cifar-10-batches-bin");
  EXPECT_EQ(c10.base_url, "https://www.cs.toronto.edu/~kriz/");
  EXPECT_EQ(c10.archive.name, "cifar-10-binary.tar.gz");
  EXPECT_EQ(c10.archive.bytes, 170052171u);
  EXPECT_EQ(c10.archive.sha256, "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd");
  ASSERT_EQ(c10.files.size(), 6u);
  for (const auto& f : c10.files) EXPECT_EQ(f.bytes, 10000u * 3073u) << f.name;
  EXPECT_EQ(c10.files.front().name, "data_batch_1.bin");
  EXPECT_EQ(c10.files.back().name, "test_batch.bin");

  const DatasetSpec& c100 = find_dataset("cifar100");
  EXPECT_EQ(c100.format, DataFormat::kCifar100);
  EXPECT_EQ(c100.folder, "cifar-100-binary");
  EXPECT_EQ(c100.num_classes, 100);
  EXPECT_EQ(c100.archive.name, "cifar-100-binary.tar.gz");
  EXPECT_EQ(c100.archive.bytes, 168513733u);
  EXPECT_EQ(c100.archive.sha256, "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec");
  ASSERT_EQ(c100.files.size(), 2u);
  EXPECT_EQ(c100.files[0].name, "train.bin");
  EXPECT_EQ(c100.files[0].bytes, 50000u * 3074u);
  EXPECT_EQ(c100.files[1].bytes, 10000u * 3074u);

  // Sums typed again from the subset's README (shipped with the data folder).
  const DatasetSpec& sub = find_dataset("cifar10-subset");
  EXPECT_EQ(sub.folder, "cifar-10-subset");
  EXPECT_TRUE(sub.base_url.empty());
  EXPECT_EQ(sub.derived_from, "cifar10");
  EXPECT_EQ(download_bytes(sub), 170052171u) << "a derived dataset downloads its source";
  EXPECT_EQ(download_bytes(c10), 170052171u);
  EXPECT_EQ(download_bytes(find_dataset("fashion-mnist")), 26421880u + 29515u + 4422102u + 5148u);
  ASSERT_GE(sub.files.size(), 2u);
  EXPECT_EQ(sub.files[0].name, "data_batch_1.bin");
  EXPECT_EQ(sub.files[0].bytes, 12292000u);
  EXPECT_EQ(sub.files[0].sha256, "0993cf8b8e43bc207603aef9787006995746513f5e3fa5a52e06d1b069926330");
  EXPECT_EQ(sub.files[1].name, "test_batch.bin");
  EXPECT_EQ(sub.files[1].bytes, 14114289u);
  EXPECT_EQ(sub.files[1].sha256, "ce18a546eb53bba7cb2e7d3495fbd8a54b6af573e89216fc298b2b0f7e89fc6e");
}

// A generated cifar-10-subset folder (foreign data: loads only with verify off).
TEST_F(CifarRoot, GeneratedSubsetFolderLoadsAndIsVerified) {
  const fs::path folder = root_ / "cifar-10-subset";
  fs::create_directories(folder);
  write_cifar((folder / "data_batch_1.bin").string(), generated(30, 10), CifarVariant::kCifar10);
  write_cifar((folder / "test_batch.bin").string(), generated(20, 10, 3), CifarVariant::kCifar10);
  DataOptions options = isolated_options();
  options.data_dir = root_.string();
  // The two text files are part of the registered folder: without them it is incomplete.
  expect_error([&] { load_dataset("cifar10-subset", options); },
               {"not found where --data-dir points", "missing test_indices.txt, batches.meta.txt"});
  std::ofstream(folder / "test_indices.txt") << "0\n";
  std::ofstream(folder / "batches.meta.txt") << "airplane\n";
  options.verify = false;
  const DatasetSplits splits = load_dataset("cifar10-subset", options);
  EXPECT_EQ(splits.train.n, 30);
  EXPECT_EQ(splits.test.n, 20);
  EXPECT_EQ(splits.test.labels[0], 3);
  EXPECT_EQ(splits.train.num_classes, 10);
  EXPECT_EQ(splits.train.images, generated(30, 10).images);
  options.verify = true;
  expect_error([&] { load_dataset("cifar10-subset", options); },
               {"data_batch_1.bin", "bytes, want 12292000", "not the official cifar10-subset file"});
  const auto checks = verify_dataset(find_dataset("cifar10-subset"), options);
  ASSERT_EQ(checks.size(), 4u);
  for (const auto& c : checks) EXPECT_FALSE(c.ok) << c.file << ": " << c.detail;
  EXPECT_EQ(checks[0].detail.rfind("sha256 mismatch: got ", 0), 0u) << checks[0].detail;
  // Fetching makes it from cifar10, which is nowhere here, and downloads are off.
  options.cache_dir = path("cache");
  expect_error([&] { fetch_dataset(find_dataset("cifar10-subset"), options); },
               {"cifar10-subset is made from cifar10, which was not found either", "Downloading was not allowed",
                "nesgd data fetch cifar10-subset"});
}

TEST_F(CifarRoot, FullCifar10FolderMissingAFileIsAClearError) {
  DataOptions options = isolated_options();
  options.data_dir = root_.string();
  const fs::path folder = root_ / "cifar-10-batches-bin";
  fs::create_directories(folder);
  write_cifar((folder / "data_batch_1.bin").string(), generated(2, 10), CifarVariant::kCifar10);
  expect_error([&] { load_dataset("cifar10", options); },
               {"cifar10 not found where --data-dir points",
                "missing data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin",
                "nesgd data fetch cifar10 --data-dir"});
}

// fetch_dataset for an archive dataset, end to end: a tiny CIFAR-10-format
// spec whose archive is served from a file:// URL through the same verified
// download, unpacked with libarchive.
class ArchiveFetch : public CifarRoot {
 protected:
  void SetUp() override {
    CifarRoot::SetUp();
    if (!download_supported()) GTEST_SKIP() << "built without libcurl: no download support to test";
    if (!archive_supported()) GTEST_SKIP() << "built without libarchive: no extraction to test";
    if (std::system("tar --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no `tar` to build the test archive";
    const fs::path src = root_ / "src" / "tiny-batches-bin";
    fs::create_directories(src);
    write_cifar((src / "data_batch_1.bin").string(), generated(5, 10), CifarVariant::kCifar10);
    write_cifar((src / "test_batch.bin").string(), generated(3, 10, 1), CifarVariant::kCifar10);
    std::ofstream(src / "readme.html") << "not extracted";
    fs::create_directories(root_ / "served");
    const std::string tar = "tar czf '" + (root_ / "served" / "tiny.tar.gz").string() + "' -C '" +
                            (root_ / "src").string() + "' tiny-batches-bin";
    ASSERT_EQ(std::system(tar.c_str()), 0) << tar;
    archive_ = (root_ / "served" / "tiny.tar.gz").string();

    spec_.name = "tiny-cifar";
    spec_.folder = "tiny-batches-bin";
    spec_.base_url = "file://" + (root_ / "served").string() + "/";
    spec_.files = {{"data_batch_1.bin", 5 * 3073, "", 0, ""}, {"test_batch.bin", 3 * 3073, "", 0, ""}};
    spec_.num_classes = 10;
    spec_.format = DataFormat::kCifar10;
    spec_.archive = {"tiny.tar.gz", fs::file_size(archive_), sha256_file(archive_), 0, ""};
    options_ = isolated_options();
    options_.data_dir = (root_ / "data").string();
  }
  std::string archive_;
  DatasetSpec spec_;
  DataOptions options_;
};

TEST_F(ArchiveFetch, DownloadsVerifiesUnpacksAndRecordsSums) {
  const std::string folder = fetch_dataset(spec_, options_);
  EXPECT_EQ(folder, (root_ / "data" / "tiny-batches-bin").string());
  EXPECT_EQ(fs::file_size(fs::path(folder) / "data_batch_1.bin"), 5u * 3073u);
  EXPECT_EQ(read_cifar(folder + "/test_batch.bin", CifarVariant::kCifar10).images.labels,
            (std::vector<int64_t>{1, 2, 3}));
  EXPECT_FALSE(fs::exists(fs::path(folder) / "readme.html")) << "only registered members are unpacked";
  EXPECT_FALSE(fs::exists(root_ / "data" / "tiny.tar.gz")) << "the downloaded archive is removed after unpacking";
  for (const auto& entry : fs::directory_iterator(folder)) {
    EXPECT_EQ(entry.path().filename().string().find(".part"), std::string::npos) << entry.path();
  }
  auto checks = verify_dataset(spec_, options_);
  ASSERT_EQ(checks.size(), 2u);
  for (const auto& c : checks) {
    EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
    EXPECT_EQ(c.detail, "sha256 ok (against SHA256SUMS written when unpacking)");
  }
  // Corruption that keeps the size is caught by the recorded sums, and a new
  // fetch repairs it.
  poke(folder + "/test_batch.bin", 100, 77);
  checks = verify_dataset(spec_, options_);
  EXPECT_TRUE(checks[0].ok);
  EXPECT_FALSE(checks[1].ok);
  EXPECT_EQ(checks[1].detail.rfind("sha256 mismatch", 0), 0u) << checks[1].detail;
  fetch_dataset(spec_, options_);
  for (const auto& c : verify_dataset(spec_, options_)) EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
}

TEST_F(ArchiveFetch, ForeignArchiveLeavesNothing) {
  spec_.archive.sha256 = std::string(64, '0');
  expect_error([&] { fetch_dataset(spec_, options_); }, {"tiny.tar.gz", "must serve the official tiny.tar.gz"});
  EXPECT_FALSE(fs::exists(root_ / "data" / "tiny-batches-bin" / "data_batch_1.bin"));
  EXPECT_FALSE(fs::exists(root_ / "data" / "tiny.tar.gz"));
}

TEST_F(ArchiveFetch, ArchivePlacedByHandIsUsedWithoutNetworkAndKept) {
  fs::create_directories(root_ / "data");
  fs::copy_file(archive_, root_ / "data" / "tiny.tar.gz");
  spec_.base_url = "";  // nothing to download from
  fetch_dataset(spec_, options_);
  for (const auto& c : verify_dataset(spec_, options_)) EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
  EXPECT_TRUE(fs::exists(root_ / "data" / "tiny.tar.gz"));
}

TEST_F(ArchiveFetch, ArchiveWithoutTheRegisteredMembersIsRejected) {
  spec_.files.push_back({"data_batch_2.bin", 3073, "", 0, ""});
  expect_error([&] { fetch_dataset(spec_, options_); },
               {"archive lacks tiny-batches-bin/data_batch_2.bin", "not the official archive"});
  spec_.files.pop_back();
  spec_.files[0].bytes = 6 * 3073;  // the member is 5 records
  expect_error([&] { fetch_dataset(spec_, options_); }, {"member tiny-batches-bin/data_batch_1.bin holds 15365 bytes, want 18438"});
  spec_.files[0].bytes = 4 * 3073;
  expect_error([&] { fetch_dataset(spec_, options_); }, {"member tiny-batches-bin/data_batch_1.bin holds more than 12292 bytes"});
  EXPECT_FALSE(fs::exists(root_ / "data" / "tiny-batches-bin" / "data_batch_1.bin"));
}

// Found while writing the archive fuzz target (fuzz/corpus/archive/crash-lrzip-magic):
// libarchive's support_filter_all() answered data that starts like an lrzip
// (or grzip, lzop) file by running that program on it, through PATH. A fake
// program on PATH shows whether anything was started.
TEST_F(CifarRoot, ArchiveOfAnOutsideCompressionIsRefusedWithoutStartingAProgram) {
  if (!archive_supported()) GTEST_SKIP() << "built without libarchive: no extraction to test";
  const fs::path bin = root_ / "bin";
  fs::create_directories(bin);
  const fs::path started = root_ / "started";
  for (const char* program : {"lrzip", "grzip", "lzop"}) {
    std::ofstream(bin / program) << "#!/bin/sh\necho " << program << " >> '" << started.string() << "'\n";
    fs::permissions(bin / program, fs::perms::owner_all);
  }
  const std::string old_path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  ::setenv("PATH", (bin.string() + ":" + old_path).c_str(), 1);
  const std::vector<std::pair<std::string, std::string>> magics{
      {"lrzip", std::string("LRZI\x00\x06", 6) + std::string(18, '\0')},
      {"grzip", std::string("GRZipII\x00\x02\x04:)", 12) + std::string(20, '\0')},
      {"lzop", std::string("\x89LZO\x00\r\n\x1a\n", 9) + std::string(40, '\0')}};
  for (const auto& [name, bytes] : magics) {
    const std::string file = path(name + ".tar");
    std::ofstream(file, std::ios::binary) << bytes;
    std::vector<ArchiveMember> members{{"a/b.bin", path("b.bin"), 0, ""}};
    expect_error([&] { extract_members(file, members); }, {file, "cannot open as an archive"});
  }
  ::setenv("PATH", old_path.c_str(), 1);
  EXPECT_FALSE(fs::exists(started)) << "started: " << (fs::exists(started) ? nesgd::testing::read_text(started.string()) : "");
  EXPECT_FALSE(fs::exists(path("b.bin")));
}

// Found while writing the archive fuzz target: a member's expected size was checked
// only after the whole member had been written, so a small archive whose
// member inflates to gigabytes filled the disk first. Writing must stop at the
// expected size: here under a 1 MiB cap per written file, an 8 MiB member
// expected to be one record is refused without the child being killed for
// writing past the cap.
TEST_F(CifarRoot, ArchiveMemberLargerThanExpectedStopsAtItsSize) {
  if (!archive_supported()) GTEST_SKIP() << "built without libarchive: no extraction to test";
  if (std::system("tar --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no `tar` to build the test archive";
  fs::create_directories(root_ / "src" / "a");
  {
    std::ofstream big(root_ / "src" / "a" / "big.bin", std::ios::binary);
    big.seekp((8 << 20) - 1);
    big.put('\0');  // 8 MiB of zeros: the .tar.gz is a few kB
  }
  const std::string archive = path("bomb.tar.gz");
  const std::string tar = "tar czf '" + archive + "' -C '" + (root_ / "src").string() + "' a";
  ASSERT_EQ(std::system(tar.c_str()), 0) << tar;
  const auto outcome = nesgd::testing::run_with_file_size_limit(1 << 20, [&] {
    std::vector<ArchiveMember> members{{"a/big.bin", path("big.bin"), 3073, ""}};
    extract_members(archive, members);
  });
  EXPECT_EQ(outcome, nesgd::testing::LimitedOutcome::kNesgdError) << nesgd::testing::to_string(outcome);
  std::vector<ArchiveMember> members{{"a/big.bin", path("big.bin"), 3073, ""}};
  expect_error([&] { extract_members(archive, members); }, {"member a/big.bin holds more than 3073 bytes"});
  for (const auto& entry : fs::directory_iterator(root_)) {
    EXPECT_EQ(entry.path().filename().string().find("big.bin"), std::string::npos) << "left behind: " << entry.path();
  }
}

TEST(CifarSubset, RealSharedSubsetLoadsWithTheReadmeCounts) {
  const fs::path root = NESGD_SHARED_DATA;
  if (!fs::is_directory(root / "cifar-10-subset")) {
    GTEST_SKIP() << "no CIFAR-10 subset at " << (root / "cifar-10-subset")
                 << ": this test checks the shipped subset; put the project's data folder beside the checkout";
  }
  DataOptions options = isolated_options();
  options.data_dir = root.string();
  const DatasetSplits s = load_dataset("cifar10-subset", options);  // verify on: README sums
  ASSERT_EQ(s.train.n, 4000);
  ASSERT_EQ(s.test.n, 4593);
  auto counts = [](const ImageSet& set) {
    std::vector<int64_t> c(10, 0);
    for (int64_t label : set.labels) ++c[label];
    return c;
  };
  EXPECT_EQ(counts(s.train), (std::vector<int64_t>{396, 366, 420, 384, 422, 393, 414, 385, 407, 413}));
  EXPECT_EQ(counts(s.test), (std::vector<int64_t>{1000, 1000, 100, 103, 90, 86, 112, 102, 1000, 1000}));
  EXPECT_EQ(std::vector<int64_t>(s.train.labels.begin(), s.train.labels.begin() + 10),
            (std::vector<int64_t>{6, 9, 9, 4, 1, 1, 2, 7, 8, 3}));
  EXPECT_EQ(std::vector<int64_t>(s.test.labels.begin(), s.test.labels.begin() + 10),
            (std::vector<int64_t>{3, 8, 8, 0, 6, 6, 1, 6, 3, 1}));
  // README "Known values": red and green planes of training image 0 ([C, H, W] layout).
  const std::vector<uint8_t> red(s.train.images.begin(), s.train.images.begin() + 10);
  const std::vector<uint8_t> green(s.train.images.begin() + 1024, s.train.images.begin() + 1034);
  EXPECT_EQ(red, (std::vector<uint8_t>{59, 43, 50, 68, 98, 119, 139, 145, 149, 149}));
  EXPECT_EQ(green, (std::vector<uint8_t>{62, 46, 48, 54, 73, 91, 107, 110, 117, 120}));
  // README: per-channel training means R 125.36, G 122.85, B 113.39.
  const std::array<double, 3> want_mean = {125.36, 122.85, 113.39};
  for (int c = 0; c < 3; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < s.train.n; ++i) {
      const uint8_t* plane = s.train.images.data() + i * kCifarPixelBytes + c * 1024;
      sum = std::accumulate(plane, plane + 1024, sum);
    }
    EXPECT_NEAR(sum / (s.train.n * 1024.0), want_mean[c], 0.005) << "channel " << c;
  }
  for (const auto& c : verify_dataset(find_dataset("cifar10-subset"), options)) {
    EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
    EXPECT_EQ(c.detail, "sha256 ok");
  }
}

// --- cifar10-subset: the selection rule (cifar_subset.h) -------------------

namespace {

constexpr std::size_t kRecord = 3073;

// The bytes of a CIFAR-10 file whose record i has label labels[i] and pixels
// (i + pixel_seed + j) % 251, so every record differs from its neighbours.
std::string cifar10_bytes(const std::vector<int>& labels, int pixel_seed = 0) {
  std::string bytes;
  bytes.reserve(labels.size() * kRecord);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    bytes.push_back(static_cast<char>(labels[i]));
    for (std::size_t j = 0; j < kRecord - 1; ++j) bytes.push_back(static_cast<char>((i + pixel_seed + j) % 251));
  }
  return bytes;
}

std::vector<int> cycling_labels(int n) {
  std::vector<int> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i % 10;
  return labels;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(CifarSubsetRule, SelectsTheDocumentedRecordsOfASyntheticCifar10) {
  const std::string train = cifar10_bytes(cycling_labels(4100));
  const std::string test = cifar10_bytes(cycling_labels(1500), 7);
  const std::vector<DerivedFile> files = select_cifar10_subset(train, test);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].name, "data_batch_1.bin");
  EXPECT_EQ(files[0].content, train.substr(0, 4000 * kRecord)) << "the first 4,000 training records, in order";

  // Test: indices 0-999 whatever the class, then only labels 0, 1, 8, 9.
  std::string want_test, want_indices;
  for (int i = 0; i < 1500; ++i) {
    if (i < 1000 || i % 10 == 0 || i % 10 == 1 || i % 10 == 8 || i % 10 == 9) {
      want_test += test.substr(static_cast<std::size_t>(i) * kRecord, kRecord);
      want_indices += std::to_string(i) + "\n";
    }
  }
  EXPECT_EQ(files[1].name, "test_batch.bin");
  EXPECT_EQ(files[1].content.size(), (1000u + 200u) * kRecord);
  EXPECT_EQ(files[1].content, want_test);
  EXPECT_EQ(files[2].name, "test_indices.txt");
  EXPECT_EQ(files[2].content, want_indices);
  EXPECT_EQ(files[2].content.substr(0, 6), "0\n1\n2\n");
  // The class names file is the same for any source: its sum is the registry's.
  EXPECT_EQ(files[3].name, "batches.meta.txt");
  EXPECT_EQ(files[3].content.substr(0, 20), "airplane\nautomobile\n");
  EXPECT_EQ(sha256_bytes(files[3].content), find_dataset("cifar10-subset").files[3].sha256);
}

TEST(CifarSubsetRule, RefusesSourcesItCannotSelectFrom) {
  const std::string test = cifar10_bytes(cycling_labels(1000));
  expect_error([&] { select_cifar10_subset(cifar10_bytes(cycling_labels(3999)), test); },
               {"needs at least 4000 training and 1000 test records; the source has 3999 and 1000"});
  expect_error([&] { select_cifar10_subset(cifar10_bytes(cycling_labels(4000)) + "x", test); },
               {"data_batch_1.bin", "not a whole number of 3073-byte CIFAR-10 records"});
  std::vector<int> bad = cycling_labels(1000);
  bad[17] = 10;
  expect_error([&] { select_cifar10_subset(cifar10_bytes(cycling_labels(4000)), cifar10_bytes(bad)); },
               {"test_batch.bin: record 17 has label 10"});
}

// Deriving through the resolver: a CIFAR-10 folder in the cache (six files of
// the official size; data_batch_2-5 sparse, the rule does not read them).
class DerivedSubset : public CifarRoot {
 protected:
  void SetUp() override {
    CifarRoot::SetUp();
    options_ = isolated_options();
    options_.cache_dir = path("cache");
  }
  fs::path cifar10_folder() const { return root_ / "cache" / "cifar-10-batches-bin"; }
  void write_cifar10(const std::string& data_batch_1, const std::string& test_batch) {
    write_bytes(cifar10_folder() / "data_batch_1.bin", data_batch_1);
    write_bytes(cifar10_folder() / "test_batch.bin", test_batch);
    for (int i = 2; i <= 5; ++i) {
      const fs::path p = cifar10_folder() / ("data_batch_" + std::to_string(i) + ".bin");
      std::ofstream(p).close();
      fs::resize_file(p, 10000 * kRecord);
    }
  }
  DataOptions options_;
};

TEST_F(DerivedSubset, ForeignSourceWritesNothing) {
  write_cifar10(cifar10_bytes(cycling_labels(10000)), cifar10_bytes(cycling_labels(10000), 3));
  expect_error([&] { fetch_dataset(find_dataset("cifar10-subset"), options_); },
               {"cifar10-subset made from " + cifar10_folder().string(), "gives data_batch_1.bin with SHA-256",
                "want 0993cf8b", "not the official data, so nothing was written"});
  EXPECT_FALSE(fs::exists(root_ / "cache" / "cifar-10-subset" / "data_batch_1.bin"));
  EXPECT_FALSE(fs::exists(root_ / "cache" / "cifar-10-subset" / "test_batch.bin"));
  // load_dataset says both what it looked for and why it could not make it.
  expect_error([&] { load_dataset("cifar10-subset", options_); },
               {"cifar10-subset not found", "not the official data"});
  // A source of the wrong size is refused before any selection.
  write_bytes(cifar10_folder() / "test_batch.bin", cifar10_bytes(cycling_labels(9999)));
  expect_error([&] { fetch_dataset(find_dataset("cifar10-subset"), options_); },
               {"test_batch.bin: 30726927 bytes, want 30730000: not the official cifar10 file"});
}

// The shipped subset's records put back at their official positions in a
// CIFAR-10 whose other records are fillers that the rule must drop (classes
// 2-7 beyond test index 999): the derived files must be the shipped ones,
// byte for byte, i.e. match the registry's SHA-256.
TEST_F(DerivedSubset, RuleReproducesTheShippedSubsetByteForByte) {
  const fs::path shipped = fs::path(NESGD_SHARED_DATA) / "cifar-10-subset";
  if (!fs::is_regular_file(shipped / "test_indices.txt")) {
    GTEST_SKIP() << "needs the shipped cifar-10-subset at " << shipped
                 << " to rebuild official records around: put the project's data folder beside the checkout";
  }
  std::string train = read_bytes(shipped / "data_batch_1.bin");
  ASSERT_EQ(train.size(), 4000 * kRecord);
  std::vector<int> filler_labels = cycling_labels(6000);
  train += cifar10_bytes(filler_labels, 11);

  const std::string shipped_test = read_bytes(shipped / "test_batch.bin");
  std::vector<int> indices;
  {
    std::ifstream in(shipped / "test_indices.txt");
    for (int i; in >> i;) indices.push_back(i);
  }
  ASSERT_EQ(indices.size(), 4593u);
  std::string test;
  std::size_t next = 0;
  for (int i = 0; i < 10000; ++i) {
    if (next < indices.size() && indices[next] == i) {
      test += shipped_test.substr(next * kRecord, kRecord);
      ++next;
    } else {
      ASSERT_GE(i, 1000) << "every test index below 1000 is in the subset";
      test += cifar10_bytes({2 + i % 6}, i);  // a class the rule drops
    }
  }
  ASSERT_EQ(next, indices.size());
  write_cifar10(train, test);

  // Not in any root: load_dataset makes it in the cache, without a download.
  const DatasetSplits s = load_dataset("cifar10-subset", options_);
  EXPECT_EQ(s.source, (root_ / "cache" / "cifar-10-subset").string() + " (cache, derived from cifar10)");
  EXPECT_EQ(s.train.n, 4000);
  EXPECT_EQ(s.test.n, 4593);
  for (const auto& c : verify_dataset(find_dataset("cifar10-subset"), options_)) {
    EXPECT_TRUE(c.ok) << c.file << ": " << c.detail;
    EXPECT_EQ(c.detail, "sha256 ok");
  }
  for (const char* name : {"data_batch_1.bin", "test_batch.bin", "test_indices.txt", "batches.meta.txt"}) {
    EXPECT_EQ(read_bytes(root_ / "cache" / "cifar-10-subset" / name), read_bytes(shipped / name)) << name;
  }
  const std::string manifest = read_bytes(root_ / "cache" / "cifar-10-subset" / "SHA256SUMS");
  EXPECT_NE(manifest.find("0993cf8b8e43bc207603aef9787006995746513f5e3fa5a52e06d1b069926330  data_batch_1.bin"),
            std::string::npos)
      << manifest;
  // Found in the cache from now on; a second fetch leaves it as it is.
  EXPECT_EQ(load_dataset("cifar10-subset", options_).source,
            (root_ / "cache" / "cifar-10-subset").string() + " (cache)");
  EXPECT_EQ(fetch_dataset(find_dataset("cifar10-subset"), options_), (root_ / "cache" / "cifar-10-subset").string());
}
