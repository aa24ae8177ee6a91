// Keras's Adam (optim/keras_adam.h) against its formula worked by hand on a
// two-parameter toy, against LibTorch's Adam where the two must agree (eps = 0)
// and differ (eps > 0), and through save -> load -> step (checkpoint resume).
#include <gtest/gtest.h>

#include <sstream>

#include <torch/torch.h>

#include "nesgd/error.h"
#include "nesgd/optim/keras_adam.h"
#include "nesgd/optim/optimizers.h"

using nesgd::optim::KerasAdam;
using nesgd::optim::KerasAdamOptions;

namespace {

// Double-precision parameters: the hand-worked values below carry 16+ digits,
// and the update's rounding stays near 1e-16.
constexpr double kTolerance = 1e-12;

// The toy: w = (a, b) = (1, -2), L(w) = a^2 / 2 + 3 b, so g = (a, 3).
torch::Tensor toy_weights() {
  return torch::tensor({1.0, -2.0}, torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true));
}

torch::Tensor toy_loss(const torch::Tensor& w) { return 0.5 * w[0] * w[0] + 3.0 * w[1]; }

void toy_step(torch::optim::Optimizer& opt, const torch::Tensor& w) {
  opt.zero_grad();
  toy_loss(w).backward();
  opt.step();
}

double coord(const torch::Tensor& w, int64_t i) { return w[i].item<double>(); }

}  // namespace

// lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 0.01 (larger than Keras's 1e-7 so
// that where eps enters shows in the second digit). Keras's update:
//   lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t); m = beta1 m + 0.1 g;
//   v = beta2 v + 0.001 g^2; w -= lr_t m / (sqrt(v) + eps).
// Step 1, g = (1, 3):
//   m = (0.1, 0.3), v = (0.001, 0.009), sqrt(v) = (0.0316227766016838, 0.0948683298050514)
//   lr_1 = 0.1 sqrt(0.001) / 0.1 = 0.0316227766016838
//   da = 0.0316227766016838 * 0.1 / (0.0316227766016838 + 0.01) = 0.0759746926647958
//   db = 0.0316227766016838 * 0.3 / (0.0948683298050514 + 0.01) = 0.0904642326061740
//   w = (0.924025307335204, -2.09046423260617)
//   (LibTorch's Adam: a = 1 - 0.1 * 1 / (1 + 0.01) = 0.900990099009901.)
// Step 2, g = (0.924025307335204, 3):
//   m = (0.9 * 0.1 + 0.1 * 0.924025307335204, 0.9 * 0.3 + 0.3) = (0.182402530733520, 0.57)
//   v = (0.999 * 0.001 + 0.001 * 0.924025307335204^2, 0.999 * 0.009 + 0.009) = (0.00185282276859592, 0.017991)
//   sqrt(v) = (0.0430444278460746, 0.134130533436649)
//   lr_2 = 0.1 sqrt(1 - 0.998001) / (1 - 0.81) = 0.1 * 0.0447101778122163 / 0.19 = 0.0235316725327454
//   da = 0.0235316725327454 * 0.182402530733520 / 0.0530444278460746 = 0.0809177664206416
//   db = 0.0235316725327454 * 0.57 / 0.144130533436649 = 0.0930618448696748
//   w = (0.843107540914563, -2.18352607747585)
// Then the protocol halves the LR (optim::scale_lr, 0.5): lr = 0.05.
// Step 3, g = (0.843107540914563, 3):
//   m = (0.248473031751625, 0.813), v = (0.00256180027137432, 0.026973009)
//   sqrt(v) = (0.0506142299296781, 0.164234615717881)
//   lr_3 = 0.05 sqrt(1 - 0.997002999) / (1 - 0.729) = 0.05 * 0.0547448535733... / 0.271 = 0.0101005298719484
//   da = 0.0101005298719484 * 0.248473031751625 / 0.0606142299296781 = 0.0414046220251007
//   db = 0.0101005298719484 * 0.813 / 0.174234615717881 = 0.0471303061797456
//   w = (0.801702918889462, -2.23065638365559)
TEST(KerasAdam, MatchesKerasFormulaWorkedByHand) {
  auto w = toy_weights();
  KerasAdam opt({w}, KerasAdamOptions(0.1).betas({0.9, 0.999}).eps(0.01));
  toy_step(opt, w);
  EXPECT_NEAR(coord(w, 0), 0.9240253073352042148, kTolerance);
  EXPECT_NEAR(coord(w, 1), -2.0904642326061740023, kTolerance);
  toy_step(opt, w);
  EXPECT_NEAR(coord(w, 0), 0.8431075409145626439, kTolerance);
  EXPECT_NEAR(coord(w, 1), -2.1835260774758487581, kTolerance);
  nesgd::optim::scale_lr(opt, 0.5);
  EXPECT_DOUBLE_EQ(nesgd::optim::get_lr(opt), 0.05);
  toy_step(opt, w);
  EXPECT_NEAR(coord(w, 0), 0.8017029188894619814, kTolerance);
  EXPECT_NEAR(coord(w, 1), -2.2306563836555943746, kTolerance);
}

