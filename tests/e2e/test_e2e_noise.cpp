// End to end: `nesgd noise` on a real Fashion-MNIST subset.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/cli.h"

using nesgd::testing::run_nesgd;

namespace {

const char* kSmallRun =
    " --offline --train-subset 2000 --batch-size 100 --alphas 1,1.5,2,3 --draws 16 --pilot 4 --directions 4"
    " --seed 2 --threads 1 --blas-threads 1";

}  // namespace

TEST(E2ENoise, JsonHoldsEveryFieldOnRealData) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  nesgd::testing::TempDir tmp;
  const std::string out = tmp.path() + "/noise.json";
  const auto r = run_nesgd("noise --model f1 --dataset fashion-mnist --data-dir '" + root + "'" + kSmallRun +
                           " --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(nesgd::testing::read_text(out));
  for (const char* key : {"b_simple", "b_simple_ci_low", "b_simple_ci_high", "b_simple_direct", "trace_cov_b",
                          "trace_sigma", "train_loss", "dataset_size", "batch_size", "draws", "seed", "parameters",
                          "model", "dataset", "weights", "environment", "alphas"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["dataset_size"], 2000);
  EXPECT_EQ(j["batch_size"], 100);
  EXPECT_EQ(j["draws"], 16);
  EXPECT_EQ(j["model"], "f1");
  EXPECT_EQ(j["weights"], "initial weights of seed 2");
  ASSERT_EQ(j["alphas"].size(), 4u);
  const std::vector<double> theory{1.0, 2.5, 5.0, 13.0};
  const std::vector<int64_t> b_eff{100, 40, 20, 8};
  for (size_t i = 0; i < 4; ++i) {
    const auto& a = j["alphas"][i];
    for (const char* key : {"alpha", "theory_factor", "measured_factor", "ci_low", "ci_high", "b_eff",
                            "b_eff_rounded", "plain_theory_factor", "plain_measured_factor", "plain_ci_low",
                            "plain_ci_high", "kurtosis_random_ne", "kurtosis_random_plain", "kurtosis_principal_ne",
                            "kurtosis_principal_plain"}) {
      ASSERT_TRUE(a.contains(key)) << key;
      EXPECT_TRUE(a[key].is_number()) << key << " = " << a[key];
    }
    EXPECT_EQ(a["theory_factor"].get<double>(), theory[i]);
    EXPECT_EQ(a["b_eff_rounded"].get<int64_t>(), b_eff[i]);
    EXPECT_LE(a["ci_low"].get<double>(), a["measured_factor"].get<double>());
    EXPECT_GE(a["ci_high"].get<double>(), a["measured_factor"].get<double>());
  }
  EXPECT_EQ(j["alphas"][0]["measured_factor"], 1.0);  // alpha = 1: plain B on the same draws
  EXPECT_GT(j["trace_cov_b"].get<double>(), 0.0);
  // The table went to stdout.
  EXPECT_NE(r.output.find("B_simple"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("13.0000"), std::string::npos) << r.output;
}

TEST(E2ENoise, MeasuresAModelSavedByTrain) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  if (run_nesgd("train --help").output.find("--save-model") == std::string::npos) {
    GTEST_SKIP() << "this build's `nesgd train` has no --save-model";
  }
  nesgd::testing::TempDir tmp;
  const std::string model = tmp.path() + "/m.pt", out = tmp.path() + "/noise.json";
  auto r = run_nesgd("train --data-dir '" + root +
                     "' --offline --train-subset 500 --batch-size 50 --seed 4 --max-iterations 20 -q --out '" +
                     tmp.path() + "/run.json' --save-model '" + model + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_nesgd("noise --data-dir '" + root + "' --load-model '" + model + "'" + kSmallRun + " -q --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(nesgd::testing::read_text(out));
  EXPECT_EQ(j["weights"], model);
  EXPECT_EQ(j["model"], "f1");
}

TEST(E2ENoise, JsonFlagPrintsJsonOnStdout) {
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  const auto r = run_nesgd("noise --data-dir '" + root +
                           "' --offline --train-subset 300 --batch-size 20 --alphas 1,2 --draws 8 --pilot 0 "
                           "--directions 1 --threads 1 --blas-threads 1 -q --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["alphas"].size(), 2u);
  EXPECT_TRUE(j["alphas"][1]["kurtosis_principal_ne"].is_null());  // --pilot 0: no principal direction
}

TEST(E2ENoise, BadFlagsGiveClearErrors) {
  auto r = run_nesgd("noise --alphas 1,abc");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--alphas"), std::string::npos) << r.output;
  const std::string root = nesgd::testing::fashion_mnist_root();
  if (root.empty()) GTEST_SKIP() << nesgd::testing::kNoFashionMnist;
  r = run_nesgd("noise --data-dir '" + root + "' --offline --train-subset 100 --batch-size 10 --draws 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--draws"), std::string::npos) << r.output;
  r = run_nesgd("noise --data-dir '" + root + "' --offline --train-subset 100 --batch-size 100");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--batch-size"), std::string::npos) << r.output;
  r = run_nesgd("noise --data-dir '" + root + "' --offline --load-model /nonexistent/model.pt");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("/nonexistent/model.pt"), std::string::npos) << r.output;
}
