// The training loop on a small synthetic problem: protocol outcomes,
// reproducibility, the learning-rate halving and the result record.
#include <gtest/gtest.h>

#include "support/curve.h"
#include "support/synthetic.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <random>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "nesgd/error.h"
#include "nesgd/models/network.h"
#include "nesgd/models/serialize.h"
#include "nesgd/optim/optimizers.h"
#include "nesgd/runtime/cpu_features.h"
#include "nesgd/train/trainer.h"

using namespace nesgd::train;

namespace {

using nesgd::testing::synthetic;  // 10 separable classes of 28x28 "images": F1 fits them quickly

RunConfig small_config() {
  RunConfig c;
  c.model = "f1";
  c.batch_size = 50;
  c.alpha = 1.5;
  c.seed = 3;
  c.l_star = 0.05;
  c.l_stop = 0.01;
  c.max_iterations = 2000;
  c.threads = 1;
  c.blas_threads = 1;
  return c;
}

}  // namespace

TEST(Trainer, ConvergesOnASeparableProblemAndHalvesTheLrOnce) {
  const auto data = synthetic(500, 200, 1);
  const RunConfig c = small_config();
  const RunResult r = train_run(c, data);
  ASSERT_EQ(r.status, RunStatus::kConverged) << "iterations " << r.iterations;
  EXPECT_GT(r.test_accuracy, 0.95);
  ASSERT_GE(r.iterations_to_l_star, 1);
  EXPECT_LE(r.iterations_to_l_star, r.iterations);
  ASSERT_FALSE(r.curve.empty());
  EXPECT_LT(r.curve.back().train_loss, c.l_stop);
  EXPECT_EQ(r.curve.back().iteration, r.iterations);
  // Epoch-mean checks happen once per epoch: 500 / 50 = 10 iterations apart.
  for (const auto& p : r.curve) EXPECT_EQ(p.iteration % 10, 0);
  // The LR is 1e-3 until the L* check and 5e-4 from then on, never halved twice.
  for (const auto& p : r.curve) {
    const double expected = p.iteration < r.iterations_to_l_star ? 1e-3 : 5e-4;
    EXPECT_DOUBLE_EQ(p.lr, expected) << "at iteration " << p.iteration;
  }
  EXPECT_EQ(r.samples_processed, r.iterations * 2 * c.batch_size) << "NE processes B and B' each step";
}

TEST(Trainer, SameSeedSameRunOtherSeedOtherRun) {
  const auto data = synthetic(300, 100, 2);
  RunConfig c = small_config();
  c.max_iterations = 40;
  const auto a = to_json(train_run(c, data), c);
  const auto b = to_json(train_run(c, data), c);
  EXPECT_EQ(nesgd::testing::without_timing(a["curve"]), nesgd::testing::without_timing(b["curve"]));
  EXPECT_EQ(a["test_loss"], b["test_loss"]);
  EXPECT_EQ(a["iterations"], b["iterations"]);
  c.seed = 4;
  const auto other = to_json(train_run(c, data), c);
  EXPECT_NE(a["test_loss"], other["test_loss"]);
}

TEST(Trainer, MaxIterationsGivesNotConverged) {
  const auto data = synthetic(300, 100, 3);
  RunConfig c = small_config();
  c.max_iterations = 7;
  c.alpha = 1.0;
  const RunResult r = train_run(c, data);
  EXPECT_EQ(r.status, RunStatus::kNotConverged);
  EXPECT_EQ(r.iterations, 7);
  EXPECT_EQ(r.samples_processed, 7 * c.batch_size) << "alpha = 1 must not process B'";
}

TEST(Trainer, HugeLearningRateDiverges) {
  const auto data = synthetic(300, 100, 4);
  RunConfig c = small_config();
  c.optimizer.name = "sgd";
  c.optimizer.lr = 1e8;
  const RunResult r = train_run(c, data);
  EXPECT_EQ(r.status, RunStatus::kDiverged);
  EXPECT_LT(r.iterations, c.max_iterations);
}

