// The `nesgd` command line without data: every numeric flag of every
// subcommand refuses a bad value with one short sentence naming the flag (so
// does any flag given without its value), and
// `nesgd data list` shows each dataset's download size and where it is found.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/cli.h"

namespace fs = std::filesystem;
using nesgd::testing::run_nesgd;

namespace {

struct BadValue {
  std::string command;   // subcommand and flag with its value
  std::string sentence;  // the whole first line of the error
};

// The first line of `text`.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Runs `nesgd <args>` with only the given environment changes (sh syntax, e.g. "XDG_CACHE_HOME=/x").
nesgd::testing::CommandResult run_with_env(const std::string& env, const std::string& args) {
  return nesgd::testing::run_command("env -u NESGD_DATA_DIR " + env + " '" + NESGD_BINARY + "' " + args + " 2>&1");
}

// The two lines `nesgd data list` prints for `name`.
std::string list_entry(const std::string& output, const std::string& name) {
  const std::string text = "\n" + output;
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return "";
  const auto end = text.find('\n', text.find('\n', at + 1) + 1);
  return text.substr(at + 1, end - at - 1);
}

void touch(const fs::path& file) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << "x";
}

}  // namespace

TEST(CliFlags, EveryNumericFlagRefusesBadValuesWithOneSentence) {
  const std::vector<BadValue> cases = {
      {"train --batch-size 0", "--batch-size must be a positive integer"},
      {"train --batch-size -5", "--batch-size must be a positive integer"},
      {"train --batch-size 1.5", "--batch-size must be a positive integer"},
      {"train --batch-size abc", "--batch-size must be a positive integer"},
      {"train --alpha nan", "--alpha must be a finite number"},
      {"train --seed -1", "--seed must be an integer >= 0"},
      {"train --train-subset -1", "--train-subset must be an integer >= 0 (0 = all)"},
      {"train --l-star 0", "--l-star must be a positive number"},
      {"train --l-stop -1e-3", "--l-stop must be a positive number"},
      {"train --eval-every -1", "--eval-every must be an integer >= 0 (0 = once per epoch)"},
      {"train --max-iterations 2.5", "--max-iterations must be an integer >= 0 (0 = no cap)"},
      {"train --lr 0", "--lr must be a positive number"},
      {"train --beta1 1", "--beta1 must be a number in [0, 1)"},
      {"train --beta2 -0.1", "--beta2 must be a number in [0, 1)"},
      {"train --eps -1", "--eps must be a number >= 0"},
      {"train --momentum -0.5", "--momentum must be a number >= 0"},
      {"train --weight-decay -1", "--weight-decay must be a number >= 0"},
      {"train --ghost-batch-size 0", "--ghost-batch-size must be a positive integer"},
      {"train --threads -1", "--threads must be an integer >= 0 (0 = measured default)"},
      {"train --blas-threads x", "--blas-threads must be an integer >= 0 (0 = measured default)"},
      {"train --checkpoint-every 0", "--checkpoint-every must be a positive number"},
      {"noise --batch-size 0", "--batch-size must be a positive integer"},
      {"noise --alphas 1,abc", "--alphas must be a finite number"},
      {"noise --draws 0", "--draws must be a positive integer"},
      {"noise --seed -3", "--seed must be an integer >= 0"},
      {"noise --train-subset -1", "--train-subset must be an integer >= 0 (0 = all)"},
      {"noise --directions -1", "--directions must be an integer >= 0"},
      {"noise --pilot -1", "--pilot must be an integer >= 0 (0 = none)"},
      {"noise --confidence 1", "--confidence must be a number strictly between 0 and 1"},
      {"noise --threads -1", "--threads must be an integer >= 0 (0 = measured default)"},
      {"noise --blas-threads -1", "--blas-threads must be an integer >= 0 (0 = measured default)"},
      {"sweep --checkpoint-every -1", "--checkpoint-every must be a number >= 0 (0 = off)"},
      {"sweep --batch-size 0", "--batch-size must be a positive integer"},
  };
  for (const auto& c : cases) {
    const auto r = run_nesgd(c.command);
    EXPECT_NE(r.exit_code, 0) << c.command;
    EXPECT_EQ(first_line(r.output), "nesgd: error: " + c.sentence) << c.command << "\n" << r.output;
    EXPECT_EQ(r.output.find("not in range"), std::string::npos) << r.output;
    const std::string subcommand = c.command.substr(0, c.command.find(' '));
    EXPECT_NE(r.output.find("Run `nesgd " + subcommand + " --help` for the options."), std::string::npos) << r.output;
  }
}

