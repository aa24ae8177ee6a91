// NE's joint pass (one forward and one backward over [B; B']) against the split
// pass (one per batch), in float64: the same gradient to 1e-12 for F1 and C1,
// ghost batch norm's running statistics included, on full and short batches;
// the same runs (loss curves over 200 steps to 1e-9) alone and in packs; and
// what a run records of the pass it used. The data-parallel ranks' joint pass
// is checked in tests/dist/test_distributed_threads.cpp.
#include <gtest/gtest.h>

#include <iostream>
#include <vector>

#include "nesgd/error.h"
#include "nesgd/models/ghost_batch_norm.h"
#include "nesgd/models/network.h"
#include "nesgd/optim/noise_enhancement.h"
#include "nesgd/runtime/loss.h"
#include "nesgd/train/pack.h"
#include "nesgd/train/trainer.h"
#include "support/compare.h"
#include "support/synthetic.h"

namespace nesgd::train {
namespace {

using testing::kExact;
using testing::max_rel_diff;
using testing::rel_diff;


// The parameters' gradients and the buffers (ghost BN's running statistics) after one NE backward.
struct Outcome {
  std::vector<torch::Tensor> grads, buffers;
  double loss_b = 0.0, loss_b_prime = 0.0;
};

struct Batches {
  torch::Tensor x_b, y_b, x_bp, y_bp;
};

Batches random_batches(int64_t n, const models::ModelSpec& spec, uint64_t seed) {
  torch::manual_seed(seed);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  return {torch::rand({n, spec.in_channels, spec.height, spec.width}, f64),
          torch::randint(0, spec.num_classes, {n}, torch::kInt64),
          torch::rand({n, spec.in_channels, spec.height, spec.width}, f64),
          torch::randint(0, spec.num_classes, {n}, torch::kInt64)};
}

Outcome backward(const models::ModelSpec& spec, const Batches& d, double alpha, bool joint) {
  auto net = models::make_model(spec, /*init_seed=*/11);
  net->to(torch::kFloat64);
  net->train();
  const torch::Device cpu(torch::kCPU);
  optim::NEBackwardResult r;
  if (joint) {
    r = optim::ne_backward_joint(
        [&] {
          return runtime::joint_batch_losses(*net, torch::cat({d.x_b, d.x_bp}), torch::cat({d.y_b, d.y_bp}),
                                             d.x_b.size(0), "fp64", cpu);
        },
        alpha);
  } else {
    r = optim::ne_backward([&] { return runtime::batch_loss(*net, d.x_b, d.y_b, "fp64", cpu); },
                           [&] { return runtime::batch_loss(*net, d.x_bp, d.y_bp, "fp64", cpu); }, alpha);
  }
  Outcome o;
  for (const auto& p : net->parameters()) o.grads.push_back(p.grad().clone());
  for (const auto& b : net->buffers()) o.buffers.push_back(b.clone());
  o.loss_b = r.loss_b;
  o.loss_b_prime = r.loss_b_prime;
  return o;
}

void expect_same_gradient(const models::ModelSpec& spec, int64_t batch, double alpha, const std::string& what) {
  const Batches d = random_batches(batch, spec, 3);
  const Outcome split = backward(spec, d, alpha, false), joint = backward(spec, d, alpha, true);
  ASSERT_EQ(split.grads.size(), joint.grads.size());
  // Relative to the largest gradient entry of the whole network, not tensor by tensor: the gradient
  // of a convolution's bias before batch norm is zero in exact arithmetic (the normalization removes
  // it), so those tensors hold rounding noise only.
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < split.grads.size(); ++i) {
    diff = std::max(diff, (joint.grads[i] - split.grads[i]).abs().max().item<double>());
    scale = std::max(scale, split.grads[i].abs().max().item<double>());
  }
  const double worst = diff / scale;
  double worst_buffer = 0.0;
  ASSERT_EQ(split.buffers.size(), joint.buffers.size());
  for (size_t i = 0; i < split.buffers.size(); ++i) {
    worst_buffer = std::max(worst_buffer, max_rel_diff(joint.buffers[i], split.buffers[i]));
  }
  std::cout << what << ": largest relative difference, gradients " << worst << ", running statistics "
            << worst_buffer << "\n";
  EXPECT_LT(worst, kExact) << what;
  EXPECT_LT(worst_buffer, kExact) << what;
  EXPECT_LT(rel_diff(joint.loss_b, split.loss_b), kExact) << what;
  EXPECT_LT(rel_diff(joint.loss_b_prime, split.loss_b_prime), kExact) << what;
  // The gradient is NE's and not plain training's: alpha really weighs the two batches.
  const Outcome plain = backward(spec, d, 0.5, true);
  EXPECT_GT(max_rel_diff(plain.grads.front(), joint.grads.front()), 1e-3) << what;
}

models::ModelSpec f1_spec() { return {"f1", 1, 28, 28, 10}; }
// C1 on 8 x 8 images (its three poolings leave 1 x 1): float64 convolutions stay quick.
models::ModelSpec c1_spec(int64_t ghost) {
  models::ModelSpec s{"c1", 3, 8, 8, 10};
  s.ghost_batch_size = ghost;
  return s;
}

}  // namespace