TEST(Trainer, FullLossMeasureChecksEveryEvalEvery) {
  const auto data = synthetic(400, 100, 5);
  RunConfig c = small_config();
  c.loss_measure = LossMeasure::kFull;
  c.eval_every = 3;
  c.max_iterations = 12;
  c.l_stop = 1e-9;
  c.l_star = 1e-8;
  const RunResult r = train_run(c, data);
  ASSERT_EQ(r.curve.size(), 4u);
  EXPECT_EQ(r.curve[0].iteration, 3);
  EXPECT_EQ(r.curve[3].iteration, 12);
  // The last check is at the final weights: the full-set loss there equals the final evaluation.
  EXPECT_NEAR(r.curve.back().train_loss, r.final_full_train_loss, 1e-6);
}

TEST(Trainer, InterruptStopsWithStatusInterrupted) {
  const auto data = synthetic(300, 100, 6);
  RunConfig c = small_config();
  int polls = 0;
  TrainHooks hooks;
  hooks.should_stop = [&] { return ++polls > 5; };
  const RunResult r = train_run(c, data, hooks);
  EXPECT_EQ(r.status, RunStatus::kInterrupted);
  EXPECT_EQ(r.iterations, 5);
}

TEST(Trainer, ResultRecordCarriesConfigEnvironmentAndCurve) {
  const auto data = synthetic(300, 100, 7);
  RunConfig c = small_config();
  c.max_iterations = 12;
  const auto j = to_json(train_run(c, data), c);
  for (const char* key : {"status", "iterations", "iterations_to_l_star", "test_accuracy", "test_loss", "train_loss",
                          "wall_seconds", "samples_per_second", "config", "seed", "libtorch_version", "device",
                          "environment", "curve", "loss_measure"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["config"]["alpha"], 1.5);
  EXPECT_EQ(j["config"]["l_star"], 0.05);
  // The LibTorch this test was built against (1.13.0 from Debian, 2.x on a GPU machine).
  EXPECT_EQ(j["libtorch_version"], std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                       "." + std::to_string(TORCH_VERSION_PATCH));
  EXPECT_EQ(j["device"], "cpu");
  EXPECT_EQ(j["environment"]["threads"]["aten_threads"], 1);
  // Whether that LibTorch has CUDA: its CUDA library is in this process exactly then.
  const bool cuda_library_loaded = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_NOLOAD) != nullptr;
  EXPECT_EQ(j["environment"]["libtorch_cuda"], cuda_library_loaded);
  // Round trip of the config through JSON.
  EXPECT_EQ(to_json(run_config_from_json(j["config"])), j["config"]);
}

TEST(Trainer, BadConfigIsRejectedBeforeWork) {
  const auto data = synthetic(100, 10, 8);
  RunConfig c = small_config();
  c.batch_size = 1000;  // > 100 training samples
  EXPECT_THROW(train_run(c, data), nesgd::Error);
  c = small_config();
  c.model = "vgg";
  EXPECT_THROW(train_run(c, data), nesgd::Error);
  c = small_config();
  c.device = "tpu";
  EXPECT_THROW(train_run(c, data), nesgd::Error);
}

// ---- resume, model files, noise-scale logging ------------------------------------------------------

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("nesgd-trainer-" + std::to_string(getpid()) + "-" + name))
      .string();
}

}  // namespace

// save -> load -> continue equals the uninterrupted run, step for step.
TEST(Trainer, ResumedRunEqualsTheUninterruptedRun) {
  const auto data = synthetic(300, 100, 9);
  for (double alpha : {1.0, 2.0}) {
    RunConfig c = small_config();
    c.alpha = alpha;
    c.max_iterations = 30;
    c.l_star = 1e-8;
    c.l_stop = 1e-9;
    c.eval_every = 4;
    c.log_noise_scale = true;
    const auto straight = to_json(train_run(c, data), c);

    RunFiles files;
    files.checkpoint = temp_path("resume-" + std::to_string(alpha) + ".ckpt");
    files.checkpoint_every_seconds = 1e9;  // only on interrupt
    int polls = 0;
    TrainHooks stop_at_13;
    stop_at_13.should_stop = [&] { return ++polls > 13; };
    const RunResult first = train_run(c, data, stop_at_13, files);
    ASSERT_EQ(first.status, RunStatus::kInterrupted);
    ASSERT_EQ(first.iterations, 13);
    ASSERT_TRUE(std::filesystem::exists(files.checkpoint));

    const RunResult second = train_run(c, data, {}, files);
    EXPECT_EQ(second.resumed_from_iteration, 13);
    const auto resumed = to_json(second, c);
    EXPECT_EQ(resumed["status"], "not_converged");
    EXPECT_EQ(resumed["iterations"], 30);
    EXPECT_EQ(nesgd::testing::without_timing(resumed["curve"]), nesgd::testing::without_timing(straight["curve"]))
        << "alpha " << alpha;
    EXPECT_EQ(resumed["test_loss"], straight["test_loss"]);
    EXPECT_EQ(resumed["samples_processed"], straight["samples_processed"]);
    std::filesystem::remove(files.checkpoint);
  }
}