TEST(CliFlags, AFlagWithoutItsValueSaysSoInOneSentence) {
  const std::vector<BadValue> cases = {
      {"train --batch-size", "--batch-size needs a value"},
      {"train --model", "--model needs a value"},
      {"noise --alphas", "--alphas needs a value"},
      {"sweep --batch-sizes", "--batch-sizes needs a value"},
      {"report --store", "--store needs a value"},
  };
  for (const auto& c : cases) {
    const auto r = run_nesgd(c.command);
    EXPECT_NE(r.exit_code, 0) << c.command;
    EXPECT_EQ(first_line(r.output), "nesgd: error: " + c.sentence) << c.command << "\n" << r.output;
    const std::string subcommand = c.command.substr(0, c.command.find(' '));
    EXPECT_NE(r.output.find("Run `nesgd " + subcommand + " --help` for the options."), std::string::npos) << r.output;
  }
}

TEST(CliFlags, GoodValuesPassTheChecks) {
  // Values at the edges of each range reach the command (which then stops at --help).
  const auto r = run_nesgd(
      "train --batch-size 1 --alpha -0.5 --seed 18446744073709551615 --train-subset 0 --beta1 0 --eps 0 "
      "--momentum 0 --threads 0 --lr 1e-9 --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("error"), std::string::npos) << r.output;
}

TEST(CliDataList, ShowsDownloadSizeAndWhereEachDatasetIsFound) {
  nesgd::testing::TempDir tmp;
  const fs::path root = fs::path(tmp.path()) / "root";
  const fs::path cache = fs::path(tmp.path()) / "cache";
  for (const char* f : {"data_batch_1.bin", "test_batch.bin", "test_indices.txt", "batches.meta.txt"}) {
    touch(root / "cifar-10-subset" / f);
  }
  for (const char* f : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                        "data_batch_5.bin", "test_batch.bin"}) {
    touch(cache / "nesgd" / "cifar-10-batches-bin" / f);
  }
  const std::string env = "XDG_CACHE_HOME='" + cache.string() + "'";

  // Without --data-dir: the cache holds cifar10, nothing holds cifar100 or the subset.
  auto r = run_with_env(env, "data list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(list_entry(r.output, "cifar10").find(
                "download 170.1 MB; found: " + (cache / "nesgd" / "cifar-10-batches-bin").string() + " (cache)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(list_entry(r.output, "cifar100").find(
                "download 168.5 MB; absent: downloaded on first use, or `nesgd data fetch cifar100`"),
            std::string::npos)
      << r.output;
  EXPECT_NE(list_entry(r.output, "cifar10-subset").find(
                "made from cifar10 (download 170.1 MB); absent: made on first use, or `nesgd data fetch "
                "cifar10-subset`"),
            std::string::npos)
      << r.output;
  EXPECT_NE(list_entry(r.output, "fashion-mnist").find("download 30.9 MB; "), std::string::npos) << r.output;

  // --data-dir (and NESGD_DATA_DIR) name the one root to look in.
  r = run_with_env(env, "data list --data-dir '" + root.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string subset_found = "found: " + (root / "cifar-10-subset").string() + " (--data-dir)";
  EXPECT_NE(list_entry(r.output, "cifar10-subset").find(subset_found), std::string::npos)
      << r.output;
  EXPECT_NE(list_entry(r.output, "cifar10").find("; absent"), std::string::npos) << r.output;
  r = run_with_env(env + " NESGD_DATA_DIR='" + root.string() + "'", "data list");
  EXPECT_NE(list_entry(r.output, "cifar10-subset").find("(NESGD_DATA_DIR)"), std::string::npos) << r.output;
}
