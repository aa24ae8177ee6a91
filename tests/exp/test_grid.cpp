// Sweep grids: expansion, presets and their documented run counts, list
// syntax, sweep files, sharding (union = grid, each run once), run ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "nesgd/error.h"
#include "nesgd/exp/grid.h"
#include "nesgd/exp/lists.h"
#include "nesgd/exp/presets.h"
#include "nesgd/exp/run_id.h"
#include "nesgd/exp/shard.h"
#include "nesgd/exp/sweep_file.h"
#include "nesgd/exp/toml.h"
#include "support/cli.h"
#include "support/data.h"

namespace ex = nesgd::exp;
using nesgd::train::RunConfig;

TEST(Grid, ExpandsInConfigSeedAlphaBatchOrderWithPaperDefaults) {
  ex::SweepSpec s;
  s.name = "t";
  s.configs = {"f1"};
  s.batch_sizes = {100, 200};
  s.alphas = {1, 1.5};
  s.seeds = {7, 8};
  const auto runs = ex::expand(s);
  ASSERT_EQ(runs.size(), 8u);
  // config, then seed, then alpha, then B.
  const std::vector<std::tuple<uint64_t, double, int64_t>> want{
      {7, 1, 100}, {7, 1, 200}, {7, 1.5, 100}, {7, 1.5, 200}, {8, 1, 100}, {8, 1, 200}, {8, 1.5, 100}, {8, 1.5, 200}};
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].seed, std::get<0>(want[i])) << i;
    EXPECT_EQ(runs[i].alpha, std::get<1>(want[i])) << i;
    EXPECT_EQ(runs[i].batch_size, std::get<2>(want[i])) << i;
    EXPECT_EQ(runs[i].dataset, "fashion-mnist");
    EXPECT_EQ(runs[i].l_star, 0.01);  // the paper's F1
    EXPECT_EQ(runs[i].l_stop, 0.001);
  }
}

TEST(Grid, EachConfigGetsItsOwnDatasetAndThresholds) {
  ex::SweepSpec s;
  s.configs = {"f1", "c2"};
  s.batch_sizes = {100};
  s.alphas = {1};
  s.seeds = {1};
  const auto runs = ex::expand(s);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].model, "c2");
  EXPECT_EQ(runs[1].dataset, "cifar100");
  EXPECT_EQ(runs[1].l_star, 0.02);  // the paper's C2 L*
}

TEST(Grid, RejectsDuplicatesEmptyListsAndBatchesAboveTheSubset) {
  ex::SweepSpec s;
  s.configs = {"f1"};
  s.batch_sizes = {100, 100};
  s.alphas = {1};
  s.seeds = {1};
  EXPECT_THROW(ex::expand(s), nesgd::Error);
  s.batch_sizes = {};
  EXPECT_THROW(ex::expand(s), nesgd::Error);
  s.batch_sizes = {100, 5000};
  s.base.train_subset = 1000;
  try {
    ex::expand(s);
    FAIL() << "expected an error";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("5000"), std::string::npos) << e.what();
  }
  s.base.train_subset = 0;
  s.configs = {"f9"};
  EXPECT_THROW(ex::expand(s), nesgd::Error);
}

