// The pack optimizer gives every member exactly the update of that member's own
// torch::optim optimizer: same numbers (float64, compared to the last bit's
// neighbourhood), with per-member learning rates that change mid-run, and
// after members leave the pack.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "nesgd/error.h"
#include "nesgd/optim/optimizers.h"
#include "nesgd/optim/pack_optimizer.h"

using nesgd::optim::OptimizerConfig;
using nesgd::optim::PackOptimizer;

namespace {

// Identical formulas in the same order of operations: only the fused
// broadcast may round differently, at the last bit.
constexpr double kPackTolerance = 1e-14;

void run_against_reference(OptimizerConfig config, bool member_by_member) {
  constexpr int kMembers = 3;
  constexpr int kSteps = 6;
  torch::manual_seed(11);
  const std::vector<std::vector<int64_t>> shapes{{4, 5}, {5}, {2, 3, 3, 3}};
  const std::vector<double> lrs{1e-3, 2e-3, 5e-4};

  // Reference: one LibTorch optimizer per member over its own tensors.
  std::vector<std::vector<torch::Tensor>> single(kMembers);
  std::vector<std::unique_ptr<torch::optim::Optimizer>> reference;
  for (int m = 0; m < kMembers; ++m) {
    for (const auto& s : shapes) single[m].push_back(torch::randn(s, torch::kFloat64).requires_grad_(true));
    OptimizerConfig c = config;
    c.lr = lrs[m];
    reference.push_back(nesgd::optim::make_optimizer(single[m], c));
  }
  std::vector<torch::Tensor> stacked;
  for (size_t i = 0; i < shapes.size(); ++i) {
    std::vector<torch::Tensor> parts;
    for (int m = 0; m < kMembers; ++m) parts.push_back(single[m][i].detach());
    stacked.push_back(torch::stack(parts).clone().requires_grad_(true));
  }
  PackOptimizer pack(stacked, config, lrs);
  pack.set_member_by_member(member_by_member);

  std::vector<int64_t> slots_of{0, 1, 2};  // member -> slot (-1: left the pack)
  double worst = 0.0;
  for (int step = 1; step <= kSteps; ++step) {
    if (step == 3) {  // member 1 halves its LR (its L*), as the protocol does
      nesgd::optim::scale_lr(*reference[1], 0.5);
      pack.set_lr(slots_of[1], pack.lr(slots_of[1]) * 0.5);
    }
    if (step == 5) {  // member 0 leaves; the pack keeps members 2 and 1, in that order
      std::vector<torch::Tensor> kept;
      for (auto& t : stacked) kept.push_back(t.detach().index_select(0, torch::tensor({2, 1})).requires_grad_(true));
      stacked = kept;
      pack.keep({2, 1}, stacked);
      slots_of = {-1, 1, 0};
    }
    pack.zero_grad();
    for (int m = 0; m < kMembers; ++m) {
      reference[m]->zero_grad();
      for (size_t i = 0; i < shapes.size(); ++i) {
        const torch::Tensor g = torch::randn(shapes[i], torch::kFloat64);
        single[m][i].mutable_grad() = g.clone();
        if (slots_of[m] < 0) continue;
        if (!stacked[i].grad().defined()) stacked[i].mutable_grad() = torch::zeros_like(stacked[i]);
        stacked[i].mutable_grad()[slots_of[m]].copy_(g);
      }
      reference[m]->step();
    }
    pack.step();
    for (int m = 0; m < kMembers; ++m) {
      if (slots_of[m] < 0) continue;
      for (size_t i = 0; i < shapes.size(); ++i) {
        const double d = ((stacked[i][slots_of[m]] - single[m][i]).abs().max() / single[m][i].abs().max()).item<double>();
        worst = std::max(worst, d);
      }
    }
  }
  std::cout << config.name << (member_by_member ? " (member by member)" : " (whole stack)") << ": largest relative difference from LibTorch's optimizer " << worst << "\n";
  EXPECT_LT(worst, kPackTolerance);
}

}  // namespace

TEST(PackOptimizer, KerasAdamEqualsOneKerasAdamPerMember) {
  OptimizerConfig c;
  c.name = "keras-adam";
  run_against_reference(c, true);
  run_against_reference(c, false);
}

TEST(PackOptimizer, AdamEqualsOneLibTorchAdamPerMember) {
  OptimizerConfig c;
  c.name = "adam";
  run_against_reference(c, true);
  run_against_reference(c, false);
}

TEST(PackOptimizer, AdamWithWeightDecayEqualsLibTorch) {
  OptimizerConfig c;
  c.name = "adam";
  c.weight_decay = 0.01;
  run_against_reference(c, true);
  run_against_reference(c, false);
}

TEST(PackOptimizer, AdamWEqualsLibTorch) {
  OptimizerConfig c;
  c.name = "adamw";
  c.weight_decay = 0.05;
  run_against_reference(c, true);
  run_against_reference(c, false);
}

TEST(PackOptimizer, SgdWithMomentumEqualsLibTorch) {
  OptimizerConfig c;
  c.name = "sgd";
  c.momentum = 0.9;
  c.weight_decay = 1e-3;
  run_against_reference(c, true);
  run_against_reference(c, false);
}

TEST(PackOptimizer, RefusesOptimizersWithoutAPackedForm) {
  std::string why;
  EXPECT_FALSE(PackOptimizer::supports("rmsprop", &why));
  EXPECT_NE(why.find("--pack 1"), std::string::npos) << why;
  OptimizerConfig c;
  c.name = "rmsprop";
  EXPECT_THROW(PackOptimizer({torch::zeros({2, 3}, torch::requires_grad())}, c, {1e-3, 1e-3}), nesgd::Error);
  c.name = "adam";
  EXPECT_THROW(PackOptimizer({torch::zeros({2, 3}, torch::requires_grad())}, c, {1e-3}), nesgd::Error);
}

// One list of names (optim/optimizer_config.h): every packable optimizer is an
// optimizer, the pack supports exactly those, and the refusal names the list.
TEST(PackOptimizer, SupportsExactlyThePackableNames) {
  for (const auto& name : nesgd::optim::optimizer_names()) {
    EXPECT_EQ(PackOptimizer::supports(name), nesgd::is_one_of(name, nesgd::optim::packable_optimizer_names())) << name;
  }
  for (const auto& name : nesgd::optim::packable_optimizer_names()) {
    EXPECT_TRUE(nesgd::is_one_of(name, nesgd::optim::optimizer_names())) << name;
  }
  std::string why;
  EXPECT_FALSE(PackOptimizer::supports("rmsprop", &why));
  EXPECT_NE(why.find("keras-adam, adam, adamw and sgd"), std::string::npos) << why;
  EXPECT_EQ(nesgd::names_text({"a", "b", "c"}, "or"), "a, b or c");
  EXPECT_EQ(nesgd::names_text({"a"}), "a");
}
