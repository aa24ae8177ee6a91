// C1 and C2: layer lists, output shapes, parameter counts (as documented in
// conv_nets.h), Glorot-uniform initial weights, the ghost-batch constraint,
// and that the channels-last layout computes the same function.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include <unistd.h>

#include "nesgd/error.h"
#include "nesgd/models/conv_nets.h"
#include "nesgd/models/ghost_batch_norm.h"
#include "nesgd/models/init.h"
#include "nesgd/models/network.h"
#include "nesgd/models/serialize.h"

using namespace nesgd::models;

namespace {

ModelSpec c1_spec() { return ModelSpec{"c1", 3, 32, 32, 10}; }
ModelSpec c2_spec() { return ModelSpec{"c2", 3, 32, 32, 100}; }

int64_t conv_params(int64_t in, int64_t out) { return in * out * 9 + out; }  // 3x3 kernel + bias
int64_t dense_params(int64_t in, int64_t out) { return in * out + out; }

// Float32 conv outputs computed in two memory layouts differ by rounding only.
constexpr double kLayoutTol = 1e-4;
constexpr double kLayoutTol64 = 1e-9;  // float64: rounding only
// Sample variance of n draws of U(-a, a) has relative sd sqrt(0.8 / n): a
// band of 5 sd fails a correct initializer with probability < 1e-6.
double variance_band(int64_t n) { return 5.0 * std::sqrt(0.8 / static_cast<double>(n)); }

}  // namespace

TEST(ConvNets, C1LayersShapeAndParameterCount) {
  auto net = make_model(c1_spec(), 1);
  EXPECT_EQ(net->name(), "c1");
  std::vector<int64_t> conv_out;
  int ghost_norms = 0;
  for (const auto& m : net->modules(false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      conv_out.push_back(conv->options.out_channels());
      EXPECT_EQ(conv->options.kernel_size()->at(0), 3);
      EXPECT_EQ(conv->options.stride()->at(0), 1);
    }
    if (auto* bn = m->as<GhostBatchNorm2d>()) {
      ++ghost_norms;
      EXPECT_EQ(bn->options.ghost_batch_size(), 100);
    }
  }
  EXPECT_EQ(conv_out, (std::vector<int64_t>{64, 64, 64, 128, 128, 128, 256, 256, 256}));
  EXPECT_EQ(ghost_norms, 9);
  const int64_t convs = conv_params(3, 64) + 2 * conv_params(64, 64) + conv_params(64, 128) +
                        2 * conv_params(128, 128) + conv_params(128, 256) + 2 * conv_params(256, 256);
  const int64_t norms = 2 * (3 * 64 + 3 * 128 + 3 * 256);
  const int64_t dense = dense_params(256 * 4 * 4, 10);
  EXPECT_EQ(convs, 1920000);
  EXPECT_EQ(count_parameters(*net), convs + norms + dense);
  EXPECT_EQ(count_parameters(*net), 1963658);  // documented in conv_nets.h and docs/MODELS.md

  auto out = net->forward(torch::rand({100, 3, 32, 32}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{100, 10}));
}

TEST(ConvNets, C2LayersShapeAndParameterCount) {
  auto net = make_model(c2_spec(), 1);
  std::vector<int64_t> conv_out;
  std::vector<int64_t> dense_out;
  for (const auto& m : net->modules(false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) conv_out.push_back(conv->options.out_channels());
    if (auto* lin = m->as<torch::nn::Linear>()) dense_out.push_back(lin->options.out_features());
  }
  EXPECT_EQ(conv_out, (std::vector<int64_t>{64, 64, 64, 128, 128, 128, 256, 256, 256, 512, 512}));
  EXPECT_EQ(dense_out, (std::vector<int64_t>{1024, 100}));
  const int64_t convs = 1920000 + conv_params(256, 512) + conv_params(512, 512);
  const int64_t norms = 2 * (3 * 64 + 3 * 128 + 3 * 256 + 2 * 512);
  const int64_t dense = dense_params(512 * 2 * 2, 1024) + dense_params(1024, 100);
  EXPECT_EQ(count_parameters(*net), convs + norms + dense);
  EXPECT_EQ(count_parameters(*net), 7665380);

  net->eval();  // 3 samples: fine in evaluation
  auto out = net->forward(torch::rand({3, 3, 32, 32}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 100}));
}

TEST(ConvNets, GlorotUniformWeightsZeroBiasesFreshNorms) {
  for (const auto& spec : {c1_spec(), c2_spec()}) {
    auto net = make_model(spec, 5);
    int checked = 0;
    for (const auto& m : net->modules(false)) {
      torch::Tensor w, b;
      if (auto* conv = m->as<torch::nn::Conv2d>()) {
        w = conv->weight;
        b = conv->bias;
      } else if (auto* lin = m->as<torch::nn::Linear>()) {
        w = lin->weight;
        b = lin->bias;
      } else if (auto* bn = m->as<GhostBatchNorm2d>()) {
        EXPECT_TRUE(torch::equal(bn->weight, torch::ones_like(bn->weight)));
        EXPECT_TRUE(torch::equal(bn->bias, torch::zeros_like(bn->bias)));
        EXPECT_TRUE(torch::equal(bn->running_mean, torch::zeros_like(bn->running_mean)));
        EXPECT_TRUE(torch::equal(bn->running_var, torch::ones_like(bn->running_var)));
        continue;
      } else {
        continue;
      }
      // Keras GlorotUniform: a = sqrt(6 / (fan_in + fan_out)), fans times k*k for convs.
      const int64_t receptive = w.dim() == 4 ? w.size(2) * w.size(3) : 1;
      const double a = std::sqrt(6.0 / static_cast<double>((w.size(0) + w.size(1)) * receptive));
      EXPECT_DOUBLE_EQ(glorot_bound(w), a);
      EXPECT_LE(w.abs().max().item<double>(), a * (1 + 1e-6)) << w.sizes();
      EXPECT_GE(w.abs().max().item<double>(), a * 0.99) << "draws should reach close to the bound " << w.sizes();
      EXPECT_NEAR(w.var().item<double>() / (a * a / 3.0), 1.0, variance_band(w.numel())) << w.sizes();
      EXPECT_EQ(b.abs().max().item<double>(), 0.0);
      ++checked;
    }
    EXPECT_EQ(checked, spec.name == "c1" ? 10 : 13);
  }
}