TEST(Grid, PresetsHaveThePapersRunCounts) {
  // The paper: 13 batch sizes; alphas {1,1.5} (F1, C2) or {1,1.5,2,2.5} (C1); 10 seeds;
  // Table 3: B = 5000 with alpha 1..11 (F1, C1) or 1..7 (C2).
  const std::map<std::string, size_t> want{{"f1-fig2", 13 * 2 * 10}, {"c1-fig1", 13 * 4 * 10},
                                           {"c2-fig2", 13 * 2 * 10}, {"f1-table3", 11 * 10},
                                           {"c1-table3", 11 * 10},   {"c2-table3", 7 * 10}};
  ASSERT_EQ(ex::presets().size(), want.size());
  for (const auto& [name, count] : want) {
    const auto s = ex::preset(name, false);
    EXPECT_EQ(s.size(), count) << name;
    EXPECT_EQ(ex::expand(s).size(), count) << name;
    EXPECT_EQ(s.name, name);
    EXPECT_EQ(s.seeds.size(), 10u) << name;
    EXPECT_EQ(s.base.train_subset, 0) << name << ": the paper's presets use the whole training set";
    // The paper's protocol as Keras's fit ran it, quick or not.
    for (bool quick : {false, true}) {
      for (const auto& r : ex::expand(ex::preset(name, quick))) {
        ASSERT_EQ(r.sampling, "keras") << name;
        ASSERT_EQ(r.optimizer.name, "keras-adam") << name;
      }
    }
  }
  const auto t3 = ex::preset("f1-table3", false);
  EXPECT_EQ(t3.batch_sizes, std::vector<int64_t>{5000});
  EXPECT_EQ(t3.alphas.front(), 1.0);
  EXPECT_EQ(t3.alphas.back(), 11.0);
  EXPECT_EQ(ex::preset("c2-table3", false).alphas.back(), 7.0);
  EXPECT_THROW(ex::preset("f1-fig9", false), nesgd::Error);
}

TEST(Grid, QuickPresetsKeepTheShape) {
  for (const auto& info : ex::presets()) {
    const auto s = ex::preset(info.name, true);
    EXPECT_EQ(s.name, info.name + "-quick");
    EXPECT_EQ(s.seeds.size(), static_cast<size_t>(ex::kQuickSeeds)) << info.name;
    EXPECT_GT(s.base.train_subset, 0) << info.name;
    EXPECT_GT(s.base.max_iterations, 0) << info.name;
    const bool table3 = info.name.find("table3") != std::string::npos;
    if (table3) {
      EXPECT_EQ(s.batch_sizes.size(), 1u) << info.name << ": B fixed, alpha grid";
      EXPECT_GE(s.alphas.size(), 3u) << info.name;
    } else {
      EXPECT_GE(s.batch_sizes.size(), 3u) << info.name << ": several batch sizes";
      EXPECT_EQ(s.alphas, (std::vector<double>{1, 1.5})) << info.name;
    }
    EXPECT_NO_THROW(ex::expand(s)) << info.name;
  }
  // The two F1 quick presets share their setting and their largest B, so one
  // store holds Table 3's and Figure 3's both paths (and the shared runs once).
  const auto fig = ex::preset("f1-fig2", true), tab = ex::preset("f1-table3", true);
  EXPECT_EQ(fig.batch_sizes.back(), tab.batch_sizes.front());
  const auto fig_runs = ex::expand(fig), tab_runs = ex::expand(tab);
  std::set<std::string> fig_ids;
  for (const auto& r : fig_runs) fig_ids.insert(ex::run_id(r));
  size_t shared = 0;
  for (const auto& r : tab_runs) shared += fig_ids.count(ex::run_id(r));
  EXPECT_EQ(shared, 2u * ex::kQuickSeeds) << "alpha = 1 and 1.5 at the large B, as in the paper's presets";
  EXPECT_EQ(ex::setting_id(fig_runs.front()), ex::setting_id(tab_runs.front()));
  // "f1-fig2-quick" names the same preset.
  EXPECT_EQ(ex::preset("f1-fig2-quick", false).size(), fig.size());
}