TEST(Trainer, CheckpointOfAnotherConfigIsRefused) {
  const auto data = synthetic(200, 50, 10);
  RunConfig c = small_config();
  RunFiles files;
  files.checkpoint = temp_path("other.ckpt");
  int polls = 0;
  TrainHooks hooks;
  hooks.should_stop = [&] { return ++polls > 2; };
  train_run(c, data, hooks, files);
  c.alpha = 3.0;
  try {
    train_run(c, data, {}, files);
    FAIL() << "expected a refusal";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("another run configuration"), std::string::npos) << e.what();
  }
  std::filesystem::remove(files.checkpoint);
}

// A checkpoint written by an nesgd from before a configuration key existed (here: the NE pass,
// the init mode and a TorchScript model's hash) resumes: the key reads as its default, as in a
// stored record; a run interrupted with --ne-pass split may continue with joint.
TEST(Trainer, ACheckpointFromBeforeNewConfigKeysResumes) {
  const auto data = synthetic(200, 50, 12);
  RunConfig c = small_config();
  c.max_iterations = 12;
  c.ne_pass = "split";
  RunFiles files;
  files.checkpoint = temp_path("older.ckpt");
  files.checkpoint_every_seconds = 1e9;
  int polls = 0;
  TrainHooks stop_at_5;
  stop_at_5.should_stop = [&] { return ++polls > 5; };
  ASSERT_EQ(train_run(c, data, stop_at_5, files).iterations, 5);
  // Rewrite the checkpoint's own text as an older nesgd wrote it: without the three keys.
  torch::serialize::InputArchive in, model, optimizer;
  in.load_from(files.checkpoint);
  in.read("model", model);
  in.read("optimizer", optimizer);
  c10::IValue state;
  ASSERT_TRUE(in.try_read("nesgd_checkpoint_state", state));
  nlohmann::json j = nlohmann::json::parse(state.toStringRef());
  for (const char* key : {"ne_pass", "init", "model_sha256"}) {
    ASSERT_TRUE(j["config"].contains(key)) << key;
    j["config"].erase(key);
  }
  // The tensors go back through a network and an optimizer of the run's kind (archives are not copied).
  auto net = nesgd::models::make_model({"f1", 1, 28, 28, 10}, 0);
  net->load(model);
  auto opt = nesgd::optim::make_optimizer(net->parameters(), c.optimizer);
  opt->load(optimizer);
  torch::serialize::OutputArchive out, model_out, optimizer_out;
  net->save(model_out);
  opt->save(optimizer_out);
  out.write("model", model_out);
  out.write("optimizer", optimizer_out);
  out.write("nesgd_checkpoint_state", c10::IValue(j.dump()));
  out.save_to(files.checkpoint);
  c.ne_pass = "joint";
  const RunResult resumed = train_run(c, data, {}, files);
  EXPECT_EQ(resumed.resumed_from_iteration, 5);
  EXPECT_EQ(resumed.iterations, 12);
  EXPECT_EQ(resumed.ne_pass, "joint");
  std::filesystem::remove(files.checkpoint);
}

