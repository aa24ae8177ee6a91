// RunConfig's JSON, pinned: the exact text to_json writes and the run id of a
// handful of configurations (the defaults, every choice of every enumerated
// field, records written before the newer fields existed). Stores hold this
// text and are keyed by these ids; if a test here fails, old stores would no
// longer read back as what they ran or would rerun everything. Change the
// pinned values only together with a migration.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/error.h"
#include "nesgd/exp/run_id.h"
#include "nesgd/train/run_config.h"

namespace tr = nesgd::train;
namespace ex = nesgd::exp;

namespace {

// to_json of a default RunConfig, unresolved (l_star / l_stop still -1).
constexpr const char* kDefaultJson =
    "{\"alpha\":1.0,\"batch_size\":100,\"blas_threads\":0,\"bn_convention\":\"keras\",\"cuda_graph\":false,"
    "\"dataset\":\"fashion-mnist\",\"device\":\"cpu\",\"eval_every\":0,\"ghost_batch_size\":100,\"init\":\"glorot\","
    "\"init_model\":\"\",\"l_star\":-1.0,\"l_stop\":-1.0,\"log_noise_scale\":false,"
    "\"loss_measure\":\"epoch-mean\",\"match_batch\":0,\"max_iterations\":0,\"model\":\"f1\",\"model_sha256\":\"\",\"ne_pass\":\"joint\",\"noise\":\"ne\",\"noise_matching\":\"whole\",\"optimizer\":{\"beta0\":1.0,\"beta1\":0.9,"
    "\"beta2\":0.999,\"eps\":1e-07,\"lr\":0.001,\"momentum\":0.0,\"name\":\"keras-adam\","
    "\"weight_decay\":0.0},\"precision\":\"fp32\",\"sampling\":\"keras\",\"seed\":0,\"test_subset\":0,\"threads\":0,"
    "\"train_subset\":0}";
// to_json of a default RunConfig after resolve_defaults_and_validate().
constexpr const char* kResolvedDefaultJson =
    "{\"alpha\":1.0,\"batch_size\":100,\"blas_threads\":0,\"bn_convention\":\"keras\",\"cuda_graph\":false,"
    "\"dataset\":\"fashion-mnist\",\"device\":\"cpu\",\"eval_every\":0,\"ghost_batch_size\":100,\"init\":\"glorot\","
    "\"init_model\":\"\",\"l_star\":0.01,\"l_stop\":0.001,\"log_noise_scale\":false,"
    "\"loss_measure\":\"epoch-mean\",\"match_batch\":0,\"max_iterations\":0,\"model\":\"f1\",\"model_sha256\":\"\",\"ne_pass\":\"joint\",\"noise\":\"ne\",\"noise_matching\":\"whole\",\"optimizer\":{\"beta0\":1.0,\"beta1\":0.9,"
    "\"beta2\":0.999,\"eps\":1e-07,\"lr\":0.001,\"momentum\":0.0,\"name\":\"keras-adam\","
    "\"weight_decay\":0.0},\"precision\":\"fp32\",\"sampling\":\"keras\",\"seed\":0,\"test_subset\":0,\"threads\":0,"
    "\"train_subset\":0}";

// A record as the first stores wrote it: no sampling, no optimizer name, none
// of the keys added since (init_model, log_noise_scale, bn_convention,
// ghost_batch_size, precision).
constexpr const char* kLegacyRecord =
    R"({"alpha":1.5,"batch_size":200,"blas_threads":0,"dataset":"fashion-mnist","device":"cpu","eval_every":0,)"
    R"("l_star":0.01,"l_stop":0.001,"loss_measure":"epoch-mean","max_iterations":0,"model":"f1",)"
    R"("optimizer":{"beta1":0.9,"beta2":0.999,"eps":1e-07,"lr":0.001,"momentum":0.0,"weight_decay":0.0},)"
    R"("seed":3,"threads":0,"train_subset":0})";

// One changed field at a time, each enumerated choice once.
std::vector<std::pair<std::string, tr::RunConfig>> variants() {
  std::vector<std::pair<std::string, tr::RunConfig>> v;
  auto add = [&](const std::string& name, auto change) {
    tr::RunConfig c;
    change(c);
    v.emplace_back(name, c);
  };
  add("default", [](tr::RunConfig&) {});
  add("loss_measure full", [](tr::RunConfig& c) { c.loss_measure = tr::LossMeasure::kFull; });
  add("sampling epoch", [](tr::RunConfig& c) { c.sampling = "epoch"; });
  add("sampling iid", [](tr::RunConfig& c) { c.sampling = "iid"; });
  for (const char* name : {"adam", "adamw", "sgd", "rmsprop"}) {
    add(std::string("optimizer ") + name, [name](tr::RunConfig& c) { c.optimizer.name = name; });
  }
  add("precision fp64", [](tr::RunConfig& c) { c.precision = "fp64"; });
  add("precision tf32", [](tr::RunConfig& c) { c.precision = "tf32"; });
  add("precision bf16", [](tr::RunConfig& c) { c.precision = "bf16"; });
  add("bn_convention pytorch", [](tr::RunConfig& c) { c.bn_convention = "pytorch"; });
  add("ghost_batch_size 50", [](tr::RunConfig& c) { c.ghost_batch_size = 50; });
  add("device cuda", [](tr::RunConfig& c) { c.device = "cuda"; });
  // Execution only: the id of "device cuda".
  add("device cuda, cuda_graph", [](tr::RunConfig& c) {
    c.device = "cuda";
    c.cuda_graph = true;
  });
  // Execution only: the default's id.
  add("ne_pass split", [](tr::RunConfig& c) { c.ne_pass = "split"; });
  add("init_model", [](tr::RunConfig& c) { c.init_model = "w.pt"; });
  add("log_noise_scale", [](tr::RunConfig& c) { c.log_noise_scale = true; });
  add("c2", [](tr::RunConfig& c) {
    c.model = "c2";
    c.dataset = "cifar100";
    c.batch_size = 600;
    c.alpha = 0.5;
    c.seed = 18446744073709551615ull;
    c.train_subset = 10000;
    c.eval_every = 7;
    c.max_iterations = 1000;
    c.optimizer.lr = 2e-3;
    c.optimizer.momentum = 0.9;
    c.optimizer.weight_decay = 1e-4;
    c.threads = 3;
    c.blas_threads = 2;
  });
  return v;
}

// name -> run id, pinned.
const std::vector<std::pair<std::string, std::string>> kPinnedIds{
    {"default", "7347aef9fad8e93d"},
    {"loss_measure full", "5f2e8e4fc547acf8"},
    {"sampling epoch", "34a3f5fff1ac424f"},
    {"sampling iid", "71b49da19bea4d9a"},
    {"optimizer adam", "8bf8854c970e3dd3"},
    {"optimizer adamw", "e24799fd7812da48"},
    {"optimizer sgd", "10315ebac12c8bcf"},
    {"optimizer rmsprop", "4a04dd32dfeca10f"},
    {"precision fp64", "ca2a3bd8a63ea138"},
    {"precision tf32", "9ffe5c63a6fc3de4"},
    {"precision bf16", "900e48d12ee3c478"},
    {"bn_convention pytorch", "2fa80ae7b69ff6e6"},
    {"ghost_batch_size 50", "767f156653cc6bb2"},
    {"device cuda", "6b4b0948c31794fb"},
    {"device cuda, cuda_graph", "6b4b0948c31794fb"},
    {"ne_pass split", "7347aef9fad8e93d"},
    {"init_model", "990def8b755b4d86"},
    {"log_noise_scale", "acaec5987f35790c"},
    {"c2", "21bd3f61d752de46"},
};

}  // namespace