TEST(Grid, ParsesListsAndRanges) {
  EXPECT_EQ(ex::parse_number_list("100,200, 500", "x"), (std::vector<double>{100, 200, 500}));
  EXPECT_EQ(ex::parse_number_list("1..4", "x"), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(ex::parse_number_list("1..2:0.5", "x"), (std::vector<double>{1, 1.5, 2}));
  EXPECT_EQ(ex::parse_number_list("1,2.5..3.5", "x"), (std::vector<double>{1, 2.5, 3.5}));
  // a + k*step, not accumulated: 0.1 steps land on the decimal values.
  const auto tenths = ex::parse_number_list("1..2:0.1", "x");
  ASSERT_EQ(tenths.size(), 11u);
  EXPECT_EQ(tenths[3], 1 + 3 * 0.1);
  EXPECT_EQ(ex::parse_int_list("1..10", "seeds").size(), 10u);
  EXPECT_THROW(ex::parse_number_list("", "x"), nesgd::Error);
  EXPECT_THROW(ex::parse_number_list("1,,2", "x"), nesgd::Error);
  EXPECT_THROW(ex::parse_number_list("4..1", "x"), nesgd::Error);
  EXPECT_THROW(ex::parse_number_list("a", "x"), nesgd::Error);
  EXPECT_THROW(ex::parse_int_list("1.5", "seeds"), nesgd::Error);
}

TEST(Grid, SweepFromJsonOverridesAPreset) {
  const auto j = nlohmann::json::parse(R"({
    "preset": "f1-fig2", "quick": true, "name": "mine",
    "batch_sizes": "50..150:50", "alphas": [1, "2..3"], "seeds": [1, 2],
    "loss_measure": "full", "optimizer": {"lr": 0.0005}
  })");
  const auto s = ex::sweep_spec_from_json(j);
  EXPECT_EQ(s.name, "mine");
  EXPECT_EQ(s.batch_sizes, (std::vector<int64_t>{50, 100, 150}));
  EXPECT_EQ(s.alphas, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(s.seeds, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(s.base.loss_measure, nesgd::train::LossMeasure::kFull);
  EXPECT_EQ(s.base.optimizer.lr, 0.0005);
  EXPECT_EQ(s.base.optimizer.beta1, 0.9);  // untouched keys keep their defaults
  EXPECT_EQ(s.base.train_subset, ex::preset("f1-fig2", true).base.train_subset);  // from the quick preset
  EXPECT_EQ(s.size(), 3u * 3u * 2u);
  // Typos and crossed keys given as single values are errors that say what to do.
  EXPECT_THROW(ex::sweep_spec_from_json(nlohmann::json::parse(R"({"batch_sise": [1]})")), nesgd::Error);
  try {
    ex::sweep_spec_from_json(nlohmann::json::parse(R"({"alpha": 2})"));
    FAIL();
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("alphas"), std::string::npos) << e.what();
  }
}

TEST(Grid, SweepFromTomlFile) {
  nesgd::testing::TempDir tmp;
  const std::string path = tmp.path() + "/study.toml";
  std::ofstream(path) << "name = \"lr-study\"\nconfigs = [\"f1\"]\nbatch_sizes = [100, 1000]\n"
                         "alphas = \"1..2:0.5\"\nseeds = \"1..3\"\ntrain_subset = 5000\n"
                         "[optimizer]\nlr = 5e-4\n";
  const auto s = ex::sweep_spec_from_file(path);
  EXPECT_EQ(s.name, "lr-study");
  EXPECT_EQ(s.size(), 2u * 3u * 3u);
  EXPECT_EQ(s.base.train_subset, 5000);
  EXPECT_EQ(s.base.optimizer.lr, 5e-4);
  std::ofstream(path) << "batch_sizes = [100,\n";
  try {
    ex::sweep_spec_from_file(path);
    FAIL();
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
  }
}

// Found by fuzzing (fuzz/corpus/sweep_toml/crash-name-is-a-number.toml and
// its relatives): a value of the wrong type escaped as nlohmann::json's own
// exception, and a number too large for an integer field was converted with
// undefined behaviour. Each must be an nesgd::Error naming the key.
TEST(Grid, SweepFileValuesOfTheWrongTypeAreNamedErrors) {
  using nesgd::testing::expect_error;
  nesgd::testing::TempDir tmp;
  auto from_file = [&](const std::string& name, const std::string& text) {
    const std::string path = tmp.path() + "/" + name;
    std::ofstream(path) << text;
    return [path] { ex::sweep_spec_from_file(path); };
  };
  expect_error(from_file("n.toml", "name =8\n"), {"n.toml", "'name' must be a string, got 8"});
  expect_error(from_file("a.json", "[1, 2]"), {"a.json", "one JSON object", "[1,2]"});
  // A number beyond a double makes the JSON parser throw out_of_range, not
  // parse_error (fuzz/corpus/sweep_json/crash-number-overflow.json).
  expect_error(from_file("o.json", R"({"alphas": [1e400]})"), {"o.json", "invalid JSON"});
  auto from_json = [](const char* text) { return [text] { ex::sweep_spec_from_json(nlohmann::json::parse(text)); }; };
  expect_error(from_json(R"({"preset": 7})"), {"'preset' must be a string, got 7"});
  expect_error(from_json(R"({"preset": "f1-fig2", "quick": "yes"})"), {"'quick' must be true or false"});
  expect_error(from_json(R"({"dataset": 5})"), {"'dataset' must be a string"});
  expect_error(from_json(R"({"configs": [1]})"), {"each of 'configs' must be a string, got 1"});
  expect_error(from_json(R"({"configs": 3})"), {"'configs' must be a list"});
  expect_error(from_json(R"({"train_subset": "many"})"), {"'train_subset' must be an integer, got \"many\""});
  expect_error(from_json(R"({"train_subset": 1e300})"), {"'train_subset' must be an integer, got 1e+300"});
  expect_error(from_json(R"({"threads": 4294967296})"), {"'threads' must be in ["});
  expect_error(from_json(R"({"optimizer": {"lr": "fast"}})"), {"optimizer: 'lr' must be a number"});
  expect_error(from_json(R"({"optimizer": 1})"), {"'optimizer' must be a table/object"});
  expect_error(from_json(R"({"seeds": [1e300]})"), {"seeds", "is too large"});
  expect_error(from_json(R"({"batch_sizes": [[100]]})"), {"batch_sizes", "expected a list"});
}

// Found by fuzzing (fuzz/corpus/sweep_toml/crash-unicode-whitespace-table.toml):
// the two bytes "\xCA\xB5" (U+02B5) made toml++ 3.3 reach __builtin_unreachable()
// in its whitespace table, and nesgd refused whole Unicode ranges in any TOML
// file. nesgd's own reader (exp/toml.h) reads such letters like any other:
// in strings and comments they are text, elsewhere a syntax error with its place.
TEST(Grid, NonAsciiLettersInTomlSweepFilesAreRead) {
  using nesgd::testing::expect_error;
  expect_error([] { ex::toml_to_json("\xCA\xB5", "crash.toml"); },
               {"crash.toml: invalid TOML at line 1, column 1", "expected a key"});
  expect_error([] { ex::toml_to_json("seeds = [1]\nname = \"x\"   \xC3\xA9\n", "e.toml"); },
               {"e.toml: invalid TOML at line 2, column 14", "expected the end of the line"});
  EXPECT_EQ(ex::toml_to_json("s = \"\"\"\\\n\xC2\xA7\"\"\"\n", "s.toml")["s"], "\xC2\xA7");
  const auto j = ex::toml_to_json("name = \"\xCA\xB5 \xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80\" # \xC3\xA9 \xE4\xB8\xAD\n"
                                  "seeds = [1] # \xCA\xB5\n",
                                  "ok.toml");
  EXPECT_EQ(j["name"], "\xCA\xB5 \xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80");
  EXPECT_EQ(j["seeds"], nlohmann::json::array({1}));
}

// Found by fuzzing (fuzz/corpus/sweep_toml/crash-table-header-without-key.toml,
// crash-array-value-starts-with-brace.toml): malformed text broke
// preconditions toml++ 3.3 only asserts, which a release build compiles into
// compiler assumptions (undefined behaviour). nesgd's own reader reports them
// as invalid TOML like any other syntax error. (Undefined behaviour may look
// harmless in a release build; the fuzz target replays these inputs under
// UBSan on every CI run.)
TEST(Grid, MalformedTomlThatBrokeTomlPlusPlusIsAnError) {
  using nesgd::testing::expect_error;
  for (const char* text : {"[=", "[[[1]]]", "[#]", "[.a]", "alphas = [}an, inf]\n", "a = [[1]]\n[[[1]]]\n"}) {
    expect_error([text] { ex::toml_to_json(text, "bad.toml"); }, {"bad.toml", "invalid TOML"});
  }
}

// Found by fuzzing: "1..1e300" converted its value count to an integer before
// checking it (undefined behaviour); lists and grids had no overall bound, so
// a few short ranges asked expand() for 10^10 runs (std::length_error from
// reserve, or gigabytes). Both are errors that say what to fix.
TEST(Grid, HugeListsAndSweepsAreRefusedBeforeTheyAreBuilt) {
  using nesgd::testing::expect_error;
  expect_error([] { ex::parse_number_list("1..1e300", "alphas"); }, {"alphas", "more than 100000 values"});
  expect_error([] { ex::parse_number_list("0..1:1e-300", "alphas"); }, {"more than 100000 values"});
  expect_error([] { ex::parse_number_list("1..60000,1..60000", "seeds"); }, {"seeds", "more than 100000 values"});
  EXPECT_EQ(ex::parse_number_list("1..100000", "seeds").size(), ex::kMaxListValues);
  ex::SweepSpec s;
  s.configs = {"f1"};
  s.batch_sizes = ex::parse_int_list("1..100000", "batch sizes");
  s.alphas = ex::parse_number_list("1..99999", "alphas");
  s.seeds = {1, 2};
  expect_error([&] { ex::expand(s); }, {"more than 100000 runs", "1 configs x 100000 batch sizes x 99999 alphas x 2 seeds"});
}

TEST(Grid, ShardsPartitionTheGrid) {
  const auto runs = ex::expand(ex::preset("f1-fig2", false));  // 260 runs
  for (int64_t n : {1, 2, 3, 7, 10, 260, 300}) {
    std::vector<int> taken(runs.size(), 0);
    std::vector<size_t> per_shard;
    for (int64_t i = 0; i < n; ++i) {
      const ex::Shard shard{i, n};
      size_t count = 0;
      for (size_t p = 0; p < runs.size(); ++p) {
        if (shard.contains(p)) {
          ++taken[p];
          ++count;
        }
      }
      per_shard.push_back(count);
    }
    for (size_t p = 0; p < runs.size(); ++p) ASSERT_EQ(taken[p], 1) << "N=" << n << " position " << p;
    // Round robin: shard sizes differ by at most one.
    const auto [lo, hi] = std::minmax_element(per_shard.begin(), per_shard.end());
    EXPECT_LE(*hi - *lo, 1u) << "N=" << n;
  }
}

TEST(Grid, ParsesShardsAndSlurmArrays) {
  const auto s = ex::parse_shard("2/5");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  for (const char* bad : {"5/5", "-1/3", "1", "a/b", "1/0", "1/3x"}) EXPECT_THROW(ex::parse_shard(bad), nesgd::Error) << bad;

  std::map<std::string, std::string> env{{"SLURM_ARRAY_TASK_ID", "7"}, {"SLURM_ARRAY_TASK_COUNT", "10"},
                                         {"SLURM_ARRAY_TASK_MIN", "1"}};
  auto getenv = [&env](const char* k) -> const char* {
    const auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  ex::Shard shard;
  ASSERT_TRUE(ex::shard_from_slurm(shard, getenv));
  EXPECT_EQ(shard.index, 6);  // --array=1-10: task 7 is the 7th, index 6
  EXPECT_EQ(shard.count, 10);
  env["SLURM_ARRAY_TASK_ID"] = "11";
  EXPECT_THROW(ex::shard_from_slurm(shard, getenv), nesgd::Error);
  env.clear();
  EXPECT_FALSE(ex::shard_from_slurm(shard, getenv));
}

// The id of F1, B 100, alpha 1, seed 0 under nesgd's first protocol (drop-last
// epochs, LibTorch's Adam), the default until keras sampling and keras-adam
// became it. Pinned: stores written then hold it, and a change would make
// every one of them rerun everything.
constexpr const char* kLegacyDefaultRunId = "74999675871b4b80";

TEST(RunId, IsStableAndIgnoresExecutionOnlyFields) {
  RunConfig c;  // F1, B 100, alpha 1, seed 0, the earlier protocol:
  c.sampling = "epoch";
  c.optimizer.name = "adam";
  const std::string id = ex::run_id(c);
  EXPECT_EQ(id.size(), ex::kRunIdHexDigits);
  // A new RunConfig key belongs in kKeysOmittedAtDefault (run_id.h) with its neutral value.
  EXPECT_EQ(id, kLegacyDefaultRunId) << "run id of the earlier default config changed";
  RunConfig same = c;
  same.threads = 4;
  same.blas_threads = 2;
  same.l_star = 0.01;  // the paper default, spelled out: the resolved config is hashed
  EXPECT_EQ(ex::run_id(same), id);
  for (auto change : std::vector<std::function<void(RunConfig&)>>{
           [](RunConfig& r) { r.seed = 1; }, [](RunConfig& r) { r.alpha = 1.5; },
           [](RunConfig& r) { r.batch_size = 200; }, [](RunConfig& r) { r.device = "cuda"; },
           [](RunConfig& r) { r.optimizer.lr = 2e-3; }, [](RunConfig& r) { r.train_subset = 10; },
           [](RunConfig& r) { r.test_subset = 10; },
           [](RunConfig& r) { r.bn_convention = "pytorch"; }, [](RunConfig& r) { r.ghost_batch_size = 50; },
           [](RunConfig& r) { r.sampling = "keras"; }, [](RunConfig& r) { r.sampling = "iid"; },
           [](RunConfig& r) { r.optimizer.name = "keras-adam"; }}) {
    RunConfig other = c;
    change(other);
    EXPECT_NE(ex::run_id(other), id);
  }
  // The setting ignores seed, B and alpha only.
  RunConfig point = c;
  point.seed = 5;
  point.batch_size = 300;
  point.alpha = 2;
  EXPECT_EQ(ex::setting_id(point), ex::setting_id(c));
  point.max_iterations = 10;
  EXPECT_NE(ex::setting_id(point), ex::setting_id(c));
  // A stored config gives back the same id.
  c.resolve_defaults_and_validate();
  EXPECT_EQ(ex::run_id_of_config_json(nesgd::train::to_json(c)), id);
}

// Today's default, the paper's Keras protocol, is another run than the
// earlier default and has its own pinned id.
TEST(RunId, DefaultIsTheKerasProtocolWithItsOwnPinnedId) {
  RunConfig c;
  EXPECT_EQ(c.sampling, "keras");
  EXPECT_EQ(c.optimizer.name, "keras-adam");
  EXPECT_EQ(ex::run_id(c), "7347aef9fad8e93d") << "run id of the default config changed";
  EXPECT_NE(ex::run_id(c), kLegacyDefaultRunId);
}

// A record stored before the defaults changed reads back as what it ran: its
// config always had "sampling" and the optimizer's "name", and without them
// it would still read as drop-last epochs with LibTorch's Adam.
TEST(RunId, StoredRecordsKeepTheirIdsAndMissingKeysReadAsTheEarlierProtocol) {
  RunConfig legacy;
  legacy.sampling = "epoch";
  legacy.optimizer.name = "adam";
  legacy.resolve_defaults_and_validate();
  nlohmann::json stored = nesgd::train::to_json(legacy);
  EXPECT_EQ(ex::run_id_of_config_json(stored), kLegacyDefaultRunId);
  stored.erase("sampling");
  stored["optimizer"].erase("name");
  const RunConfig read = nesgd::train::run_config_from_json(stored);
  EXPECT_EQ(read.sampling, "epoch");
  EXPECT_EQ(read.optimizer.name, "adam");
  EXPECT_EQ(ex::run_id_of_config_json(stored), kLegacyDefaultRunId);
}

// What needs the training-set size: B <= n, and a keras epoch's short batch
// (n mod B) must be whole ghost batches for C1/C2.
TEST(RunConfig, ShortKerasBatchMustBeWholeGhostBatches) {
  RunConfig c;
  c.model = "c1";
  c.dataset = "cifar10";
  c.batch_size = 300;
  // The paper's grid on CIFAR's 50,000 images: every remainder is a multiple of 100.
  for (int64_t b : {100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 2000, 3000, 5000}) {
    c.batch_size = b;
    EXPECT_NO_THROW(c.validate_for_training_set(50000)) << "B " << b;
  }
  // 1,050 images at B = 100: epochs end with a batch of 50, half a ghost batch.
  c.batch_size = 100;
  try {
    c.validate_for_training_set(1050);
    FAIL() << "expected a refusal";
  } catch (const nesgd::Error& e) {
    const std::string m = e.what();
    for (const char* part : {"short batch of 50", "ghost batch size 100", "--sampling epoch", "--train-subset"}) {
      EXPECT_NE(m.find(part), std::string::npos) << "missing '" << part << "' in: " << m;
    }
  }
  // Fine without keras sampling (the short batch is dropped), with F1 (no
  // batch norm), or with a ghost size that divides the remainder.
  c.sampling = "epoch";
  EXPECT_NO_THROW(c.validate_for_training_set(1050));
  c.sampling = "keras";
  c.ghost_batch_size = 50;
  EXPECT_NO_THROW(c.validate_for_training_set(1050));
  c.ghost_batch_size = 100;
  c.model = "f1";
  EXPECT_NO_THROW(c.validate_for_training_set(1050));
  // B above n, whatever the sampling.
  c.batch_size = 2000;
  EXPECT_THROW(c.validate_for_training_set(1050), nesgd::Error);
}

// NE beside its controls in one sweep: optimizers and noises crossed after the seed, each run
// validated; match_batch sets alpha from B (so an alphas list beside it is refused).
TEST(Grid, CrossesOptimizersAndNoisesInTheDocumentedOrder) {
  ex::SweepSpec s;
  s.configs = {"f1"};
  s.batch_sizes = {400};
  s.alphas = {1.5};
  s.seeds = {1, 2};
  s.optimizers = {"keras-adam", "adapnm"};
  s.noises = {"ne", "isotropic"};
  EXPECT_EQ(s.size(), 8u);
  const auto runs = ex::expand(s);
  ASSERT_EQ(runs.size(), 8u);
  const std::vector<std::tuple<uint64_t, std::string, std::string>> want{
      {1, "keras-adam", "ne"}, {1, "keras-adam", "isotropic"}, {1, "adapnm", "ne"}, {1, "adapnm", "isotropic"},
      {2, "keras-adam", "ne"}, {2, "keras-adam", "isotropic"}, {2, "adapnm", "ne"}, {2, "adapnm", "isotropic"}};
  std::set<std::string> settings;
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].seed, std::get<0>(want[i])) << i;
    EXPECT_EQ(runs[i].optimizer.name, std::get<1>(want[i])) << i;
    EXPECT_EQ(runs[i].noise, std::get<2>(want[i])) << i;
    settings.insert(ex::setting_id(runs[i]));
  }
  EXPECT_EQ(settings.size(), 4u);  // each (optimizer, noise) its own setting in the report
  s.noises = {"ne", "ne"};
  EXPECT_THROW(ex::expand(s), nesgd::Error);
  s.noises = {"gaussian"};
  EXPECT_THROW(ex::expand(s), nesgd::Error);
  s.noises = {};
  s.base.match_batch = 100;
  s.alphas = {1.0};
  const auto matched = ex::expand(s);
  EXPECT_NEAR(matched.front().alpha, (1.0 + std::sqrt(7.0)) / 2.0, 1e-12);
  s.alphas = {1.0, 1.5};
  EXPECT_THROW(ex::expand(s), nesgd::Error);
}

TEST(SweepFile, OptimizersAndNoisesAsListsOrText) {
  const auto s = ex::sweep_spec_from_json(nlohmann::json::parse(
      R"({"configs": "f1", "batch_sizes": [400], "optimizers": ["keras-adam", "adapnm"], "noises": "ne, isotropic",)"
      R"( "noise_matching": "tensor", "optimizer": {"beta0": 0.5}})"));
  EXPECT_EQ(s.optimizers, (std::vector<std::string>{"keras-adam", "adapnm"}));
  EXPECT_EQ(s.noises, (std::vector<std::string>{"ne", "isotropic"}));
  EXPECT_EQ(s.base.noise_matching, "tensor");
  EXPECT_EQ(s.base.optimizer.beta0, 0.5);
  EXPECT_EQ(ex::to_json(s)["noises"], nlohmann::json({"ne", "isotropic"}));
}