TEST(Trainer, NoiseScaleLoggingLeavesTheTrajectoryIdentical) {
  const auto data = synthetic(300, 100, 11);
  for (double alpha : {1.0, 1.5}) {
    RunConfig c = small_config();
    c.alpha = alpha;
    c.max_iterations = 24;
    c.eval_every = 6;
    // The noise scale reads g_B between the split pass's two backward passes, so a logged NE run
    // is the split run of its configuration (optim/ne_pass.h), bit for bit.
    c.ne_pass = "split";
    RunFiles plain_files, logged_files;
    plain_files.save_model = temp_path("plain.pt");
    logged_files.save_model = temp_path("logged.pt");
    const auto plain = to_json(train_run(c, data, {}, plain_files), c);
    c.log_noise_scale = true;
    const auto logged = to_json(train_run(c, data, {}, logged_files), c);
    EXPECT_EQ(logged["ne_pass"], alpha == 1.0 ? "single" : "split");
    ASSERT_EQ(plain["curve"].size(), logged["curve"].size());
    for (size_t i = 0; i < plain["curve"].size(); ++i) {
      EXPECT_EQ(plain["curve"][i]["train_loss"], logged["curve"][i]["train_loss"]) << "alpha " << alpha;
      EXPECT_EQ(plain["curve"][i]["minibatch_loss"], logged["curve"][i]["minibatch_loss"]);
      ASSERT_TRUE(logged["curve"][i].contains("b_simple"));
      EXPECT_FALSE(plain["curve"][i].contains("b_simple"));
    }
    EXPECT_EQ(plain["test_loss"], logged["test_loss"]);
    EXPECT_EQ(plain["samples_processed"], logged["samples_processed"]) << "logging must not count as training";
    // Final weights, bit for bit.
    auto a = nesgd::models::load_model(plain_files.save_model), b = nesgd::models::load_model(logged_files.save_model);
    auto pa = a.net->parameters(), pb = b.net->parameters();
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
    // The estimate is a positive, finite batch size on this problem late in the curve.
    const auto& last = logged["curve"].back();
    ASSERT_FALSE(last["b_simple"].is_null());
    EXPECT_GT(last["trace_sigma"].get<double>(), 0.0);
    std::filesystem::remove(plain_files.save_model);
    std::filesystem::remove(logged_files.save_model);
  }
}

TEST(Trainer, SavedModelLoadsAndContinuesWhereItStopped) {
  const auto data = synthetic(300, 100, 12);
  RunConfig c = small_config();
  c.max_iterations = 20;
  RunFiles files;
  files.save_model = temp_path("model.pt");
  const RunResult trained = train_run(c, data, {}, files);
  // A run from the saved weights with a negligible step keeps their test
  // loss, far below that of a fresh Glorot network.
  RunConfig from_saved = small_config();
  from_saved.init_model = files.save_model;
  from_saved.max_iterations = 1;
  from_saved.optimizer.lr = 1e-9;  // effectively no step: the weights are the saved ones
  const RunResult loaded = train_run(from_saved, data);
  EXPECT_NEAR(loaded.test_loss, trained.test_loss, 1e-3);
  EXPECT_FALSE(loaded.init_model_sha256.empty());
  RunConfig fresh = from_saved;
  fresh.init_model.clear();
  EXPECT_GT(train_run(fresh, data).test_loss, trained.test_loss + 0.5);
  // A model for another input shape is refused with both shapes named.
  nesgd::data::DatasetSplits other = data;
  other.train.num_classes = other.test.num_classes = 5;
  for (auto& l : other.train.labels) l %= 5;
  for (auto& l : other.test.labels) l %= 5;
  try {
    train_run(from_saved, other);
    FAIL() << "expected a refusal";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("10 classes"), std::string::npos) << e.what();
  }
  std::filesystem::remove(files.save_model);
}

