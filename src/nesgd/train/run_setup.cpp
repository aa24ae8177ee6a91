#include "nesgd/train/run_setup.h"

#include "nesgd/runtime/precision.h"
#include "nesgd/runtime/threads.h"

namespace nesgd::train {

RunData prepare_run(const RunConfig& config, const data::DatasetSplits& data, const torch::Device& device) {
  runtime::apply_threads(config.model, {config.threads, config.blas_threads});
  runtime::check_precision(config.precision, device);  // tf32 off CUDA, bf16 without native bf16: refused
  runtime::apply_precision(config.precision, device);

  data::ImageSet train_set = data.train;
  if (config.train_subset > 0) train_set.truncate(config.train_subset);
  config.validate_for_training_set(train_set.n);  // before any work
  data::ImageSet test_set = data.test;
  if (config.test_subset > 0) test_set.truncate(config.test_subset);

  RunData r;
  r.device = device;
  r.dtype = runtime::dtype_of_precision(config.precision);
  r.train = runtime::to_tensors(train_set, device, r.dtype);
  r.test = runtime::to_tensors(test_set, device, r.dtype);
  r.train_size = train_set.n;
  r.test_size = test_set.n;
  r.spec = {config.model,         train_set.channels,     train_set.height, train_set.width,
            train_set.num_classes, config.bn_convention, config.ghost_batch_size};
  return r;
}

std::shared_ptr<models::Network> initial_network(const RunConfig& config, const RunData& data) {
  auto net = models::make_model(data.spec, data::derive_seed(config.seed, data::kStreamInit),
                                models::init_mode_from_string(config.init));
  net->to(data.device, data.dtype);
  return net;
}

RunStreams make_streams(const RunConfig& config, int64_t train_size, bool with_b_prime) {
  const data::Sampling sampling = data::sampling_from_string(config.sampling);
  RunStreams s;
  s.b.emplace(train_size, config.batch_size, data::derive_seed(config.seed, data::kStreamB), sampling);
  // B' never shares state with B: its own seed, its own stream.
  if (with_b_prime) {
    s.b_prime.emplace(train_size, config.batch_size, data::derive_seed(config.seed, data::kStreamBPrime), sampling);
  }
  return s;
}

}  // namespace nesgd::train