TEST(RunConfigJson, DefaultTextIsPinned) {
  EXPECT_EQ(tr::to_json(tr::RunConfig{}).dump(), kDefaultJson);
  tr::RunConfig resolved;
  resolved.resolve_defaults_and_validate();
  EXPECT_EQ(tr::to_json(resolved).dump(), kResolvedDefaultJson);
}

TEST(RunConfigJson, EveryChoiceRoundTripsWithItsPinnedRunId) {
  const auto all = variants();
  ASSERT_EQ(all.size(), kPinnedIds.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& [name, config] = all[i];
    ASSERT_EQ(name, kPinnedIds[i].first);
    EXPECT_EQ(ex::run_id(config), kPinnedIds[i].second) << name;
    // Written and read back: the same text, the same id.
    const nlohmann::json written = tr::to_json(config);
    const tr::RunConfig read = tr::run_config_from_json(written);
    EXPECT_EQ(tr::to_json(read).dump(), written.dump()) << name;
    EXPECT_EQ(ex::run_id_of_config_json(written), kPinnedIds[i].second) << name;
  }
}

TEST(RunConfigJson, FullTextOfANonDefaultConfigIsPinned) {
  const auto all = variants();
  EXPECT_EQ(tr::to_json(all.back().second).dump(),
      "{\"alpha\":0.5,\"batch_size\":600,\"blas_threads\":2,\"bn_convention\":\"keras\",\"cuda_graph\":false,"
      "\"dataset\":\"cifar100\",\"device\":\"cpu\",\"eval_every\":7,\"ghost_batch_size\":100,\"init\":\"glorot\","
      "\"init_model\":\"\",\"l_star\":-1.0,\"l_stop\":-1.0,\"log_noise_scale\":false,"
      "\"loss_measure\":\"epoch-mean\",\"match_batch\":0,\"max_iterations\":1000,\"model\":\"c2\",\"model_sha256\":\"\",\"ne_pass\":\"joint\",\"noise\":\"ne\",\"noise_matching\":\"whole\","
      "\"optimizer\":{\"beta0\":1.0,\"beta1\":0.9,\"beta2\":0.999,\"eps\":1e-07,\"lr\":0.002,\"momentum\":0.9,"
      "\"name\":\"keras-adam\",\"weight_decay\":0.0001},\"precision\":\"fp32\",\"sampling\":\"keras\","
      "\"seed\":18446744073709551615,\"test_subset\":0,\"threads\":3,\"train_subset\":10000}");
  EXPECT_EQ(ex::identity_json(all.back().second).dump(),
      "{\"alpha\":0.5,\"batch_size\":600,\"dataset\":\"cifar100\",\"device\":\"cpu\",\"eval_every\":7,"
      "\"l_star\":0.02,\"l_stop\":0.001,\"loss_measure\":\"epoch-mean\",\"max_iterations\":1000,"
      "\"model\":\"c2\",\"optimizer\":{\"beta1\":0.9,\"beta2\":0.999,\"eps\":1e-07,\"lr\":0.002,"
      "\"momentum\":0.9,\"name\":\"keras-adam\",\"weight_decay\":0.0001},\"sampling\":\"keras\","
      "\"seed\":18446744073709551615,\"train_subset\":10000}");
}

