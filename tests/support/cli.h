// Helpers for end-to-end tests that run the built `nesgd` binary.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/fs.h"

namespace nesgd::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing what it prints (add 2>&1 for stderr).
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t got;
  while ((got = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, got);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `nesgd <args>` through the shell, capturing stdout+stderr.
inline CommandResult run_nesgd(const std::string& args) {
  return run_command(std::string("'") + NESGD_BINARY + "' " + args + " 2>&1");
}

// What a test that needs real data says when it skips: how to provide the data.
constexpr const char* kNoFashionMnist =
    "no Fashion-MNIST here. Provide it with `apt install dataset-fashion-mnist`, or set NESGD_DATA_DIR to a data "
    "root holding fashion-mnist/ (`nesgd data fetch fashion-mnist --data-dir DIR` downloads one there), or put the "
    "project's data folder beside the checkout (../shared/data)";
constexpr const char* kNoCifar10Subset =
    "no CIFAR-10 subset here. Provide it by setting NESGD_DATA_DIR to a data root holding cifar-10-subset/ "
    "(`nesgd data fetch cifar10-subset --data-dir DIR` makes one there from the official CIFAR-10), or put the "
    "project's data folder beside the checkout (../shared/data)";

// A data root holding real Fashion-MNIST, or "" if this machine has none:
// ../shared/data beside the checkout, $NESGD_DATA_DIR, or Debian's package.
inline std::string fashion_mnist_root() {
  namespace fs = std::filesystem;
  if (fs::exists(fs::path(NESGD_SHARED_DATA) / "fashion-mnist")) return NESGD_SHARED_DATA;
  if (const char* env = std::getenv("NESGD_DATA_DIR")) {
    if (fs::exists(fs::path(env) / "fashion-mnist")) return env;
  }
  if (fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) return "/usr/share/datasets";
  return "";
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh temporary folder, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nesgd-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    remove_tree(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nesgd::testing