TEST(JointPass, F1GradientEqualsTheSplitPassToRounding) {
  expect_same_gradient(f1_spec(), 30, 1.5, "F1, B = 30, alpha 1.5");
  expect_same_gradient(f1_spec(), 7, 2.5, "F1, a short batch of 7, alpha 2.5");
}

TEST(JointPass, C1GradientAndGhostBatchNormStatisticsEqualTheSplitPass) {
  // Two ghosts per batch: four ghosts in the joint forward, none of them mixing B and B'.
  expect_same_gradient(c1_spec(10), 20, 1.5, "C1, B = 20, ghosts of 10");
  // A keras epoch's short batch of one ghost each.
  expect_same_gradient(c1_spec(10), 10, 2.0, "C1, a short batch of 10, ghosts of 10");
}

TEST(JointPass, GhostBatchNormSegmentsUpdateTheRunningStatisticsAsSuccessiveCalls) {
  // Hand-checkable: ghost size 2, segments of 2 and 4 samples, momentum 0.5.
  models::GhostBatchNormOptions o(1);
  o.ghost_batch_size(2).momentum(0.5);
  models::GhostBatchNorm2d one(o), two(o);
  one->to(torch::kFloat64);
  two->to(torch::kFloat64);
  const auto x = torch::tensor({1.0, 3.0, 10.0, 20.0, 30.0, 50.0}, torch::kFloat64).view({6, 1, 1, 1});
  {
    models::BatchSegments seg(*one, {2, 4});
    one->forward(x);
  }
  two->forward(x.narrow(0, 0, 2));
  two->forward(x.narrow(0, 2, 4));
  // Ghost means: 2, then 15 and 40 (mean 27.5): 0.5 * (0.5 * 0 + 0.5 * 2) + 0.5 * 27.5 = 14.25.
  EXPECT_NEAR(one->running_mean.item<double>(), 14.25, kExact);
  EXPECT_EQ(one->running_mean.item<double>(), two->running_mean.item<double>());
  EXPECT_EQ(one->running_var.item<double>(), two->running_var.item<double>());
  EXPECT_TRUE(one->segments.empty()) << "the segments hold for the guard's lifetime only";
  // Segments that cut a ghost, or do not add up to the batch, are refused.
  {
    models::BatchSegments seg(*one, {3, 3});
    EXPECT_THROW(one->forward(x), Error);
  }
  {
    models::BatchSegments seg(*one, {2, 2});
    EXPECT_THROW(one->forward(x), Error);
  }
}

TEST(JointPass, NeedsASecondBatch) {
  auto loss = [] { return std::make_pair(torch::zeros({}), torch::zeros({})); };
  EXPECT_THROW(optim::ne_backward_joint(loss, 1.0), Error);
}

namespace {

const data::DatasetSplits& f1_data() {
  static const data::DatasetSplits d = testing::synthetic(230, 60, 41);
  return d;
}

RunConfig f1_run(double alpha, const std::string& pass) {
  RunConfig c;
  c.model = "f1";
  c.precision = "fp64";
  c.batch_size = 20;
  c.train_subset = 230;  // keras epochs of 11 full batches and a short one of 10
  c.alpha = alpha;
  c.seed = 5;
  c.l_star = 1e-9;  // never reached: every run takes all 200 steps
  c.l_stop = 1e-10;
  c.eval_every = 1;
  c.max_iterations = 200;
  c.threads = 1;
  c.blas_threads = 1;
  c.ne_pass = pass;
  return c;
}

void expect_same_curves(const RunResult& a, const RunResult& b, const std::string& what) {
  EXPECT_EQ(a.iterations, b.iterations) << what;
  EXPECT_EQ(a.samples_processed, b.samples_processed) << what;
  ASSERT_EQ(a.curve.size(), b.curve.size()) << what;
  double worst = 0.0;
  for (size_t i = 0; i < a.curve.size(); ++i) {
    worst = std::max({worst, rel_diff(a.curve[i].train_loss, b.curve[i].train_loss),
                      rel_diff(a.curve[i].minibatch_loss, b.curve[i].minibatch_loss)});
  }
  worst = std::max(worst, rel_diff(a.test_loss, b.test_loss));
  std::cout << what << ": " << a.iterations << " steps, " << a.curve.size() << " checks, largest relative difference "
            << worst << "\n";
  EXPECT_LT(worst, testing::kSameRunFp64) << what;
  EXPECT_EQ(a.test_accuracy, b.test_accuracy) << what;
}

}  // namespace