TEST(Trainer, SavesTheWeightsAtLStarThatARunStoppedAtLStarEndsWith) {
  // Stopping at L** = L* ends the run at the very check where the full run
  // halves its LR (loss < L* there, barring exact equality), so its final
  // weights are the full run's weights at L*: bit for bit, same trajectory.
  const auto data = synthetic(300, 100, 13);
  RunConfig c = small_config();
  // L** far below L*, so that the full run goes on after its L* check even
  // where the loss falls fast (LibTorch 2.11 went from above L* = 0.05 to
  // below 0.01 between two checks here).
  c.l_stop = 1e-3;
  RunFiles files;
  files.save_model_at_l_star = temp_path("at_lstar.pt");
  files.save_model = temp_path("final.pt");
  const RunResult full = train_run(c, data, {}, files);
  ASSERT_EQ(full.status, RunStatus::kConverged);
  ASSERT_GE(full.iterations_to_l_star, 1);
  ASSERT_LT(full.iterations_to_l_star, full.iterations);
  ASSERT_TRUE(std::filesystem::exists(files.save_model_at_l_star));

  RunConfig stop_at_l_star = c;
  stop_at_l_star.l_stop = c.l_star;
  RunFiles stopped_files;
  stopped_files.save_model = temp_path("stopped.pt");
  const RunResult stopped = train_run(stop_at_l_star, data, {}, stopped_files);
  EXPECT_EQ(stopped.iterations, full.iterations_to_l_star);

  auto at_l_star = nesgd::models::load_model(files.save_model_at_l_star);
  auto stopped_final = nesgd::models::load_model(stopped_files.save_model);
  auto full_final = nesgd::models::load_model(files.save_model);
  const auto p = at_l_star.net->parameters(), q = stopped_final.net->parameters(), f = full_final.net->parameters();
  ASSERT_EQ(p.size(), q.size());
  bool differs_from_final = false;
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_TRUE(torch::equal(p[i], q[i])) << "parameter " << i;
    differs_from_final = differs_from_final || !torch::equal(p[i], f[i]);
  }
  EXPECT_TRUE(differs_from_final) << "the L* weights must be those of the L* check, not the final ones";

  // A run that never reaches L* writes no file.
  RunConfig capped = c;
  capped.max_iterations = 3;
  RunFiles capped_files;
  capped_files.save_model_at_l_star = temp_path("never.pt");
  train_run(capped, data, {}, capped_files);
  EXPECT_FALSE(std::filesystem::exists(capped_files.save_model_at_l_star));
  for (const auto& f : {files.save_model_at_l_star, files.save_model, stopped_files.save_model}) std::filesystem::remove(f);
}

// ---- keras sampling: ceil(n / B) steps an epoch, the last batch short ------------------------------

// n = 250, B = 100: epochs of 3 steps with batches of 100, 100 and 50. Every
// check sits at an epoch's end, its loss is the sample-weighted mean of that
// epoch's three minibatch losses (weights 1, 1, 0.5), and samples_processed
// counts the real batch sizes (B and B' alike: NE at alpha = 1.5).
TEST(Trainer, KerasSamplingChecksAtCeilEpochsWithSampleWeightedLoss) {
  const auto data = synthetic(250, 100, 14);
  RunConfig c = small_config();
  c.batch_size = 100;
  c.max_iterations = 12;
  c.l_star = 1e-8;
  c.l_stop = 1e-9;
  ASSERT_EQ(c.sampling, "keras") << "the default";
  std::vector<double> minibatch;  // L_B of every step, in order
  TrainHooks hooks;
  hooks.progress_interval_seconds = 0.0;  // every step
  hooks.on_progress = [&](const Progress& p) {
    if (static_cast<int64_t>(minibatch.size()) < p.iteration) minibatch.push_back(p.minibatch_loss);
  };
  const RunResult r = train_run(c, data, hooks);
  ASSERT_EQ(r.iterations, 12);
  ASSERT_EQ(minibatch.size(), 12u);
  ASSERT_EQ(r.curve.size(), 4u);
  for (size_t k = 0; k < r.curve.size(); ++k) {
    const auto& p = r.curve[k];
    EXPECT_EQ(p.iteration, 3 * static_cast<int64_t>(k + 1));
    const size_t i = static_cast<size_t>(p.iteration) - 3;  // the epoch's first step, 0-based
    const double weighted = (minibatch[i] + minibatch[i + 1] + 0.5 * minibatch[i + 2]) / 2.5;
    EXPECT_NEAR(p.train_loss, weighted, 1e-12) << "check at iteration " << p.iteration;
    EXPECT_EQ(p.minibatch_loss, minibatch[i + 2]);
  }
  EXPECT_EQ(r.samples_processed, 4 * 2 * 250) << "4 epochs of 250 samples, in B and in B'";
  EXPECT_EQ(r.epochs, 4);
  // The full-set measure checks at the same ceil(n / B) interval by default.
  c.loss_measure = LossMeasure::kFull;
  const RunResult full = train_run(c, data);
  ASSERT_EQ(full.curve.size(), 4u);
  for (size_t k = 0; k < full.curve.size(); ++k) EXPECT_EQ(full.curve[k].iteration, 3 * static_cast<int64_t>(k + 1));
}

