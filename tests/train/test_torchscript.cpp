// A user's own TorchScript network (--model torchscript:PATH): a scripted F1
// follows the built-in F1 step for step in float64; a scripted conv net with
// batch norm trains, checkpoints and resumes bit for bit; --init glorot and
// --init file; the run id holds the file's SHA-256; bad files are named errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "nesgd/error.h"
#include "nesgd/exp/run_id.h"
#include "nesgd/models/network.h"
#include "nesgd/models/serialize.h"
#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"
#include <nlohmann/json.hpp>

#include "support/cli.h"
#include "support/compare.h"
#include "support/scripted.h"
#include "support/synthetic.h"

namespace nesgd::train {
namespace {

using testing::rel_diff;


// 8 x 8 grey images: F1's hidden layers dominate its cost either way.
const data::DatasetSplits& grey() {
  static const data::DatasetSplits d = testing::synthetic(120, 40, 51, {/*channels=*/1, /*height=*/8, /*width=*/8});
  return d;
}
const data::DatasetSplits& colour() {
  static const data::DatasetSplits d = testing::synthetic(60, 20, 52, {/*channels=*/3, /*height=*/8, /*width=*/8});
  return d;
}

std::string save(torch::jit::Module m, const std::string& path) {
  m.save(path);
  return path;
}

RunConfig run_of(const std::string& model) {
  RunConfig c;
  c.model = model;
  c.precision = "fp64";
  c.batch_size = 10;
  c.train_subset = 120;
  c.alpha = 1.5;
  c.seed = 7;
  c.l_star = 1e-9;  // never reached: all 200 steps
  c.l_stop = 1e-10;
  c.eval_every = 1;
  c.max_iterations = 200;
  c.threads = 1;
  c.blas_threads = 1;
  return c;
}

}  // namespace

TEST(TorchScript, ScriptedF1FollowsTheBuiltInF1StepForStep) {
  testing::TempDir tmp;
  const std::string path = save(testing::scripted_f1(64), tmp.path() + "/f1.pt");
  const RunResult builtin = train_run(run_of("f1"), grey());
  const RunResult scripted = train_run(run_of("torchscript:" + path), grey());
  ASSERT_EQ(builtin.iterations, 200);
  ASSERT_EQ(scripted.iterations, 200);
  EXPECT_EQ(scripted.parameters, builtin.parameters);
  ASSERT_EQ(scripted.curve.size(), builtin.curve.size());
  double worst = 0.0;
  for (size_t i = 0; i < builtin.curve.size(); ++i) {
    worst = std::max({worst, rel_diff(scripted.curve[i].minibatch_loss, builtin.curve[i].minibatch_loss),
                      rel_diff(scripted.curve[i].train_loss, builtin.curve[i].train_loss)});
  }
  worst = std::max(worst, rel_diff(scripted.test_loss, builtin.test_loss));
  std::cout << "scripted F1 against F1: 200 steps, largest relative difference " << worst << "\n";
  EXPECT_LT(worst, testing::kSameRunFp64);
  EXPECT_EQ(scripted.test_accuracy, builtin.test_accuracy);
}

TEST(TorchScript, ConvNetWithBatchNormTrainsCheckpointsAndResumesBitForBit) {
  testing::TempDir tmp;
  const std::string path = save(testing::scripted_bn_net(3, 10), tmp.path() + "/bn net.pt");
  RunConfig c = run_of("torchscript:" + path);
  c.train_subset = 60;
  c.max_iterations = 24;
  c.eval_every = 0;  // once per epoch of 6 steps
  const RunResult whole = train_run(c, colour());
  EXPECT_LT(whole.curve.back().train_loss, whole.curve.front().train_loss) << "it learns";

  // Interrupted after 10 steps, then resumed from the checkpoint.
  RunFiles files;
  files.checkpoint = tmp.path() + "/run.ckpt";
  TrainHooks stop_at_10;
  int steps = 0;
  stop_at_10.should_stop = [&] { return ++steps > 10; };
  const RunResult first = train_run(c, colour(), stop_at_10, files);
  ASSERT_EQ(first.status, RunStatus::kInterrupted);
  ASSERT_EQ(first.iterations, 10);
  files.save_model = tmp.path() + "/final.pt";
  const RunResult resumed = train_run(c, colour(), {}, files);
  EXPECT_EQ(resumed.resumed_from_iteration, 10);
  EXPECT_EQ(resumed.iterations, whole.iterations);
  ASSERT_EQ(resumed.curve.size(), whole.curve.size());
  for (size_t i = 0; i < whole.curve.size(); ++i) {
    EXPECT_EQ(resumed.curve[i].train_loss, whole.curve[i].train_loss) << "check " << i;
    EXPECT_EQ(resumed.curve[i].minibatch_loss, whole.curve[i].minibatch_loss) << "check " << i;
  }
  // The test loss is evaluated on the running statistics, which the checkpoint carried.
  EXPECT_EQ(resumed.test_loss, whole.test_loss);
  // The saved model file names the TorchScript model and loads it again with its weights.
  models::LoadedModel loaded = models::load_model(files.save_model);
  EXPECT_EQ(loaded.spec.name, c.model);
}

TEST(TorchScript, GlorotInitDependsOnTheSeedAndFileKeepsTheSavedWeights) {
  testing::TempDir tmp;
  torch::jit::Module m = testing::scripted_bn_net(3, 10);
  const std::string path = save(m, tmp.path() + "/net.pt");
  models::ModelSpec spec{"torchscript:" + path, 3, 8, 8, 10};
  auto a = models::make_model(spec, 1), b = models::make_model(spec, 1), c = models::make_model(spec, 2);
  auto file = models::make_model(spec, 1, models::InitMode::kFile);
  const auto pa = a->named_parameters(), pb = b->named_parameters(), pc = c->named_parameters();
  const auto pf = file->named_parameters();
  EXPECT_TRUE(torch::equal(pa["conv_w"], pb["conv_w"]));
  EXPECT_FALSE(torch::equal(pa["conv_w"], pc["conv_w"]));
  EXPECT_TRUE(torch::equal(pf["conv_w"], m.attr("conv_w").toTensor())) << "--init file keeps the file's weights";
  // Glorot: weights within the bound, biases zero, the batch norm's scale one and its shift zero.
  const double bound = std::sqrt(6.0 / (3 * 9 + 8 * 9));
  EXPECT_LE(pa["conv_w"].abs().max().item<double>(), bound);
  EXPECT_TRUE(torch::equal(pa["conv_b"], torch::zeros({8})));
  EXPECT_TRUE(torch::equal(pa["bn_weight"], torch::ones({8})));
  EXPECT_TRUE(torch::equal(pa["bn_bias"], torch::zeros({8})));
  EXPECT_TRUE(torch::equal(a->named_buffers()["bn_running_var"], torch::ones({8})));
  // The built-in networks have no file to keep.
  EXPECT_THROW(models::make_model({"f1", 1, 8, 8, 10}, 1, models::InitMode::kFile), Error);
}

TEST(TorchScript, TheFilesHashIsPartOfTheRunIdAndTheRecordKeepsIt) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/net.pt";
  save(testing::scripted_bn_net(3, 10), path);
  RunConfig c = run_of("torchscript:" + path);
  const std::string id = exp::run_id(c);
  RunConfig resolved = c;
  resolved.resolve_defaults_and_validate();
  EXPECT_EQ(resolved.model_sha256.size(), 64u);
  EXPECT_EQ(resolved.l_star, 1e-9);
  save(testing::scripted_bn_net(3, 10), path);  // other weights: another file
  EXPECT_NE(exp::run_id(c), id) << "the same path with other content is another run";
  // Read back from a record, the config keeps its hash (the file need not exist on that machine).
  const RunConfig read = run_config_from_json(to_json(resolved));
  EXPECT_EQ(read.model_sha256, resolved.model_sha256);
  EXPECT_EQ(exp::run_id(read), id);
  // Unset thresholds are the paper's F1/C1 values.
  RunConfig defaults;
  defaults.model = "torchscript:" + path;
  defaults.resolve_defaults_and_validate();
  EXPECT_EQ(defaults.l_star, kOwnModelLStar);
  EXPECT_EQ(defaults.l_stop, kOwnModelLStop);
}