TEST(JointPass, F1RunFollowsTheSplitRunFor200StepsWithKerasShortBatches) {
  const RunResult joint = train_run(f1_run(1.5, "joint"), f1_data());
  const RunResult split = train_run(f1_run(1.5, "split"), f1_data());
  EXPECT_EQ(joint.ne_pass, "joint");
  EXPECT_EQ(split.ne_pass, "split");
  ASSERT_EQ(joint.iterations, 200);
  expect_same_curves(joint, split, "F1 alpha 1.5, joint against split");
  // The record says which pass ran; the run id does not depend on it (tests/exp/test_run_id.cpp).
  EXPECT_EQ(to_json(joint, f1_run(1.5, "joint"))["ne_pass"], "joint");
}

TEST(JointPass, AlphaOneIsOnePassOverBWhateverIsAsked) {
  const RunResult joint = train_run(f1_run(1.0, "joint"), f1_data());
  const RunResult split = train_run(f1_run(1.0, "split"), f1_data());
  EXPECT_EQ(joint.ne_pass, "single");
  EXPECT_EQ(split.ne_pass, "single");
  ASSERT_EQ(joint.curve.size(), split.curve.size());
  for (size_t i = 0; i < joint.curve.size(); ++i) EXPECT_EQ(joint.curve[i].minibatch_loss, split.curve[i].minibatch_loss);
  EXPECT_EQ(joint.test_loss, split.test_loss);
}

TEST(JointPass, NoiseScaleLoggingRunsTheSplitPass) {
  RunConfig c = f1_run(1.5, "joint");
  c.log_noise_scale = true;
  c.max_iterations = 3;
  EXPECT_EQ(train_run(c, f1_data()).ne_pass, "split");
}

TEST(JointPass, PackMembersFollowTheirSplitSingleRuns) {
  std::vector<RunConfig> configs;
  for (double alpha : {1.0, 2.0}) {
    RunConfig c = f1_run(alpha, "joint");
    c.max_iterations = 60;
    configs.push_back(c);
  }
  const std::vector<RunResult> packed = train_pack(configs, f1_data());
  ASSERT_EQ(packed.size(), 2u);
  EXPECT_EQ(packed[0].ne_pass, "single");
  EXPECT_EQ(packed[1].ne_pass, "joint");  // F1 has no batch norm: the alpha = 1 member does not hold it back
  for (size_t i = 0; i < configs.size(); ++i) {
    RunConfig split = configs[i];
    split.ne_pass = "split";
    expect_same_curves(packed[i], train_run(split, f1_data()), "pack member " + std::to_string(i));
  }
}

TEST(JointPass, C1PackMembersWithGhostBatchNormFollowTheirSplitSingleRuns) {
  static const data::DatasetSplits data =
      testing::synthetic(50, 20, 42, {/*channels=*/3, /*height=*/8, /*width=*/8, /*classes=*/10});
  std::vector<RunConfig> configs;
  for (auto [seed, alpha] : std::vector<std::pair<uint64_t, double>>{{1, 1.5}, {2, 2.5}}) {
    RunConfig c;
    c.model = "c1";
    c.precision = "fp64";
    c.batch_size = 20;
    c.ghost_batch_size = 10;
    c.train_subset = 50;  // keras epochs of 20, 20 and a short 10
    c.alpha = alpha;
    c.seed = seed;
    c.eval_every = 1;
    c.max_iterations = 4;  // float64 convolutions: a few steps, the short batch among them
    c.threads = 1;
    configs.push_back(c);
  }
  const std::vector<RunResult> packed = train_pack(configs, data);
  for (size_t i = 0; i < configs.size(); ++i) {
    EXPECT_EQ(packed[i].ne_pass, "joint");
    RunConfig split = configs[i];
    split.ne_pass = "split";
    // The test loss is evaluated on the running statistics: ghost BN's segment updates are compared too.
    expect_same_curves(packed[i], train_run(split, data), "C1 pack member " + std::to_string(i));
  }
}

}  // namespace nesgd::train