// Fields added later read as the behaviour of the runs written before them:
// sampling "epoch", LibTorch's "adam", and the omitted-at-default values; the
// identity leaves those keys out, so the id is the one the record had.
TEST(RunConfigJson, LegacyRecordReadsWithItsLegacyDefaults) {
  const nlohmann::json legacy = nlohmann::json::parse(kLegacyRecord);
  const tr::RunConfig read = tr::run_config_from_json(legacy);
  EXPECT_EQ(tr::to_json(read).dump(),
      "{\"alpha\":1.5,\"batch_size\":200,\"blas_threads\":0,\"bn_convention\":\"keras\",\"cuda_graph\":false,"
      "\"dataset\":\"fashion-mnist\",\"device\":\"cpu\",\"eval_every\":0,\"ghost_batch_size\":100,\"init\":\"glorot\","
      "\"init_model\":\"\",\"l_star\":0.01,\"l_stop\":0.001,\"log_noise_scale\":false,"
      "\"loss_measure\":\"epoch-mean\",\"match_batch\":0,\"max_iterations\":0,\"model\":\"f1\",\"model_sha256\":\"\",\"ne_pass\":\"split\",\"noise\":\"ne\",\"noise_matching\":\"whole\",\"optimizer\":{\"beta0\":1.0,\"beta1\":0.9,"
      "\"beta2\":0.999,\"eps\":1e-07,\"lr\":0.001,\"momentum\":0.0,\"name\":\"adam\",\"weight_decay\":0.0},"
      "\"precision\":\"fp32\",\"sampling\":\"epoch\",\"seed\":3,\"test_subset\":0,\"threads\":0,\"train_subset\":0}");
  EXPECT_EQ(ex::run_id_of_config_json(legacy), "b053874fd40fb61f");
  EXPECT_EQ(ex::identity_json(read).dump(),
      "{\"alpha\":1.5,\"batch_size\":200,\"dataset\":\"fashion-mnist\",\"device\":\"cpu\",\"eval_every\":0,"
      "\"l_star\":0.01,\"l_stop\":0.001,\"loss_measure\":\"epoch-mean\",\"max_iterations\":0,"
      "\"model\":\"f1\",\"optimizer\":{\"beta1\":0.9,\"beta2\":0.999,\"eps\":1e-07,\"lr\":0.001,"
      "\"momentum\":0.0,\"name\":\"adam\",\"weight_decay\":0.0},\"sampling\":\"epoch\",\"seed\":3,"
      "\"train_subset\":0}");
  // Without an optimizer object at all, and without the loss measure.
  nlohmann::json bare = legacy;
  bare.erase("optimizer");
  bare.erase("loss_measure");
  EXPECT_EQ(tr::to_json(tr::run_config_from_json(bare)).dump(),
      "{\"alpha\":1.5,\"batch_size\":200,\"blas_threads\":0,\"bn_convention\":\"keras\",\"cuda_graph\":false,"
      "\"dataset\":\"fashion-mnist\",\"device\":\"cpu\",\"eval_every\":0,\"ghost_batch_size\":100,\"init\":\"glorot\","
      "\"init_model\":\"\",\"l_star\":0.01,\"l_stop\":0.001,\"log_noise_scale\":false,"
      "\"loss_measure\":\"epoch-mean\",\"match_batch\":0,\"max_iterations\":0,\"model\":\"f1\",\"model_sha256\":\"\",\"ne_pass\":\"split\",\"noise\":\"ne\",\"noise_matching\":\"whole\",\"optimizer\":{\"beta0\":1.0,\"beta1\":0.9,"
      "\"beta2\":0.999,\"eps\":1e-07,\"lr\":0.001,\"momentum\":0.0,\"name\":\"adam\",\"weight_decay\":0.0},"
      "\"precision\":\"fp32\",\"sampling\":\"epoch\",\"seed\":3,\"test_subset\":0,\"threads\":0,\"train_subset\":0}");
  // An empty object is the legacy default config.
  EXPECT_EQ(ex::run_id_of_config_json(nlohmann::json::object()), "74999675871b4b80");
}

