#include <map>

#include "bench.h"
#include "nesgd/error.h"
#include "nesgd/optim/optimizer_config.h"
#include "nesgd/optim/keras_adam.h"
#include "nesgd/optim/optimizers.h"
#include "nesgd/runtime/loss.h"

namespace nesgd::bench {
namespace {

// A function-local static: registrations from other files' static
// initializers may run before this file's globals are constructed.
std::map<std::string, ModelBench>& registry() {
  static std::map<std::string, ModelBench> r;
  return r;
}

}  // namespace

bool register_model_bench(ModelBench bench) {
  const std::string name = bench.name;
  registry()[name] = std::move(bench);
  return true;
}

std::vector<std::string> model_bench_names() {
  std::vector<std::string> names;
  for (const auto& [name, b] : registry()) names.push_back(name);
  return names;
}

const ModelBench& find_model_bench(const std::string& name) {
  auto it = registry().find(name);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : model_bench_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("no benchmark for model '" + name + "': use one of " + known);
  }
  return it->second;
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

runtime::TensorSet random_dataset(const ModelBench& bench, uint64_t seed, const torch::Device& device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto& s = bench.spec;
  runtime::TensorSet t;
  t.x = at::rand({bench.dataset_size, s.in_channels, s.height, s.width}, gen, torch::kFloat32);
  t.y = at::randint(s.num_classes, {bench.dataset_size}, gen, torch::kInt64);
  if (!device.is_cpu()) {
    t.x = t.x.to(device);
    t.y = t.y.to(device);
  }
  return t;
}

StepBench::StepBench(const ModelBench& bench, const runtime::TensorSet& data, int64_t batch, double alpha,
                     uint64_t seed, const StepOptions& options)
    : data_(data),
      device_(data.x.device()),
      batch_(batch),
      ne_(alpha),
      options_(options),
      // Moved to the data's device before the optimizer sees its parameters, as the trainer does.
      model_([&] {
        auto m = models::make_model(bench.spec, data::derive_seed(seed, data::kStreamInit));
        m->to(device_);
        return m;
      }()),
      // Keras's Adam with Keras's defaults, as the trainer's default (make_optimizer), fused or not.
      optimizer_(std::make_unique<optim::KerasAdam>(model_->parameters(),
                                                    optim::KerasAdamOptions().fused(options.fused_adam))),
      stream_b_(data.x.size(0), batch, data::derive_seed(seed, data::kStreamB), data::Sampling::kEpoch) {
  if (optim::needs_second_batch(ne_)) {
    stream_b_prime_.emplace(data.x.size(0), batch, data::derive_seed(seed, data::kStreamBPrime),
                            data::Sampling::kEpoch);
  }
  model_->train();
  // The trainer's minibatch loss (runtime::batch_loss, as train_run's).
  auto minibatch_loss = [this](data::BatchStream& stream) {
    return [this, &stream]() {
      auto [x, y] = runtime::gather(data_, stream.next());
      return runtime::batch_loss(*model_, x, y, options_.precision, device_);  // mean over the batch
    };
  };
  loss_b_ = minibatch_loss(stream_b_);
  if (stream_b_prime_) loss_b_prime_ = minibatch_loss(*stream_b_prime_);
  if (stream_b_prime_ && options_.ne_pass == optim::kNEPassJoint) {
    // The trainer's joint pass: one gather and one forward over [B; B'] (runtime::joint_batch_losses).
    joint_losses_ = [this]() {
      std::vector<int64_t> both = stream_b_.next();
      const std::vector<int64_t>& b_prime = stream_b_prime_->next();
      const int64_t size_b = static_cast<int64_t>(both.size());
      both.insert(both.end(), b_prime.begin(), b_prime.end());
      auto [x, y] = runtime::gather(data_, both);
      return runtime::joint_batch_losses(*model_, x, y, size_b, options_.precision, device_);
    };
  }
}

double StepBench::step() {
  double loss = 0.0;
  if (joint_losses_) {
    optimizer_->zero_grad();
    loss = optim::ne_backward_joint(joint_losses_, ne_).loss_b;
    optimizer_->step();
  } else {
    loss = optim::ne_step(*optimizer_, loss_b_, loss_b_prime_, ne_).loss_b;
  }
  synchronize(device_);
  return loss;
}

int64_t StepBench::samples_per_step() const { return optim::needs_second_batch(ne_) ? 2 * batch_ : batch_; }

int64_t StepBench::parameters() const { return models::count_parameters(*model_); }

GemmSet::GemmSet(const std::vector<GemmShape>& shapes, const torch::Device& device) : device_(device) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  for (const auto& s : shapes) {
    // Drawn stored as the step stores them, then moved; .t() views keep the transpose flags.
    auto a = s.a_transposed ? at::rand({s.k, s.m}, gen).to(device).t() : at::rand({s.m, s.k}, gen).to(device);
    auto b = s.b_transposed ? at::rand({s.n, s.k}, gen).to(device).t() : at::rand({s.k, s.n}, gen).to(device);
    a_.push_back(a);
    b_.push_back(b);
    c_.push_back(torch::empty({s.m, s.n}, torch::TensorOptions().device(device)));
    flops_ += s.flops();
  }
}

void GemmSet::run() {
  for (size_t i = 0; i < a_.size(); ++i) torch::mm_out(c_[i], a_[i], b_[i]);
  synchronize(device_);
}

std::vector<GemmShape> dense_stack_gemms(const std::vector<int64_t>& widths, int64_t batch) {
  std::vector<GemmShape> g;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const int64_t in = widths[l], out = widths[l + 1];
    const std::string layer = "layer " + std::to_string(l + 1) + " ";
    // at::linear = addmm(b, X, W.t()): Y[B, out] = X[B, in] W^T, W stored [out, in].
    g.push_back({batch, in, out, false, true, layer + "forward"});
    // mm_mat2_backward on the column-major W.t(): dW[out, in] = dY^T X, dY stored [B, out].
    g.push_back({out, batch, in, true, false, layer + "dW"});
    // mm_mat1_backward: dX[B, in] = dY W. Autograd skips it for the first
    // layer, whose input (the data) needs no gradient.
    if (l > 0) g.push_back({batch, out, in, false, false, layer + "dX"});
  }
  return g;
}

}  // namespace nesgd::bench
