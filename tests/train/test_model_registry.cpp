// A model is one entry (models/catalog.h, models/registry.h): a test-only network registered in
// this file alone is a model like the paper's. It trains, its pack members follow their single
// runs, a sweep trains it in packs into a store, and the report names it by its label.
#include <gtest/gtest.h>

#include <filesystem>

#include "nesgd/data/resolve.h"
#include "nesgd/exp/store.h"
#include "nesgd/exp/sweep.h"
#include "nesgd/models/f1.h"
#include "nesgd/models/registry.h"
#include "nesgd/report/render.h"
#include "nesgd/runtime/threads.h"
#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"
#include "support/cli.h"
#include "support/compare.h"

namespace nesgd::train {
namespace {

// Seven 5 x 6 RGB images, three test images (tests/testdata/npz/make_fixtures.py).
const std::string kData = "npz:" + std::string(NESGD_TEST_DATA_DIR) + "/npz/savez_uint8_nhwc.npz";

// The one place the test model is defined: an MLP of 2 x 16.
void register_tiny_mlp() {
  static const bool done = [] {
    const models::MlpOptions o{2, 16, "mlp-tiny"};
    models::register_model(
        {"mlp-tiny", "MLP-TINY", "MLP 2 x 16 (a test's own model)", kData, 0.5, 0.05, false,
         models::ThreadProfile::kDense, 3, 5, 6, 10},
        {[o](const models::ModelSpec& s) {
           return std::make_shared<models::MlpImpl>(s.in_channels * s.height * s.width, s.num_classes, o);
         },
         [](const models::ModelSpec& s) {
           const double in = static_cast<double>(s.in_channels * s.height * s.width);
           return models::ModelCost{in * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10, in + 32 + 10};
         }});
    return true;
  }();
  (void)done;
}

const data::DatasetSplits& tiny_data() {
  static const data::DatasetSplits d = data::load_dataset(kData, {});
  return d;
}

RunConfig tiny_run(double alpha, uint64_t seed) {
  RunConfig c;
  c.model = "mlp-tiny";
  c.dataset = kData;
  c.precision = "fp64";
  c.batch_size = 2;  // keras epochs: three batches of 2 and a short one of 1
  c.alpha = alpha;
  c.seed = seed;
  c.max_iterations = 24;
  c.l_star = 1e-9;  // never reached: every run takes all its steps
  c.l_stop = 1e-10;
  c.threads = 1;
  c.blas_threads = 1;
  return c;
}

}  // namespace

TEST(ModelRegistry, ATestModelRegisteredInOnePlaceIsInEveryList) {
  register_tiny_mlp();
  EXPECT_TRUE(is_one_of("mlp-tiny", models::builtin_model_names()));
  EXPECT_EQ(paper_config("mlp-tiny").l_star, 0.5);
  EXPECT_EQ(exp::config_label("mlp-tiny"), "MLP-TINY");
  EXPECT_FALSE(tiny_run(1.0, 1).has_ghost_batch_norm());
  EXPECT_EQ(runtime::default_threads("mlp-tiny", 2).blas, runtime::default_threads("f1", 2).blas);
  EXPECT_THROW(models::register_model({"f1", "F1"}, models::model_builder("f1")), Error);  // a taken name
  EXPECT_THROW(models::model_builder("mlp-huge"), Error);
  RunConfig c = tiny_run(1.5, 1);
  c.l_star = -1.0;  // the entry's
  c.l_stop = -1.0;
  c.resolve_defaults_and_validate();
  EXPECT_EQ(c.l_stop, 0.05);
}

TEST(ModelRegistry, ATestModelTrainsAndItsPackMembersFollowTheirSingleRuns) {
  register_tiny_mlp();
  const RunConfig a = tiny_run(1.5, 1), b = tiny_run(1.5, 2);
  const RunResult single_a = train_run(a, tiny_data()), single_b = train_run(b, tiny_data());
  EXPECT_EQ(single_a.iterations, 24);
  const int64_t classes = tiny_data().train.num_classes;
  EXPECT_EQ(single_a.parameters, 90 * 16 + 16 + 16 * 16 + 16 + 16 * classes + classes);
  EXPECT_NE(single_a.test_loss, single_b.test_loss);
  const std::vector<RunResult> packed = train_pack({a, b}, tiny_data());
  ASSERT_EQ(packed.size(), 2u);
  EXPECT_LT(testing::rel_diff(packed[0].test_loss, single_a.test_loss), testing::kSameRunFp64);
  EXPECT_LT(testing::rel_diff(packed[1].test_loss, single_b.test_loss), testing::kSameRunFp64);
  EXPECT_EQ(packed[1].iterations, single_b.iterations);
}

TEST(ModelRegistry, ATestModelSweepsInPacksAndTheReportNamesIt) {
  register_tiny_mlp();
  testing::TempDir tmp;
  exp::SweepSpec spec;
  spec.name = "tiny";
  spec.base = tiny_run(1.0, 0);
  spec.configs = {"mlp-tiny"};
  spec.batch_sizes = {2};
  spec.alphas = {1.0, 1.5};
  spec.seeds = {1, 2};
  exp::ResultStore store(tmp.path() + "/store");
  exp::SweepOptions options;
  options.pack = 2;
  options.write_exports = false;
  const exp::SweepSummary summary = exp::run_sweep(spec, store, options);
  const auto records = store.load_results();
  ASSERT_EQ(records.size(), 4u);
  int packed = 0;
  for (const auto& r : records) packed += r.contains("pack") ? 1 : 0;
  EXPECT_EQ(packed, 4) << "each (seed, alpha = 1 | NE) pair trains as one pack";
  report::ReportOptions ro;
  ro.out_dir = tmp.path() + "/report";
  ro.figures = false;
  report::write_report(records, store.sweeps(), ro);
  const std::string md = testing::read_text(ro.out_dir + "/report.md");
  EXPECT_NE(md.find("MLP-TINY"), std::string::npos) << md;
  (void)summary;
}

}  // namespace nesgd::train