TEST(TorchScript, BadModelsAreNamedErrors) {
  testing::TempDir tmp;
  auto message = [&](const std::string& model, const data::DatasetSplits& data) -> std::string {
    try {
      RunConfig c = run_of(model);
      c.max_iterations = 1;
      c.train_subset = 0;
      train_run(c, data);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_NE(message("torchscript:" + tmp.path() + "/missing.pt", grey()).find("does not exist"), std::string::npos);
  {
    std::ofstream(tmp.path() + "/junk.pt") << "not a zip archive";
    const std::string m = message("torchscript:" + tmp.path() + "/junk.pt", grey());
    EXPECT_NE(m.find("cannot load TorchScript model"), std::string::npos) << m;
  }
  {
    // Three channels expected, the data has one.
    const std::string m = message("torchscript:" + save(testing::scripted_bn_net(3, 10), tmp.path() + "/rgb.pt"), grey());
    EXPECT_NE(m.find("fails on a batch of 1x8x8 images"), std::string::npos) << m;
  }
  {
    // Five logits for ten classes.
    const std::string m = message("torchscript:" + save(testing::scripted_bn_net(1, 5), tmp.path() + "/five.pt"), grey());
    EXPECT_NE(m.find("the dataset has 10 classes"), std::string::npos) << m;
  }
  RunConfig file_f1 = run_of("f1");
  file_f1.init = "file";
  EXPECT_THROW(file_f1.resolve_defaults_and_validate(), Error);
}

TEST(TorchScript, PacksRefuseThemNamingTheFix) {
  testing::TempDir tmp;
  const std::string path = save(testing::scripted_bn_net(3, 10), tmp.path() + "/net.pt");
  RunConfig c = run_of("torchscript:" + path);
  EXPECT_NE(pack_unsupported_reason(c).find("--pack 1"), std::string::npos);
  EXPECT_EQ(auto_pack_size(c), 1);
}


// The CLI end to end: a scripted conv net with batch norm, saved as a user saves one, on NumPy
// arrays written by numpy (tests/testdata/npz): train (with --init file too), sweep, report, noise.
TEST(TorchScriptCli, TrainSweepReportAndNoiseOnYourOwnModelAndArrays) {
  testing::TempDir tmp;
  const std::string net = save(testing::scripted_bn_net(3, 7), tmp.path() + "/my net.pt");
  const std::string model = " --model 'torchscript:" + net + "'";
  const std::string data = " --dataset 'npz:" + std::string(NESGD_TEST_DATA_DIR) + "/npz/savez_uint8_nhwc.npz'";

  const std::string out = tmp.path() + "/run.json";
  auto r = testing::run_nesgd("train" + model + data + " --batch-size 7 --alpha 1.5 --seed 3 --max-iterations 4 -q"
                              " --checkpoint '" + tmp.path() + "/run.ckpt' --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(testing::read_text(out));
  EXPECT_EQ(j["iterations"], 4);
  EXPECT_EQ(j["config"]["model"], "torchscript:" + net);
  EXPECT_EQ(j["config"]["model_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["config"]["init"], "glorot");
  EXPECT_EQ(j["ne_pass"], "split") << "its own batch norm would mix B and B' in one forward";
  const double glorot_loss = j["curve"][0]["minibatch_loss"];

  r = testing::run_nesgd("train" + model + data + " --init file --batch-size 7 --alpha 1.5 --seed 3 --max-iterations 4"
                         " -q --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  j = nlohmann::json::parse(testing::read_text(out));
  EXPECT_EQ(j["config"]["init"], "file");
  EXPECT_NE(j["curve"][0]["minibatch_loss"].get<double>(), glorot_loss) << "the file's weights, not Glorot's";

  const std::string store = tmp.path() + "/store", report = tmp.path() + "/report";
  r = testing::run_nesgd("sweep --configs 'torchscript:" + net + "'" + data +
                         " --batch-sizes 7 --alphas 1,1.5 --seeds 1..2 --max-iterations 3 -q --store '" + store + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = testing::run_nesgd("report --store '" + store + "' --out '" + report + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string csv = testing::read_text(report + "/summary.csv");
  EXPECT_NE(csv.find("my-net"), std::string::npos) << "the model's label is its file's stem\n" << csv;

  r = testing::run_nesgd("noise" + model + data + " --batch-size 3 --alphas 1,1.5 --draws 8 --pilot 2 --directions 2"
                         " --seed 1 -q --out '" + tmp.path() + "/noise.json'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  j = nlohmann::json::parse(testing::read_text(tmp.path() + "/noise.json"));
  EXPECT_EQ(j["model"], "torchscript:" + net);
  EXPECT_EQ(j["weights"], "initial weights of seed 1");
  r = testing::run_nesgd("noise" + model + data + " --init file --batch-size 3 --alphas 1,1.5 --draws 8 --pilot 2"
                         " --directions 2 --seed 1 -q --out '" + tmp.path() + "/noise.json'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  j = nlohmann::json::parse(testing::read_text(tmp.path() + "/noise.json"));
  EXPECT_EQ(j["weights"], "the weights saved in " + net);
}

// examples/own_model/make_model.py as a user runs it: PyTorch scripts and saves a CNN with
// BatchNorm2d and writes an .npz; nesgd loads and trains both.
TEST(TorchScriptCli, TheExampleScriptsModelTrains) {
  const std::string python = "/usr/bin/python3";  // Debian's, whose python3-torch matches Debian's LibTorch
  if (testing::run_command(python + " -c 'import torch, numpy' 2>&1").exit_code != 0) {
    GTEST_SKIP() << "no PyTorch for " << python << " (apt install python3-torch python3-numpy): the example's "
                 << "script cannot run here";
  }
  testing::TempDir tmp;
  auto r = testing::run_command(python + " '" + std::string(NESGD_SOURCE_DIR) + "/examples/own_model/make_model.py' "
                                "--out '" + tmp.path() + "' --train 200 --test 50 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string out = tmp.path() + "/run.json";
  r = testing::run_nesgd("train --model 'torchscript:" + tmp.path() + "/small_cnn.pt' --dataset 'npz:" + tmp.path() +
                         "/data.npz' --batch-size 50 --alpha 1.5 --seed 1 --max-iterations 8 -q --out '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(testing::read_text(out));
  EXPECT_EQ(j["iterations"], 8);
  EXPECT_EQ(j["train_size"], 200);
  // Every parameter of the scripted module is the Network's: two convs (3 -> 16 -> 32, 3 x 3, with
  // biases), two BatchNorm2d (scale and shift) and the dense head (32 * 8 * 8 -> 10).
  EXPECT_EQ(j["parameters"], (3 * 16 * 9 + 16) + 2 * 16 + (16 * 32 * 9 + 32) + 2 * 32 + (32 * 8 * 8 * 10 + 10));
}

}  // namespace nesgd::train
