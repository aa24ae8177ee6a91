// F1: shapes, parameter count, Glorot-uniform initialization.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nesgd/error.h"
#include "nesgd/models/f1.h"
#include "nesgd/models/init.h"
#include "nesgd/models/network.h"

using namespace nesgd::models;

namespace {
ModelSpec f1_spec() { return ModelSpec{"f1", 1, 28, 28, 10}; }
}  // namespace

TEST(F1, OutputShapeAndParameterCount) {
  auto net = make_model(f1_spec(), 1);
  auto out = net->forward(torch::rand({5, 1, 28, 28}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 10}));
  // 784*500+500 + 6*(500*500+500) + 500*10+10, as documented in f1.h.
  EXPECT_EQ(count_parameters(*net), 1900510);
  int linear_layers = 0;
  for (const auto& m : net->modules(false)) linear_layers += m->as<torch::nn::Linear>() != nullptr;
  EXPECT_EQ(linear_layers, kF1HiddenLayers + 1);
}

TEST(F1, GlorotUniformWeightsAndZeroBiases) {
  auto net = make_model(f1_spec(), 3);
  for (const auto& m : net->modules(false)) {
    auto* lin = m->as<torch::nn::Linear>();
    if (!lin) continue;
    const double a = std::sqrt(6.0 / static_cast<double>(lin->weight.size(0) + lin->weight.size(1)));
    EXPECT_DOUBLE_EQ(glorot_bound(lin->weight), a);
    EXPECT_LE(lin->weight.abs().max().item<double>(), a * (1 + 1e-6));  // float32 rounding of a
    // U(-a, a) has variance a^2 / 3; with >= 5000 draws the sample variance is
    // within 5% (its relative sd is ~sqrt(0.8 / n) <= 1.3%).
    const double var = lin->weight.var().item<double>();
    EXPECT_NEAR(var / (a * a / 3.0), 1.0, 0.05) << "layer " << lin->weight.sizes();
    EXPECT_NEAR(lin->weight.mean().item<double>(), 0.0, a * 0.05);
    EXPECT_EQ(lin->bias.abs().max().item<double>(), 0.0);
  }
}

TEST(F1, SameSeedSameWeightsOtherSeedOtherWeights) {
  auto a = make_model(f1_spec(), 7), b = make_model(f1_spec(), 7), c = make_model(f1_spec(), 8);
  auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
  EXPECT_FALSE(torch::equal(pa[0], pc[0]));
}

TEST(Models, UnknownModelIsAClearError) {
  try {
    make_model(ModelSpec{"resnet50", 1, 28, 28, 10}, 1);
    FAIL();
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model 'resnet50'"), std::string::npos) << e.what();
  }
}

TEST(Glorot, ConvFansIncludeTheKernel) {
  // Keras: fan_in = in * k * k, fan_out = out * k * k.
  auto w = torch::empty({64, 3, 3, 3});
  EXPECT_DOUBLE_EQ(glorot_bound(w), std::sqrt(6.0 / (3 * 9 + 64 * 9)));
}