// The earlier protocol stays selectable: floor(n / B) full batches an epoch.
TEST(Trainer, EpochSamplingDropsTheShortBatch) {
  const auto data = synthetic(250, 100, 15);
  RunConfig c = small_config();
  c.batch_size = 100;
  c.sampling = "epoch";
  c.optimizer.name = "adam";
  c.max_iterations = 8;
  c.l_star = 1e-8;
  c.l_stop = 1e-9;
  const RunResult r = train_run(c, data);
  ASSERT_EQ(r.curve.size(), 4u);
  for (size_t k = 0; k < r.curve.size(); ++k) EXPECT_EQ(r.curve[k].iteration, 2 * static_cast<int64_t>(k + 1));
  EXPECT_EQ(r.samples_processed, 8 * 2 * 100);
}

// Resume in keras sampling, stopped mid-epoch and right after the short batch,
// after the LR was halved at L*: the continued run is the uninterrupted one
// step for step, LR included (LibTorch 1.x's Optimizer::load does not restore
// the LR; the trainer sets it).
TEST(Trainer, KerasResumeAfterLStarEqualsTheUninterruptedRun) {
  const auto data = synthetic(250, 100, 16);
  RunConfig c = small_config();
  c.batch_size = 100;
  c.max_iterations = 15;
  c.l_star = 100.0;  // reached at the first check (iteration 3): the LR is halved there
  c.l_stop = 1e-9;
  const auto straight = to_json(train_run(c, data), c);
  ASSERT_EQ(straight["iterations_to_l_star"], 3);
  ASSERT_EQ(straight["curve"].back()["lr"], 5e-4);
  for (int stop_after : {7, 9}) {  // 7: mid-epoch 3; 9: just after epoch 3's short batch
    RunFiles files;
    files.checkpoint = temp_path("keras-resume-" + std::to_string(stop_after) + ".ckpt");
    files.checkpoint_every_seconds = 1e9;  // only on interrupt
    int polls = 0;
    TrainHooks stop;
    stop.should_stop = [&] { return ++polls > stop_after; };
    const RunResult first = train_run(c, data, stop, files);
    ASSERT_EQ(first.iterations, stop_after);
    const auto resumed = to_json(train_run(c, data, {}, files), c);
    EXPECT_EQ(nesgd::testing::without_timing(resumed["curve"]), nesgd::testing::without_timing(straight["curve"]))
        << "stopped after " << stop_after;
    EXPECT_EQ(resumed["test_loss"], straight["test_loss"]) << "stopped after " << stop_after;
    EXPECT_EQ(resumed["samples_processed"], straight["samples_processed"]);
    std::filesystem::remove(files.checkpoint);
  }
}

TEST(Trainer, KerasShortBatchThatSplitsAGhostBatchIsRefusedBeforeTraining) {
  nesgd::data::DatasetSplits data = synthetic(150, 10, 17);
  // C1 wants 32x32x3 images; the refusal comes before any model is built, so
  // the shapes never matter. 150 samples at B = 100: a short batch of 50.
  RunConfig c = small_config();
  c.model = "c1";
  c.batch_size = 100;
  c.alpha = 1.0;
  try {
    train_run(c, data);
    FAIL() << "expected a refusal";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("short batch of 50"), std::string::npos) << e.what();
  }
}

