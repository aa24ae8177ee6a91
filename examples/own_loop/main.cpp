// own_loop - noise enhancement inside a LibTorch training loop of your own.
//
// A standalone program built against an installed nesgd (find_package(nesgd)).
// The model, the data and the loop are this program's; nesgd supplies the NE
// step (nesgd::optim::ne_step) and two independent minibatch streams
// (nesgd::data::BatchStream), nothing else. The data: points uniform in
// [-1, 1]^2, class 1 where x0 * x1 > 0 (the XOR quadrants), which no linear
// model separates. It prints the training loss as it goes and exits non-zero
// unless the loss fell below half its start and the test accuracy reached 90 %.
//
// Usage: own_loop [--steps N] [--batch-size B] [--alpha A] [--seed S]
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "nesgd/data/batch_stream.h"
#include "nesgd/optim/noise_enhancement.h"

namespace {

struct Options {
  int64_t steps = 300;
  int64_t batch_size = 32;
  double alpha = 1.5;  // > 1 enhances the gradient noise (1 = plain training)
  uint64_t seed = 1;
};

struct Split {
  torch::Tensor x;  // [N, 2] float32
  torch::Tensor y;  // [N] int64, 0 or 1
};

// n points of the XOR problem, from a seeded generator of their own.
Split make_xor(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Split s{torch::empty({n, 2}), torch::empty({n}, torch::kLong)};
  auto x = s.x.accessor<float, 2>();
  auto y = s.y.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) {
    x[i][0] = uniform(rng);
    x[i][1] = uniform(rng);
    y[i] = x[i][0] * x[i][1] > 0.0f ? 1 : 0;
  }
  return s;
}

// A small MLP: 2 -> 32 -> 32 -> 2 (ReLU), logits out.
struct NetImpl : torch::nn::Module {
  NetImpl()
      : fc1(register_module("fc1", torch::nn::Linear(2, 32))),
        fc2(register_module("fc2", torch::nn::Linear(32, 32))),
        out(register_module("out", torch::nn::Linear(32, 2))) {}
  torch::Tensor forward(torch::Tensor x) {  // x: [N, 2] -> [N, 2]
    x = torch::relu(fc1(x));
    x = torch::relu(fc2(x));
    return out(x);
  }
  torch::nn::Linear fc1, fc2, out;
};
TORCH_MODULE(Net);

double full_loss(Net& net, const Split& s) {
  torch::NoGradGuard no_grad;
  return torch::nn::functional::cross_entropy(net->forward(s.x), s.y).item<double>();
}

double accuracy(Net& net, const Split& s) {
  torch::NoGradGuard no_grad;
  return net->forward(s.x).argmax(1).eq(s.y).to(torch::kDouble).mean().item<double>();
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--steps") o.steps = std::atoll(value);
    else if (flag == "--batch-size") o.batch_size = std::atoll(value);
    else if (flag == "--alpha") o.alpha = std::atof(value);
    else if (flag == "--seed") o.seed = std::strtoull(value, nullptr, 10);
    else {
      std::fprintf(stderr, "unknown flag %s (flags: --steps, --batch-size, --alpha, --seed)\n", flag.c_str());
      std::exit(2);
    }
  }
  if (o.steps <= 0 || o.batch_size <= 0) {
    std::fprintf(stderr, "--steps and --batch-size must be positive integers\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  torch::manual_seed(opt.seed);
  const Split train = make_xor(2000, opt.seed);
  const Split test = make_xor(1000, opt.seed + 1000);
  Net net;
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-2));

  // Two streams with generators of their own: drawing B' never shifts B.
  using nesgd::data::BatchStream;
  using nesgd::data::derive_seed;
  const auto sampling = nesgd::data::Sampling::kEpoch;
  BatchStream stream_b(train.x.size(0), opt.batch_size, derive_seed(opt.seed, nesgd::data::kStreamB), sampling);
  BatchStream stream_b_prime(train.x.size(0), opt.batch_size, derive_seed(opt.seed, nesgd::data::kStreamBPrime),
                             sampling);
  // The mean cross-entropy of the next minibatch of `stream`.
  auto minibatch_loss = [&](BatchStream& stream) {
    const torch::Tensor index = torch::tensor(stream.next(), torch::kLong);  // [B]
    return torch::nn::functional::cross_entropy(net->forward(train.x.index_select(0, index)),
                                                train.y.index_select(0, index));
  };
  const nesgd::optim::NoiseEnhancementOptions ne(opt.alpha);

  const double start = full_loss(net, train);
  std::printf("own_loop: XOR, 2000 training points, B = %lld, alpha = %g, Adam lr 1e-2\n",
              static_cast<long long>(opt.batch_size), opt.alpha);
  std::printf("step %5d  training loss %.4f\n", 0, start);
  for (int64_t step = 1; step <= opt.steps; ++step) {
    // g = alpha * grad L_B + (1 - alpha) * grad L_B', then Adam steps on it.
    const auto r = nesgd::optim::ne_step(
        optimizer, [&] { return minibatch_loss(stream_b); }, [&] { return minibatch_loss(stream_b_prime); }, ne);
    if (!std::isfinite(r.loss_b)) {
      std::printf("FAIL: minibatch loss %g at step %lld\n", r.loss_b, static_cast<long long>(step));
      return 1;
    }
    if (step % 50 == 0 || step == opt.steps) {
      std::printf("step %5lld  training loss %.4f  (L_B %.4f, L_B' %.4f)\n", static_cast<long long>(step),
                  full_loss(net, train), r.loss_b, r.loss_b_prime);
    }
  }
  const double end = full_loss(net, train);
  const double acc = accuracy(net, test);
  const bool ok = std::isfinite(end) && end < 0.5 * start && acc >= 0.9;
  std::printf("%s: training loss %.4f -> %.4f, test accuracy %.1f %%\n", ok ? "PASS" : "FAIL", start, end,
              100.0 * acc);
  return ok ? 0 : 1;
}
