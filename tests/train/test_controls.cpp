// NE's controls in whole runs (optim/noise_control.h, optim/isotropic_noise.h, optim/pnm.h):
// isotropic noise at alpha = 1 is the plain run bit for bit; isotropic and AdaPNM runs resume
// from checkpoints step for step (the noise is a function of the seed and the step); the
// isotropic run draws both batches and runs the split pass; --match-batch fills in alpha,
// keeps the plain runs' setting and refuses an unreachable B_ref; controls are never packed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "nesgd/error.h"
#include "nesgd/exp/run_id.h"
#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"
#include "support/curve.h"
#include "support/synthetic.h"

namespace nesgd::train {
namespace {

const data::DatasetSplits& controls_data() {
  static const data::DatasetSplits d = testing::synthetic(230, 60, 17);
  return d;
}

RunConfig control_run(double alpha) {
  RunConfig c;
  c.model = "f1";
  c.batch_size = 20;
  c.train_subset = 230;
  c.alpha = alpha;
  c.seed = 8;
  c.l_star = 1e-9;  // never reached: every run takes all its steps
  c.l_stop = 1e-10;
  c.eval_every = 5;
  c.max_iterations = 40;
  c.threads = 1;
  c.blas_threads = 1;
  return c;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("nesgd-controls-" + std::to_string(getpid()) + "-" + name))
      .string();
}

// An interrupted run resumed from its checkpoint ends where the run without the break ends.
void expect_resumes_step_for_step(const RunConfig& c, const std::string& what) {
  const auto straight = to_json(train_run(c, controls_data()), c);
  RunFiles files;
  files.checkpoint = temp_path(what + ".ckpt");
  files.checkpoint_every_seconds = 1e9;  // only on interrupt
  int polls = 0;
  TrainHooks stop;
  stop.should_stop = [&] { return ++polls > 17; };
  ASSERT_EQ(train_run(c, controls_data(), stop, files).status, RunStatus::kInterrupted) << what;
  const RunResult second = train_run(c, controls_data(), {}, files);
  EXPECT_EQ(second.resumed_from_iteration, 17) << what;
  const auto resumed = to_json(second, c);
  EXPECT_EQ(testing::without_timing(resumed["curve"]), testing::without_timing(straight["curve"])) << what;
  EXPECT_EQ(resumed["test_loss"], straight["test_loss"]) << what;
  std::filesystem::remove(files.checkpoint);
}

}  // namespace

TEST(Controls, IsotropicNoiseAtAlphaOneIsThePlainRunBitForBit) {
  RunConfig plain = control_run(1.0), iso = control_run(1.0);
  iso.noise = optim::kNoiseIsotropic;
  const RunResult a = train_run(plain, controls_data()), b = train_run(iso, controls_data());
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) EXPECT_EQ(a.curve[i].minibatch_loss, b.curve[i].minibatch_loss);
  EXPECT_EQ(a.test_loss, b.test_loss);
  EXPECT_EQ(a.samples_processed, b.samples_processed);  // B' never drawn
  EXPECT_EQ(b.ne_pass, optim::kNEPassSingle);
}

TEST(Controls, IsotropicRunDrawsBothBatchesRunsSplitAndDiffersFromNE) {
  RunConfig ne = control_run(2.0), iso = control_run(2.0);
  iso.noise = optim::kNoiseIsotropic;
  const RunResult a = train_run(ne, controls_data()), b = train_run(iso, controls_data());
  EXPECT_EQ(b.ne_pass, optim::kNEPassSplit);
  EXPECT_EQ(b.samples_processed, a.samples_processed);  // the same cost in samples: B and B' each step
  EXPECT_NE(a.test_loss, b.test_loss);
  EXPECT_NE(exp::run_id(ne), exp::run_id(iso));
  iso.noise_matching = optim::kMatchTensor;
  EXPECT_NE(exp::run_id(iso), exp::run_id(ne));
  EXPECT_NE(train_run(iso, controls_data()).test_loss, b.test_loss);
}

TEST(Controls, IsotropicAndAdaPNMRunsResumeStepForStep) {
  RunConfig iso = control_run(1.5);
  iso.noise = optim::kNoiseIsotropic;
  expect_resumes_step_for_step(iso, "isotropic");
  RunConfig ada = control_run(1.0);
  ada.optimizer.name = "adapnm";
  expect_resumes_step_for_step(ada, "adapnm");
  RunConfig pnm = control_run(1.5);
  pnm.optimizer.name = "pnm";
  pnm.optimizer.lr = 0.01;
  expect_resumes_step_for_step(pnm, "pnm-ne");
}

TEST(Controls, MatchBatchFillsInAlphaAndKeepsThePlainRunsSetting) {
  RunConfig matched = control_run(1.0);
  matched.batch_size = 100;
  matched.match_batch = 20;
  matched.resolve_defaults_and_validate();
  EXPECT_NEAR(matched.alpha, 2.0, 1e-12);  // (1 + sqrt(2 * 100 / 20 - 1)) / 2 = (1 + 3) / 2
  const RunConfig plain = control_run(1.0);
  EXPECT_EQ(exp::setting_id(matched), exp::setting_id(plain));
  EXPECT_NE(exp::run_id(matched), exp::run_id(plain));
  // The record holds the alpha used, and reads back to the same run.
  const nlohmann::json stored = to_json(matched);
  EXPECT_EQ(stored["alpha"], 2.0);
  EXPECT_EQ(stored["match_batch"], 20);
  EXPECT_EQ(exp::run_id_of_config_json(stored), exp::run_id(matched));
  RunConfig unreachable = control_run(1.0);
  unreachable.match_batch = 41;  // B = 20 reaches at most B_eff = 40
  try {
    unreachable.resolve_defaults_and_validate();
    FAIL() << "an unreachable --match-batch was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 21"), std::string::npos) << e.what();
  }
}

TEST(Controls, DefaultsKeepEveryRunIdAndControlsAreNeverPacked) {
  RunConfig c = control_run(1.5);
  const std::string id = exp::run_id(c);
  c.noise = optim::kNoiseNE;
  c.noise_matching = optim::kMatchWhole;
  c.optimizer.beta0 = optim::kPnmDefaultBeta0;
  c.match_batch = 0;
  EXPECT_EQ(exp::run_id(c), id);
  c.optimizer.name = "adapnm";
  const std::string ada = exp::run_id(c);
  c.optimizer.beta0 = 0.5;
  EXPECT_NE(exp::run_id(c), ada);
  EXPECT_FALSE(pack_unsupported_reason(c).empty());
  RunConfig iso = control_run(1.5);
  iso.noise = optim::kNoiseIsotropic;
  EXPECT_NE(pack_unsupported_reason(iso).find("--noise isotropic"), std::string::npos);
  iso.log_noise_scale = true;
  EXPECT_THROW(iso.resolve_defaults_and_validate(), Error);
  RunConfig bad = control_run(1.5);
  bad.noise = "gaussian";
  EXPECT_THROW(bad.resolve_defaults_and_validate(), Error);
  bad = control_run(1.5);
  bad.optimizer.name = "lamb";
  EXPECT_THROW(bad.resolve_defaults_and_validate(), Error);
}

}  // namespace nesgd::train