TEST(ConvNets, SameSeedSameWeights) {
  auto a = make_model(c1_spec(), 3), b = make_model(c1_spec(), 3), c = make_model(c1_spec(), 4);
  auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
  EXPECT_FALSE(torch::equal(pa[0], pc[0]));
}

TEST(ConvNets, TrainingBatchMustBeWholeGhostBatches) {
  auto net = make_model(c1_spec(), 1);
  try {
    net->forward(torch::rand({150, 3, 32, 32}));
    FAIL() << "no error for a training batch of 150";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a multiple of the ghost batch size 100"), std::string::npos) << e.what();
  }
  EXPECT_THROW(net->forward(torch::rand({2, 1, 32, 32})), nesgd::Error);  // wrong channel count
}

TEST(ConvNets, ChannelsLastComputesTheSameFunction) {
  // Small images and ghosts keep the float64 pass (no oneDNN) quick; the
  // layers and their layout handling are C1's.
  ConvNetOptions nchw = c1_options(3, 8, 8, 10);
  nchw.channels_last = false;
  nchw.ghost_batch_size = 2;
  ConvNetOptions nhwc = nchw;
  nhwc.channels_last = true;
  auto a = std::make_shared<ConvNetImpl>(nchw), b = std::make_shared<ConvNetImpl>(nhwc);
  glorot_init(*a, 11);
  glorot_init(*b, 11);
  EXPECT_TRUE(b->named_parameters()["conv1.weight"].is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(a->named_parameters()["conv1.weight"].is_contiguous());
  torch::manual_seed(12);
  auto x = torch::rand({4, 3, 8, 8});
  EXPECT_LT((a->forward(x) - b->forward(x)).abs().max().item<double>(), kLayoutTol) << "float32 forward";
  // Gradients through nine ghost-BN layers cancel heavily, so float32 rounding
  // differs by up to ~1% between layouts; in float64 the two must agree.
  a->to(torch::kFloat64);
  b->to(torch::kFloat64);
  const auto x64 = x.to(torch::kFloat64);
  auto ya = a->forward(x64), yb = b->forward(x64);
  EXPECT_LT((ya - yb).abs().max().item<double>(), kLayoutTol64);
  ya.sum().backward();
  yb.sum().backward();
  double worst = 0.0;
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& item : pa) {
    const auto ga = item.value().grad(), gb = pb[item.key()].grad();
    worst = std::max(worst, (ga - gb).abs().max().item<double>() / std::max(1.0, ga.abs().max().item<double>()));
  }
  EXPECT_LT(worst, kLayoutTol64) << "largest relative gradient difference";
}

TEST(ConvNets, SpecSelectsTheBatchNormConventionAndGhostSizeAndModelFilesKeepThem) {
  ModelSpec spec = c1_spec();
  spec.bn_convention = "pytorch";
  spec.ghost_batch_size = 50;
  auto net = make_model(spec, 1);
  int bn_layers = 0;
  for (const auto& m : net->modules(/*include_self=*/false)) {
    if (auto* bn = m->as<GhostBatchNorm2d>()) {
      ++bn_layers;
      EXPECT_DOUBLE_EQ(bn->options.momentum(), 1.0 - 0.1);  // PyTorch's 0.1 on the new value
      EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-5);
      EXPECT_EQ(bn->options.ghost_batch_size(), 50);
    }
  }
  EXPECT_GT(bn_layers, 0);
  net->train();
  EXPECT_NO_THROW(net->forward(torch::rand({150, 3, 32, 32})));
  EXPECT_THROW(net->forward(torch::rand({75, 3, 32, 32})), nesgd::Error);
  const std::string file =
      (std::filesystem::temp_directory_path() / ("nesgd-spec-" + std::to_string(getpid()) + ".pt")).string();
  save_model(*net, spec, file);
  const LoadedModel loaded = load_model(file);
  std::filesystem::remove(file);
  EXPECT_EQ(loaded.spec.bn_convention, "pytorch");
  EXPECT_EQ(loaded.spec.ghost_batch_size, 50);
  // The defaults are the paper's ghost batch with Keras's hyperparameters.
  for (const auto& m : make_model(c1_spec(), 1)->modules(false)) {
    if (auto* bn = m->as<GhostBatchNorm2d>()) {
      EXPECT_DOUBLE_EQ(bn->options.momentum(), 0.99);
      EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-3);
      EXPECT_EQ(bn->options.ghost_batch_size(), 100);
    }
  }
  spec.bn_convention = "tensorflow";
  EXPECT_THROW(make_model(spec, 1), nesgd::Error);
}