// bf16: the forward passes under autocast, float32 weights. Where the CPU has
// native bf16 the run trains: its first steps follow the fp32 run of its seed
// closely but not bit for bit (later the trajectories part, as any two
// roundings of this problem do), it converges as fp32 does, and it records its
// precision. Elsewhere it is refused before any work, naming the fix.
TEST(Trainer, Bf16RunsUnderAutocastOrIsRefusedWithoutNativeBf16) {
  const auto data = synthetic(300, 100, 5);
  RunConfig c = small_config();
  c.max_iterations = 2;
  c.eval_every = 1;
  c.loss_measure = LossMeasure::kFull;
  c.l_star = c.l_stop = 1e-12;  // a check after each of the two steps, no stop before the cap
  RunConfig b = c;
  b.precision = "bf16";
  if (!nesgd::runtime::has_native_bf16(nesgd::runtime::this_cpu())) {
    try {
      train_run(b, data);
      FAIL() << "bf16 must be refused on a CPU without native bf16";
    } catch (const nesgd::Error& e) {
      EXPECT_NE(std::string(e.what()).find("--precision fp32"), std::string::npos) << e.what();
    }
    return;
  }
  const RunResult fp32 = train_run(c, data), bf16 = train_run(b, data);
  ASSERT_EQ(fp32.curve.size(), 2u);
  ASSERT_EQ(bf16.curve.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const double x = fp32.curve[i].train_loss, y = bf16.curve[i].train_loss;
    EXPECT_NEAR(y, x, 0.02 * x) << "check " << i;
    EXPECT_NE(y, x) << "bf16 gave fp32's loss bit for bit at check " << i << ": autocast was not on";
  }
  EXPECT_EQ(to_json(bf16, b)["config"]["precision"], "bf16");
  // The whole run, as ConvergesOnASeparableProblemAndHalvesTheLrOnce does it in fp32.
  RunConfig full = small_config();
  full.precision = "bf16";
  const RunResult r = train_run(full, data);
  EXPECT_EQ(r.status, RunStatus::kConverged) << "iterations " << r.iterations;
  EXPECT_GT(r.test_accuracy, 0.95);
}

// --cuda-graph: refused off a GPU, naming the fix; on a GPU (a CUDA LibTorch
// on a machine with one), the graphed run follows the eager run of its
// configuration step for step, through keras epochs' short batches (run
// eagerly between replays) and the L* halving.
TEST(Trainer, CudaGraphRefusedWithoutAGpuAndOnAGpuFollowsTheEagerRun) {
  const auto data = synthetic(310, 100, 6);  // 310 = 6 x 50 + 10: a short batch every epoch
  RunConfig c = small_config();
  c.max_iterations = 60;
  c.eval_every = 7;
  c.loss_measure = LossMeasure::kFull;
  c.cuda_graph = true;
  c.device = "cpu";
  try {
    train_run(c, data);
    FAIL() << "--cuda-graph on the CPU must be refused";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--device cuda"), std::string::npos) << e.what();
  }
  if (!torch::cuda::is_available()) {
    c.device = "auto";  // resolves to the CPU here
    try {
      train_run(c, data);
      FAIL() << "--cuda-graph resolved to the CPU must be refused";
    } catch (const nesgd::Error& e) {
      EXPECT_NE(std::string(e.what()).find("needs a CUDA device"), std::string::npos) << e.what();
    }
    GTEST_SKIP() << "no CUDA device: the graphed run is checked on a GPU machine (scripts/gpu_check.sh)";
  }
  c.device = "cuda";
  RunConfig eager = c;
  eager.cuda_graph = false;
  for (double alpha : {1.0, 1.5}) {
    c.alpha = eager.alpha = alpha;
    const RunResult g = train_run(c, data), e = train_run(eager, data);
    ASSERT_EQ(g.curve.size(), e.curve.size()) << "alpha " << alpha;
    for (size_t i = 0; i < g.curve.size(); ++i) {
      EXPECT_NEAR(g.curve[i].train_loss, e.curve[i].train_loss, 1e-5 * e.curve[i].train_loss + 1e-7)
          << "alpha " << alpha << ", check " << i;
    }
    EXPECT_EQ(g.iterations_to_l_star, e.iterations_to_l_star);
    EXPECT_EQ(g.iterations, e.iterations);
  }
}
