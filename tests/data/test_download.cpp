// Verified downloads against a local HTTP server (python3 -m http.server on
// 127.0.0.1): a good file lands, and a wrong sum, wrong size, 404 or dead
// server leaves nothing behind. fetch_dataset runs against the real registry,
// so a mirror of fake files must be rejected, and a mirror of the real files
// (when the shared data folder exists) must fill the cache.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/data.h"
#include "support/fs.h"
#include "support/net.h"

#include "nesgd/data/download.h"
#include "nesgd/data/idx.h"
#include "nesgd/data/registry.h"
#include "nesgd/data/resolve.h"
#include "nesgd/data/sha256.h"
#include "nesgd/error.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace nesgd::data;
using nesgd::testing::expect_error;

namespace {

std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = (fs::temp_directory_path() / ("nesgd-" + tag + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  return tmpl;
}

std::vector<std::string> entries(const fs::path& folder) {
  std::vector<std::string> names;
  if (fs::is_directory(folder)) {
    for (const auto& entry : fs::directory_iterator(folder)) names.push_back(entry.path().filename().string());
  }
  return names;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool accepts_connections(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool python_available() {
  static const bool available = std::system("python3 -c pass >/dev/null 2>&1") == 0;
  return available;
}

// One server for the whole suite, serving a folder of generated files:
//   small.bin          5000 pseudo-random bytes
//   fake/<4 names>     tiny IDX files under the official Fashion-MNIST names
//   real -> the shared data's fashion-mnist folder, when it exists
class DownloadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!download_supported() || !python_available()) {
      return;
    }
    served_ = make_temp_dir("served");
    std::mt19937 rng(99);
    small_.resize(5000);
    for (char& c : small_) c = static_cast<char>(rng());
    std::ofstream(fs::path(served_) / "small.bin", std::ios::binary) << small_;
    fs::create_directories(fs::path(served_) / "fake");
    for (const auto& file : find_dataset("fashion-mnist").files) {
      const bool labels = file.name.find("labels") != std::string::npos;
      IdxArray array{labels ? std::vector<uint32_t>{4} : std::vector<uint32_t>{4, 28, 28}, {}};
      array.data.assign(labels ? 4 : 4 * 784, 1);
      write_idx((fs::path(served_) / "fake" / file.name).string(), array, true);
    }
    const fs::path shared = fs::path(NESGD_SHARED_DATA) / "fashion-mnist";
    if (fs::is_directory(shared)) {
      fs::create_directory_symlink(shared, fs::path(served_) / "real");
    }

    port_ = nesgd::testing::free_port();
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {"python3",   "-m", "http.server", "--bind",
                                     "127.0.0.1", port, "--directory", served_};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&server_pid_, "python3", &actions, nullptr, argv.data(), environ) != 0) {
      server_pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 200 && server_pid_ > 0 && !accepts_connections(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    base_ = "http://127.0.0.1:" + port + "/";
  }

  static void TearDownTestSuite() {
    if (server_pid_ > 0) {
      kill(server_pid_, SIGTERM);
      waitpid(server_pid_, nullptr, 0);
      server_pid_ = -1;
    }
    if (!served_.empty()) {
      nesgd::testing::remove_tree(served_);
    }
  }

  void SetUp() override {
    if (!download_supported()) {
      GTEST_SKIP() << "built without libcurl: no download support to test";
    }
    if (!python_available()) {
      GTEST_SKIP() << "python3 not found: it serves the files for this test";
    }
    ASSERT_GT(server_pid_, 0) << "could not start python3 -m http.server";
    ASSERT_TRUE(accepts_connections(port_)) << "local HTTP server not answering on port " << port_;
    dir_ = make_temp_dir("download");
  }
  void TearDown() override {
    if (!dir_.empty()) {
      nesgd::testing::remove_tree(dir_);
    }
  }

  DownloadOptions small_options() const {
    DownloadOptions options;
    options.expected_bytes = small_.size();
    options.expected_sha256 = sha256_bytes(small_);
    options.timeout_seconds = 30;
    return options;
  }

  // Fetch/load options that see only this test's folders and server.
  DataOptions data_options(const std::string& mirror) const {
    DataOptions options;
    options.cache_dir = (fs::path(dir_) / "cache").string();
    options.mirror = mirror;
    options.use_environment = false;
    options.use_system_dirs = false;
    return options;
  }

  static inline std::string served_;
  static inline std::string small_;
  static inline std::string base_;
  static inline int port_ = -1;
  static inline pid_t server_pid_ = -1;
  std::string dir_;
};

TEST_F(DownloadTest, GoodFileLandsIntoNewFolders) {
  const fs::path dest = fs::path(dir_) / "a" / "b" / "small.bin";
  DownloadOptions options = small_options();
  uint64_t last_progress = 0;
  options.progress = [&](uint64_t got, uint64_t total) {
    EXPECT_EQ(total, small_.size());
    last_progress = got;
  };
  download_verified(base_ + "small.bin", dest.string(), options);
  EXPECT_EQ(read_text(dest), small_);
  EXPECT_EQ(last_progress, small_.size());
  EXPECT_EQ(entries(dest.parent_path()), std::vector<std::string>{"small.bin"});  // no .part left
}

TEST_F(DownloadTest, WrongSumLeavesNothing) {
  const fs::path dest = fs::path(dir_) / "small.bin";
  DownloadOptions options = small_options();
  options.expected_sha256 = sha256_bytes("something else");
  expect_error([&] { download_verified(base_ + "small.bin", dest.string(), options); },
               {base_ + "small.bin", "SHA-256 mismatch", "got " + sha256_bytes(small_), "--mirror", "--data-dir"});
  EXPECT_TRUE(entries(dir_).empty()) << "left: " << entries(dir_).front();
}

TEST_F(DownloadTest, WrongSizeLeavesNothing) {
  const fs::path dest = fs::path(dir_) / "small.bin";
  DownloadOptions options = small_options();
  options.expected_bytes = small_.size() + 1;
  expect_error([&] { download_verified(base_ + "small.bin", dest.string(), options); },
               {"got 5000 bytes, expected 5001"});
  options.expected_bytes = small_.size() - 1;  // stops as soon as the server sends too much
  expect_error([&] { download_verified(base_ + "small.bin", dest.string(), options); },
               {"more than the expected 4999 bytes"});
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(DownloadTest, FailureKeepsExistingFileAndSuccessReplacesIt) {
  const fs::path dest = fs::path(dir_) / "small.bin";
  std::ofstream(dest) << "old";
  DownloadOptions options = small_options();
  options.expected_sha256 = sha256_bytes("something else");
  EXPECT_THROW(download_verified(base_ + "small.bin", dest.string(), options), nesgd::Error);
  EXPECT_EQ(read_text(dest), "old");
  download_verified(base_ + "small.bin", dest.string(), small_options());
  EXPECT_EQ(read_text(dest), small_);
  EXPECT_EQ(entries(dir_).size(), 1u);
}

TEST_F(DownloadTest, NotFoundAndDeadServer) {
  const std::string dest = (fs::path(dir_) / "x.bin").string();
  expect_error([&] { download_verified(base_ + "missing.bin", dest, small_options()); },
               {base_ + "missing.bin", "HTTP status 404", "--mirror"});
  const std::string dead = "http://127.0.0.1:" + std::to_string(nesgd::testing::free_port()) + "/x.bin";
  expect_error([&] { download_verified(dead, dest, small_options()); }, {dead, "failed"});
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(DownloadTest, RefusesUnverifiedDownload) {
  DownloadOptions options = small_options();
  options.expected_sha256.clear();
  expect_error([&] { download_verified(base_ + "small.bin", (fs::path(dir_) / "s").string(), options); },
               {"expected_sha256"});
  EXPECT_TRUE(entries(dir_).empty());
}

TEST_F(DownloadTest, FetchRejectsFakeMirrorFiles) {
  const DatasetSpec& spec = find_dataset("fashion-mnist");
  const DataOptions options = data_options(base_ + "fake");  // no trailing slash: fetch adds one
  expect_error([&] { fetch_dataset(spec, options); },
               {base_ + "fake/train-images-idx3-ubyte.gz", "expected 26421880", "NESGD_FASHION_MNIST_MIRROR"});
  EXPECT_TRUE(entries(fs::path(options.cache_dir) / "fashion-mnist").empty());
  // Nothing valid arrived, so the dataset is still not there.
  DataOptions offline = options;
  offline.allow_download = false;
  EXPECT_THROW(load_dataset("fashion-mnist", offline), nesgd::Error);
}

TEST_F(DownloadTest, FetchReports404FromMirror) {
  const DataOptions options = data_options(base_ + "nothing-here/");
  expect_error([&] { fetch_dataset(find_dataset("fashion-mnist"), options); },
               {base_ + "nothing-here/train-images-idx3-ubyte.gz", "HTTP status 404"});
  EXPECT_TRUE(entries(fs::path(options.cache_dir) / "fashion-mnist").empty());
}

TEST_F(DownloadTest, LoadDownloadsRealFilesIntoCache) {
  if (!fs::exists(fs::path(served_) / "real")) {
    GTEST_SKIP() << "no Fashion-MNIST at " << NESGD_SHARED_DATA
                 << "/fashion-mnist to serve: put the project's data folder beside the checkout to run this test";
  }
  const DatasetSpec& spec = find_dataset("fashion-mnist");
  DataOptions options = data_options(base_ + "real/");
  ::testing::internal::CaptureStderr();
  const DatasetSplits splits = load_dataset("fashion-mnist", options);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "the library prints nothing by itself";
  EXPECT_EQ(splits.train.n, 60000);
  EXPECT_EQ(splits.test.n, 10000);
  EXPECT_NE(splits.source.find("downloaded"), std::string::npos) << splits.source;
  const fs::path folder = fs::path(options.cache_dir) / "fashion-mnist";
  EXPECT_EQ(entries(folder).size(), 4u);
  for (const auto& file : spec.files) {
    EXPECT_EQ(sha256_file((folder / file.name).string()), file.sha256) << file.name;
  }

  // A corrupt cached file is reported, then re-fetched; valid files are not
  // downloaded again (the second fetch would fail on a dead mirror otherwise).
  std::ofstream(folder / "t10k-labels-idx1-ubyte.gz", std::ios::binary) << "garbage";
  const auto checks = verify_dataset(spec, options);
  EXPECT_TRUE(checks[0].ok) << checks[0].detail;
  EXPECT_FALSE(checks[3].ok);
  EXPECT_NE(checks[3].detail.find("sha256 mismatch"), std::string::npos) << checks[3].detail;
  // What the fetch says goes to the report, line by line; progress names its file.
  std::vector<std::string> lines;
  std::set<std::string> progress_files;
  uint64_t last_got = 0;
  options.report.message = [&](const std::string& line) { lines.push_back(line); };
  options.report.progress = [&](const std::string& file, uint64_t got, uint64_t) {
    progress_files.insert(file);
    last_got = got;
  };
  EXPECT_EQ(fetch_dataset(spec, options), folder.string());
  const std::string bad = "t10k-labels-idx1-ubyte.gz";
  ASSERT_EQ(lines.size(), 5u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i], "  " + (folder / spec.files[i].name).string() + ": present, sha256 ok");
  }
  EXPECT_EQ(lines[3], "downloading " + base_ + "real/" + bad + " -> " + (folder / bad).string());
  EXPECT_EQ(lines[4].rfind("  " + bad + ": ", 0), 0u) << lines[4];
  EXPECT_NE(lines[4].find(", sha256 ok"), std::string::npos) << lines[4];
  EXPECT_EQ(progress_files, std::set<std::string>{bad});
  EXPECT_EQ(last_got, spec.files[3].bytes);
  options.report = {};
  for (const auto& check : verify_dataset(spec, options)) EXPECT_TRUE(check.ok) << check.file << ": " << check.detail;
  options.mirror = "http://127.0.0.1:" + std::to_string(nesgd::testing::free_port()) + "/";
  EXPECT_EQ(fetch_dataset(spec, options), folder.string());
}

}  // namespace
