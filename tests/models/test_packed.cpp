// A pack of K networks computes, for every member, exactly what that member's
// single network computes: forward (training and evaluation mode), gradients,
// ghost-BN running statistics; and members can be copied out and dropped.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "nesgd/error.h"
#include "nesgd/models/network.h"
#include "nesgd/models/packed.h"
#include "support/compare.h"

using namespace nesgd::models;

namespace {

// float64 throughout: differences are then summation-order rounding only.
constexpr double kTolerance = 1e-12;

using nesgd::testing::max_rel_diff;

std::vector<std::shared_ptr<Network>> members(const ModelSpec& spec, int k) {
  std::vector<std::shared_ptr<Network>> nets;
  for (int i = 0; i < k; ++i) {
    auto net = make_model(spec, 100 + static_cast<uint64_t>(i));
    net->to(torch::kFloat64);
    net->train();
    nets.push_back(net);
  }
  return nets;
}

ModelSpec small_c1() {
  // C1 on 8x8 inputs with ghost batches of 2: three pooling stages still fit, and it runs in milliseconds.
  return {"c1", 3, 8, 8, 10, "keras", 2};
}

// Runs each member alone on its slot of x and the pack on all of x; compares logits and gradients.
void expect_pack_matches_members(const ModelSpec& spec, const std::vector<int64_t>& sample_shape, int64_t n) {
  const int k = 3;
  auto singles = members(spec, k);
  PackedNetwork pack(singles);
  ASSERT_EQ(pack.size(), k);
  torch::manual_seed(5);
  std::vector<int64_t> shape{k, n};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  const torch::Tensor x = torch::rand(shape, torch::kFloat64);
  const torch::Tensor y = torch::randint(0, spec.num_classes, {k, n});

  const torch::Tensor packed_logits = pack.forward(x, /*training=*/true);  // [K, n, classes]
  (packed_logits.pow(2).sum(2) * y.to(torch::kFloat64)).sum().backward();
  for (int m = 0; m < k; ++m) {
    const torch::Tensor logits = singles[m]->forward(x[m]);
    EXPECT_LT(max_rel_diff(packed_logits[m], logits), kTolerance) << "member " << m << " logits";
    (logits.pow(2).sum(1) * y[m].to(torch::kFloat64)).sum().backward();
    const auto params = singles[m]->parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_LT(max_rel_diff(pack.parameters()[i].grad()[m], params[i].grad()), kTolerance)
          << "member " << m << " gradient of parameter " << i;
    }
    const auto buffers = singles[m]->buffers();
    for (size_t i = 0; i < buffers.size(); ++i) {
      EXPECT_LT(max_rel_diff(pack.buffers()[i][m], buffers[i]), kTolerance) << "member " << m << " buffer " << i;
    }
  }
  // Evaluation mode on the running statistics.
  torch::NoGradGuard no_grad;
  const torch::Tensor eval_logits = pack.forward(x, /*training=*/false);
  for (int m = 0; m < k; ++m) {
    singles[m]->eval();
    EXPECT_LT(max_rel_diff(eval_logits[m], singles[m]->forward(x[m])), kTolerance) << "member " << m << " eval";
  }
}

}  // namespace

TEST(PackedNetwork, F1MembersComputeWhatTheirSingleNetworksCompute) {
  expect_pack_matches_members({"f1", 1, 28, 28, 10}, {1, 28, 28}, 6);
}

TEST(PackedNetwork, C1WithGhostBatchNormMatchesItsMembersPerGhostBatch) {
  expect_pack_matches_members(small_c1(), {3, 8, 8}, 4);  // two ghost batches of 2 per member
}

TEST(PackedNetwork, C2MatchesItsMembers) {
  expect_pack_matches_members({"c2", 3, 16, 16, 100, "pytorch", 2}, {3, 16, 16}, 2);
}

TEST(PackedNetwork, CopiesAMemberOutAndKeepsTheChosenOnes) {
  auto singles = members(small_c1(), 3);
  PackedNetwork pack(singles);
  auto out = make_model(small_c1(), 999);
  out->to(torch::kFloat64);
  pack.copy_member_to(2, *out);
  for (size_t i = 0; i < out->parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(out->parameters()[i], singles[2]->parameters()[i])) << "parameter " << i;
  }
  pack.keep({2, 0});
  ASSERT_EQ(pack.size(), 2);
  for (size_t i = 0; i < pack.parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(pack.parameters()[i][0], singles[2]->parameters()[i]));
    EXPECT_TRUE(torch::equal(pack.parameters()[i][1], singles[0]->parameters()[i]));
    EXPECT_TRUE(pack.parameters()[i].is_leaf() && pack.parameters()[i].requires_grad());
  }
  const torch::Tensor x = torch::rand({2, 2, 3, 8, 8}, torch::kFloat64);
  EXPECT_EQ(pack.forward(x, true).sizes(), (std::vector<int64_t>{2, 2, 10}));
}

TEST(PackedNetwork, RejectsMixedArchitecturesAndWrongInput) {
  auto a = make_model({"f1", 1, 28, 28, 10}, 1);
  auto b = make_model(small_c1(), 1);
  EXPECT_THROW(PackedNetwork({a, b}), nesgd::Error);
  EXPECT_THROW(PackedNetwork(std::vector<std::shared_ptr<Network>>{}), nesgd::Error);
  PackedNetwork pack({a});
  EXPECT_THROW(pack.forward(torch::rand({2, 3, 1, 28, 28}), true), nesgd::Error);
}