// Without eps the two placements coincide: lr sqrt(1 - beta2^t) / (1 - beta1^t)
// * m / sqrt(v) = lr * m_hat / sqrt(v_hat). With eps they must not: that is
// the whole difference from LibTorch's Adam, and it is largest early.
TEST(KerasAdam, EqualsLibTorchAdamAtZeroEpsilonAndDiffersOtherwise) {
  for (double eps : {0.0, 1e-7, 0.01}) {
    auto wk = toy_weights();
    auto wt = toy_weights();
    KerasAdam keras({wk}, KerasAdamOptions(0.1).eps(eps));
    torch::optim::Adam libtorch({wt}, torch::optim::AdamOptions(0.1).betas({0.9, 0.999}).eps(eps));
    toy_step(keras, wk);
    toy_step(libtorch, wt);
    const double diff = (wk - wt).abs().max().item<double>();
    if (eps == 0.0) {
      EXPECT_LT(diff, kTolerance) << "largest difference " << diff;
    } else {
      // Step 1 at a = 1: Keras moves a by 0.1 sqrt(0.001) / (sqrt(0.001) + eps),
      // LibTorch by 0.1 / (1 + eps): at eps = 1e-7 they differ by 0.1 * (3.16e-6 - 1e-7) = 3.1e-7.
      EXPECT_GT(diff, 3e-7) << "eps " << eps << ": Keras's placement of eps must show";
    }
  }
}

// save -> load into a fresh optimizer -> step both: equal, bit for bit. This
// is what makes a checkpointed run resume step for step.
TEST(KerasAdam, SaveLoadThenStepEqualsTheUninterruptedOptimizer) {
  auto w = toy_weights();
  KerasAdam opt({w}, KerasAdamOptions(0.1).eps(0.01));
  toy_step(opt, w);
  toy_step(opt, w);
  nesgd::optim::scale_lr(opt, 0.5);

  std::stringstream buffer;
  {
    torch::serialize::OutputArchive archive;
    opt.save(archive);
    archive.save_to(buffer);
  }
  auto w2 = w.detach().clone().requires_grad_(true);
  KerasAdam restored({w2}, KerasAdamOptions(0.1).eps(0.01));
  {
    torch::serialize::InputArchive archive;
    archive.load_from(buffer);
    restored.load(archive);
  }
  ASSERT_EQ(restored.state().size(), 1u) << "the saved state must land on the new parameter";
  // The LR lives in the param group, which LibTorch 1.x's load leaves at the
  // constructor's value (2.x restores it): the trainer sets it after a
  // resume, as here.
  nesgd::optim::set_lr(restored, nesgd::optim::get_lr(opt));
  for (int i = 0; i < 3; ++i) {
    toy_step(opt, w);
    toy_step(restored, w2);
  }
  EXPECT_TRUE(torch::equal(w, w2)) << w << " vs " << w2;
}

TEST(KerasAdam, SkipsParametersWithoutGradient) {
  auto used = toy_weights();
  auto unused = torch::ones({3}, torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true));
  KerasAdam opt({used, unused}, KerasAdamOptions(0.1));
  toy_step(opt, used);
  EXPECT_TRUE(torch::equal(unused, torch::ones({3}, torch::kFloat64)));
  EXPECT_EQ(opt.state().size(), 1u);
}

TEST(KerasAdam, MadeByNameWithKerasDefaultsAndRefusesWeightDecay) {
  nesgd::optim::OptimizerConfig c;  // the default: keras-adam, lr 1e-3, betas 0.9/0.999, eps 1e-7
  EXPECT_EQ(c.name, "keras-adam");
  auto w = toy_weights();
  auto opt = nesgd::optim::make_optimizer({w}, c);
  ASSERT_NE(dynamic_cast<KerasAdam*>(opt.get()), nullptr);
  const auto& o = static_cast<const KerasAdamOptions&>(opt->param_groups().at(0).options());
  EXPECT_EQ(o.lr(), 1e-3);
  EXPECT_EQ(std::get<0>(o.betas()), 0.9);
  EXPECT_EQ(std::get<1>(o.betas()), 0.999);
  EXPECT_EQ(o.eps(), 1e-7);
  c.weight_decay = 1e-4;
  try {
    nesgd::optim::make_optimizer({w}, c);
    FAIL() << "expected a refusal";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("adamw"), std::string::npos) << e.what();
  }
  EXPECT_THROW(KerasAdam({w}, KerasAdamOptions(0.1).betas({1.0, 0.999})), nesgd::Error);
  EXPECT_THROW(KerasAdam({w}, KerasAdamOptions(0.1).eps(-1.0)), nesgd::Error);
}