// Bad values are refused with messages naming the field (a stored run or a
// sweep file may have been edited by hand).
TEST(RunConfigJson, BadValuesAreRefusedNamingTheField) {
  const std::vector<std::pair<nlohmann::json, std::string>> cases{
      {nlohmann::json::array(), "run configuration must be an object {...}, got []"},
      {{{"batch_size", "many"}}, "run configuration: 'batch_size' must be an integer, got \"many\""},
      {{{"batch_size", 1e300}}, "run configuration: 'batch_size' must be an integer, got 1e+300"},
      {{{"batch_size", 2.5}}, "run configuration: 'batch_size' must be an integer, got 2.5"},
      {{{"threads", 1e10}}, "run configuration: 'threads' must be in [-2147483648, 2147483647], got 10000000000"},
      {{{"seed", -1}}, "run configuration: 'seed' must be a non-negative integer, got -1"},
      {{{"alpha", "x"}}, "run configuration: 'alpha' must be a number, got \"x\""},
      {{{"log_noise_scale", 1}}, "run configuration: 'log_noise_scale' must be true or false, got 1"},
      {{{"loss_measure", "median"}},
       "unknown loss measure 'median': use 'epoch-mean' (Keras's running mean of minibatch losses) or 'full' "
       "(whole training set)"},
      {{{"loss_measure", 3}}, "run configuration: 'loss_measure' must be a string, got 3"},
      {{{"optimizer", 3}}, "run configuration: optimizer must be an object {...}, got 3"},
      {{{"optimizer", {{"lr", "fast"}}}}, "run configuration: optimizer: 'lr' must be a number, got \"fast\""},
  };
  for (const auto& [json, message] : cases) {
    try {
      tr::run_config_from_json(json);
      ADD_FAILURE() << "accepted " << json.dump();
    } catch (const nesgd::Error& e) {
      EXPECT_EQ(std::string(e.what()), message) << json.dump();
    }
  }
}
