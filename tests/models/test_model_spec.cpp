// The model spec a model file carries: read back with every field checked
// before any network is built (torch-free, like the reader).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "nesgd/error.h"
#include "nesgd/models/model_spec.h"
#include "support/data.h"

namespace md = nesgd::models;
using nesgd::testing::expect_error;

TEST(ModelSpec, RoundTripsAndReadsFilesWrittenBeforeTheGhostBatchKeys) {
  const md::ModelSpec c2{"c2", 3, 32, 32, 100, "pytorch", 50};
  const md::ModelSpec back = md::model_spec_from_text(md::to_json(c2).dump(), "m.pt");
  EXPECT_EQ(md::to_json(back), md::to_json(c2));
  const md::ModelSpec old = md::model_spec_from_text(
      R"({"name":"c1","in_channels":3,"height":32,"width":32,"num_classes":10})", "old.pt");
  EXPECT_EQ(old.bn_convention, "keras");
  EXPECT_EQ(old.ghost_batch_size, 100);
}

// load_model used to parse the header with no error handling and no range
// checks: any damage escaped as nlohmann::json's own exception, and a header
// declaring 3 x 100000 x 100000 inputs made it build an F1 whose first layer
// wants 1.5 x 10^13 weights. Fuzzing the new reader then found
// (fuzz/corpus/model_spec/crash-number-overflow.json) that a number too large
// for a double ("1e444...") makes the parser throw out_of_range, not parse_error.
TEST(ModelSpec, DamagedOrHostileHeadersAreNamedErrorsBeforeAnyNetworkIsBuilt) {
  std::ifstream crash(std::string(NESGD_SOURCE_DIR) + "/fuzz/corpus/model_spec/crash-number-overflow.json");
  const std::string crash_text((std::istreambuf_iterator<char>(crash)), {});
  ASSERT_FALSE(crash_text.empty());
  auto read = [](const std::string& text) { return [text] { md::model_spec_from_text(text, "m.pt"); }; };
  expect_error(read(crash_text), {"m.pt", "not valid JSON", "save the model again"});
  expect_error(read("1e400"), {"m.pt", "not valid JSON"});
  expect_error(read(R"({"name":"f1","in_channels":3,"height":100000,"width":100000,"num_classes":10})"),
               {"m.pt", "'height' must be in [1, 128], got 100000"});
  expect_error(read(R"({"name":"f1","in_channels":0,"height":28,"width":28,"num_classes":10})"),
               {"'in_channels' must be in [1, 4], got 0"});
  expect_error(read(R"({"name":"f1","in_channels":1,"height":28,"width":28,"num_classes":1e300})"),
               {"'num_classes' must be an integer, got 1e+300"});
  expect_error(read(R"({"name":"f1","in_channels":"1","height":28,"width":28,"num_classes":10})"),
               {"'in_channels' must be an integer, got \"1\""});
  expect_error(read(R"({"name":"f1"})"), {"has no 'in_channels'", "not a model file written by nesgd"});
  expect_error(read(R"({"name":"resnet50","in_channels":3,"height":224,"width":224,"num_classes":1000})"),
               {"unknown model 'resnet50'"});
  expect_error(read(R"({"name":"c1","in_channels":3,"height":32,"width":32,"num_classes":10,"ghost_batch_size":0})"),
               {"'ghost_batch_size' must be in [1, "});
  expect_error(read(R"({"name":"c1","in_channels":3,"height":32,"width":32,"num_classes":10,"bn_convention":"tf"})"),
               {"unknown bn_convention 'tf'"});
  expect_error(read("[]"), {"model spec must be an object"});
}
