// Merging a sweep request (what `nesgd sweep` was given) into a SweepSpec:
// a given flag overrides the sweep file, the file overrides the defaults and
// the preset, a flag left at its default never overrides anything, and bad
// combinations are refused with the messages the CLI prints.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "nesgd/error.h"
#include "nesgd/exp/sweep_request.h"
#include "support/cli.h"

namespace ex = nesgd::exp;
using nesgd::testing::TempDir;

namespace {

std::string write_sweep_file(const TempDir& dir, const std::string& json) {
  const std::string path = dir.path() + "/sweep.json";
  std::ofstream(path) << json;
  return path;
}

// The message of the nesgd::Error `request` is refused with ("" if accepted).
std::string refusal(const ex::SweepRequest& request) {
  try {
    ex::sweep_spec_from_request(request);
  } catch (const nesgd::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SweepRequest, WithoutAnythingItIsOneDefaultRun) {
  const ex::SweepSpec spec = ex::sweep_spec_from_request({});
  EXPECT_EQ(spec.configs, std::vector<std::string>{"f1"});
  EXPECT_EQ(spec.batch_sizes, std::vector<int64_t>{100});
  EXPECT_EQ(spec.alphas, std::vector<double>{1.0});
  EXPECT_EQ(spec.seeds, std::vector<uint64_t>{0});
  EXPECT_EQ(spec.base.optimizer.lr, nesgd::train::RunConfig{}.optimizer.lr);
  EXPECT_EQ(spec.size(), 1u);
}

TEST(SweepRequest, TheFileOverridesTheDefaultsAndAGivenFlagOverridesTheFile) {
  TempDir tmp;
  ex::SweepRequest r;
  r.config_file = write_sweep_file(
      tmp, R"({"configs": ["f1"], "batch_sizes": [100, 200], "alphas": "1..2", "seeds": [1, 2],)"
           R"( "optimizer": {"lr": 0.0005}, "max_iterations": 50, "train_subset": 1000})");
  ex::SweepSpec spec = ex::sweep_spec_from_request(r);
  EXPECT_EQ(spec.base.optimizer.lr, 0.0005) << "the file overrides the default";
  EXPECT_EQ(spec.base.max_iterations, 50);
  EXPECT_EQ(spec.batch_sizes, (std::vector<int64_t>{100, 200}));
  EXPECT_EQ(spec.alphas, (std::vector<double>{1.0, 2.0}));

  // Flags at their defaults that were not given leave the file's values alone.
  r.flags.max_iterations = 7;  // parsed value, but not given: ignored
  spec = ex::sweep_spec_from_request(r);
  EXPECT_EQ(spec.base.max_iterations, 50);

  // Given flags win over the file: a plain key, an optimizer key, a crossed field.
  r.flags.optimizer.lr = 0.002;
  r.flags.batch_size = 300;
  r.given_flags = {"--lr", "--max-iterations", "--batch-size"};
  spec = ex::sweep_spec_from_request(r);
  EXPECT_EQ(spec.base.optimizer.lr, 0.002);
  EXPECT_EQ(spec.base.max_iterations, 7);
  EXPECT_EQ(spec.base.train_subset, 1000) << "keys no flag touched stay the file's";
  EXPECT_EQ(spec.batch_sizes, std::vector<int64_t>{300});
  EXPECT_EQ(spec.alphas, (std::vector<double>{1.0, 2.0}));

  // A list on the command line replaces the file's list.
  r.given_flags = {};
  r.seeds = "5..7";
  r.name = "mine";
  spec = ex::sweep_spec_from_request(r);
  EXPECT_EQ(spec.seeds, (std::vector<uint64_t>{5, 6, 7}));
  EXPECT_EQ(spec.name, "mine");
}

TEST(SweepRequest, APresetIsTheBaseAndFlagsOverrideIt) {
  ex::SweepRequest r;
  r.preset = "f1-fig2";
  r.quick = true;
  const ex::SweepSpec quick = ex::preset("f1-fig2", true);
  ex::SweepSpec spec = ex::sweep_spec_from_request(r);
  EXPECT_EQ(spec.name, quick.name);
  EXPECT_EQ(spec.size(), quick.size());
  EXPECT_EQ(spec.base.max_iterations, quick.base.max_iterations);
  r.flags.sampling = "iid";
  r.flags.alpha = 3;
  r.configs = "F1";  // lower-cased
  r.given_flags = {"--sampling", "--alpha"};
  spec = ex::sweep_spec_from_request(r);
  EXPECT_EQ(spec.base.sampling, "iid");
  EXPECT_EQ(spec.alphas, std::vector<double>{3.0});
  EXPECT_EQ(spec.configs, std::vector<std::string>{"f1"});
  EXPECT_EQ(spec.batch_sizes, quick.batch_sizes);
}

TEST(SweepRequest, BadCombinationsAreRefusedWithTheCliMessages) {
  TempDir tmp;
  ex::SweepRequest r;
  r.config_file = write_sweep_file(tmp, R"({"preset": "c1-fig1"})");
  r.preset = "f1-fig2";
  EXPECT_EQ(refusal(r), "the sweep file names preset 'c1-fig1' and the command line 'f1-fig2': give one");

  r = {};
  r.quick = true;
  EXPECT_EQ(refusal(r), "--quick needs a preset, e.g. `nesgd sweep f1-fig2 --quick --store DIR`");

  r = {};
  r.batch_sizes = "100,200";
  r.given_flags = {"--batch-size"};
  EXPECT_EQ(refusal(r), "give --batch-sizes or --batch-size, not both");
  r = {};
  r.configs = "f1";
  r.given_flags = {"--model"};
  EXPECT_EQ(refusal(r), "give --configs or --model, not both");

  r = {};
  r.given_flags = {"--save-model"};
  EXPECT_EQ(refusal(r), "`nesgd sweep` cannot apply --save-model to its runs (no run-configuration key); leave it out");

  r = {};
  r.config_file = write_sweep_file(tmp, R"({"max_iterations": 100, "colour": "red"})");
  const std::string message = refusal(r);
  EXPECT_EQ(message.rfind(r.config_file + ": sweep file: unknown key 'colour'", 0), 0u) << message;
}

TEST(SweepRequest, FlagNamesOfConfigKeys) {
  EXPECT_EQ(ex::flag_for_config_key("weight_decay"), "--weight-decay");
  EXPECT_EQ(ex::flag_for_config_key("init_model"), "--load-model");
  EXPECT_EQ(ex::flag_for_config_key("name"), "--optimizer");
}

TEST(SweepRequest, OptimizerAndNoiseListsOrTheirSingleFlags) {
  ex::SweepRequest r;
  r.optimizers = "keras-adam, adapnm";
  r.noises = "ne,isotropic";
  ex::SweepSpec spec = ex::sweep_spec_from_request(r);
  EXPECT_EQ(spec.optimizers, (std::vector<std::string>{"keras-adam", "adapnm"}));
  EXPECT_EQ(spec.noises, (std::vector<std::string>{"ne", "isotropic"}));
  r.given_flags.insert("--noise");
  EXPECT_NE(refusal(r).find("give --noises or --noise, not both"), std::string::npos) << refusal(r);
  r.noises.clear();
  r.flags.noise = "isotropic";
  spec = ex::sweep_spec_from_request(r);
  EXPECT_TRUE(spec.noises.empty());
  EXPECT_EQ(spec.base.noise, "isotropic");
}
