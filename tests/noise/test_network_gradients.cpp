// The torch side of the noise meter: the gradient oracle of a Network, and
// run_model_noise's choice of weights (initial weights of a seed, or a file).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/models/network.h"
#include "nesgd/models/serialize.h"
#include "nesgd/noise/model_noise.h"
#include "nesgd/noise/network_gradients.h"
#include "support/cli.h"

using namespace nesgd;

namespace {

// float32 gradients summed in different orders agree to a few ulps of the
// largest entry.
constexpr double kFloatTolerance = 1e-5;

data::ImageSet random_images(int64_t n, int64_t side, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pixel(0, 255), label(0, 9);
  data::ImageSet s;
  s.n = n;
  s.channels = 1;
  s.height = side;
  s.width = side;
  s.num_classes = 10;
  for (int64_t i = 0; i < n * side * side; ++i) s.images.push_back(static_cast<uint8_t>(pixel(rng)));
  for (int64_t i = 0; i < n; ++i) s.labels.push_back(label(rng));
  return s;
}

data::DatasetSplits random_splits(int64_t n, int64_t side) {
  data::DatasetSplits d;
  d.name = "random";
  d.source = "generated in test";
  d.train = random_images(n, side, 1);
  d.test = random_images(10, side, 2);
  return d;
}

noise::NoiseRunConfig small_run() {
  noise::NoiseRunConfig c;
  c.model = "f1";
  c.threads = 1;
  c.blas_threads = 1;
  c.meter.batch_size = 8;
  c.meter.alphas = {1.0, 2.0};
  c.meter.draws = 8;
  c.meter.pilot_draws = 2;
  c.meter.directions = 2;
  c.meter.seed = 3;
  return c;
}

}  // namespace

TEST(NetworkGradients, BatchGradientIsTheMeanOfPerSampleGradients) {
  torch::manual_seed(0);
  const auto images = random_images(16, 8, 3);
  const models::ModelSpec spec{"f1", 1, 8, 8, 10};
  auto model = models::make_model(spec, 5);
  const auto data = runtime::to_tensors(images, torch::kCPU);
  const auto before = torch::cat({model->parameters()[0].flatten(), model->parameters().back().flatten()}).clone();

  noise::NetworkGradients oracle(*model, data);
  EXPECT_EQ(oracle.parameter_count(), models::count_parameters(*model));
  const std::vector<int64_t> batch{3, 7, 1, 12, 0};
  std::vector<double> g;
  const double loss = oracle(batch, g);
  ASSERT_EQ(static_cast<int64_t>(g.size()), oracle.parameter_count());

  std::vector<double> mean(g.size(), 0.0), one;
  double mean_loss = 0.0;
  for (int64_t i : batch) {
    mean_loss += oracle({i}, one) / batch.size();
    for (size_t t = 0; t < one.size(); ++t) mean[t] += one[t] / batch.size();
  }
  double largest = 0.0, worst = 0.0;
  for (size_t t = 0; t < g.size(); ++t) {
    largest = std::max(largest, std::abs(g[t]));
    worst = std::max(worst, std::abs(g[t] - mean[t]));
  }
  ASSERT_GT(largest, 0.0);
  EXPECT_LT(worst, kFloatTolerance * largest) << "largest difference " << worst << " of " << largest;
  EXPECT_NEAR(loss, mean_loss, 1e-6);

  // No step, no gradient left behind.
  const auto after = torch::cat({model->parameters()[0].flatten(), model->parameters().back().flatten()});
  EXPECT_TRUE(torch::equal(before, after));
  for (const auto& p : model->parameters()) {
    if (p.grad().defined()) {
      EXPECT_EQ(p.grad().abs().sum().item<double>(), 0.0);
    }
  }
}

TEST(ModelNoise, LoadModelOfTheInitialWeightsGivesTheSameReport) {
  const auto data = random_splits(64, 8);
  nesgd::testing::TempDir tmp;
  const std::string file = tmp.path() + "/init.pt";
  const models::ModelSpec spec{"f1", 1, 8, 8, 10};
  auto init = models::make_model(spec, data::derive_seed(3, data::kStreamInit));  // what `train --seed 3` starts from
  models::save_model(*init, spec, file);

  auto from_seed = small_run();
  auto from_file = small_run();
  from_file.model = "";  // the file says what it is
  from_file.load_model = file;
  const auto a = noise::run_model_noise(from_seed, data);
  const auto b = noise::run_model_noise(from_file, data);
  auto ja = noise::to_json(a.report), jb = noise::to_json(b.report);
  ja.erase("seconds");
  jb.erase("seconds");
  EXPECT_EQ(ja, jb);
  EXPECT_EQ(a.weights, "initial weights of seed 3");
  EXPECT_EQ(b.weights, file);
  EXPECT_EQ(b.model, "f1");
  EXPECT_EQ(a.report.parameters, models::count_parameters(*init));

  // Other weights, other noise.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : init->parameters()) p.mul_(1.5);
  }
  models::save_model(*init, spec, file);
  const auto c = noise::run_model_noise(from_file, data);
  EXPECT_NE(c.report.trace_cov_b, a.report.trace_cov_b);

  const auto j = noise::to_json(c, from_file);
  for (const char* key : {"model", "dataset", "weights", "load_model", "environment", "alphas", "b_simple"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

TEST(ModelNoise, MismatchedModelFilesAreRefused) {
  nesgd::testing::TempDir tmp;
  const std::string file = tmp.path() + "/f1-8x8.pt";
  const models::ModelSpec spec{"f1", 1, 8, 8, 10};
  auto net = models::make_model(spec, 1);
  models::save_model(*net, spec, file);

  auto c = small_run();
  c.load_model = file;
  try {
    noise::run_model_noise(c, random_splits(64, 6));  // 6x6 images: not what the file was built for
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--load-model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("6x6"), std::string::npos) << e.what();
  }
  c.model = "c1";
  try {
    noise::run_model_noise(c, random_splits(64, 8));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--model"), std::string::npos) << e.what();
  }
  c.load_model = tmp.path() + "/missing.pt";
  EXPECT_THROW(noise::run_model_noise(c, random_splits(64, 8)), Error);
}
