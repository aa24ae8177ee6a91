#include "nesgd/train/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/models/network.h"
#include "nesgd/optim/noise_enhancement.h"
#include "nesgd/optim/optimizers.h"
#include "nesgd/train/run_info.h"
#include "nesgd/train/tensors.h"
#include "nesgd/train/threads.h"

namespace nesgd::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

RunResult train_run(RunConfig config, const data::DatasetSplits& data, const TrainHooks& hooks) {
  config.resolve_defaults_and_validate();
  const auto t_start = Clock::now();

  // -- setup: data, model, optimizer, streams, protocol ---------------------------------------------
  const torch::Device device = resolve_device(config.device);
  apply_threads(config.model, {config.threads, config.blas_threads});

  data::ImageSet train_set = data.train;
  if (config.train_subset > 0) train_set.truncate(config.train_subset);
  const TensorSet train = to_tensors(train_set, device);
  const TensorSet test = to_tensors(data.test, device);
  const int64_t n = train_set.n;

  models::ModelSpec spec{config.model, train_set.channels, train_set.height, train_set.width,
                         train_set.num_classes};
  auto model = models::make_model(spec, data::derive_seed(config.seed, data::kStreamInit));
  model->to(device);
  model->train();
  auto optimizer = optim::make_optimizer(model->parameters(), config.optimizer);

  const auto sampling = data::sampling_from_string(config.sampling);
  const optim::NoiseEnhancementOptions ne(config.alpha);
  data::BatchStream stream_b(n, config.batch_size, data::derive_seed(config.seed, data::kStreamB), sampling);
  std::optional<data::BatchStream> stream_b_prime;  // alpha == 1: never created, never drawn
  if (optim::needs_second_batch(ne)) {
    stream_b_prime.emplace(n, config.batch_size, data::derive_seed(config.seed, data::kStreamBPrime), sampling);
  }

  Protocol protocol({config.l_star, config.l_stop, 0.5, config.max_iterations});
  EpochMeanLoss epoch_mean(stream_b.batches_per_epoch());
  const int64_t check_every = config.eval_every > 0 ? config.eval_every : stream_b.batches_per_epoch();

  RunResult result;
  result.train_size = n;
  result.test_size = data.test.n;
  result.parameters = models::count_parameters(*model);
  result.dataset_source = data.source;
  double last_train_loss = std::numeric_limits<double>::quiet_NaN();
  double last_progress = -1e9;

  auto minibatch_loss = [&](data::BatchStream& stream) {
    return [&model, &train, &stream]() {
      auto [x, y] = gather(train, stream.next());
      return torch::nn::functional::cross_entropy(model->forward(x), y);  // mean over the batch
    };
  };
  const optim::MinibatchLoss loss_b = minibatch_loss(stream_b);
  const optim::MinibatchLoss loss_b_prime =
      stream_b_prime ? minibatch_loss(*stream_b_prime) : optim::MinibatchLoss{};

  // -- the loop --------------------------------------------------------------------------------------
  for (int64_t it = 1;; ++it) {
    if (hooks.should_stop && hooks.should_stop()) {
      protocol.interrupt(it - 1);
      break;
    }
    const auto t_step = Clock::now();
    const optim::NEBackwardResult step = optim::ne_step(*optimizer, loss_b, loss_b_prime, ne);
    result.step_seconds += seconds_since(t_step);
    result.samples_processed += config.batch_size * (step.used_b_prime ? 2 : 1);
    result.iterations = it;
    epoch_mean.add(step.loss_b);

    bool is_check = false;
    if (it % check_every == 0) {
      double measured = std::numeric_limits<double>::quiet_NaN();
      if (config.loss_measure == LossMeasure::kFull) {
        measured = evaluate(*model, train).loss;
      } else if (epoch_mean.ready()) {
        measured = epoch_mean.value();
      }
      if (!std::isnan(measured) || config.loss_measure == LossMeasure::kFull) {
        is_check = true;
        last_train_loss = measured;
        const ProtocolDecision d = protocol.on_training_loss(it, measured);
        if (d.scale_lr) optim::scale_lr(*optimizer, protocol.options().lr_factor);
        result.curve.push_back({it, measured, step.loss_b, optim::get_lr(*optimizer), seconds_since(t_start)});
      }
    }
    const ProtocolDecision after = protocol.after_step(it, step.loss_b);

    const double now = seconds_since(t_start);
    if (hooks.on_progress && (is_check || after.stop || now - last_progress >= hooks.progress_interval_seconds)) {
      last_progress = now;
      Progress p;
      p.iteration = it;
      p.epoch = stream_b.epoch();
      p.train_loss = last_train_loss;
      p.minibatch_loss = step.loss_b;
      p.lr = optim::get_lr(*optimizer);
      p.samples_per_second = result.step_seconds > 0 ? result.samples_processed / result.step_seconds : 0.0;
      p.seconds = now;
      p.is_check = is_check;
      hooks.on_progress(p);
    }
    if (after.stop || protocol.status() != RunStatus::kRunning) break;
  }

  // -- results ---------------------------------------------------------------------------------------
  result.status = protocol.status();
  result.iterations_to_l_star = protocol.iterations_to_l_star();
  result.epochs = stream_b.epoch();
  result.train_loss = last_train_loss;
  const EvalResult te = evaluate(*model, test);
  result.test_accuracy = te.accuracy;
  result.test_loss = te.loss;
  result.final_full_train_loss = evaluate(*model, train).loss;
  result.samples_per_second = result.step_seconds > 0 ? result.samples_processed / result.step_seconds : 0.0;
  result.environment = environment_record(device);
  result.wall_seconds = seconds_since(t_start);
  return result;
}

nlohmann::json to_json(const RunResult& r, const RunConfig& config) {
  auto number = [](double v) -> nlohmann::json {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);  // JSON has no NaN
  };
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& p : r.curve) {
    curve.push_back({{"iteration", p.iteration},
                     {"train_loss", number(p.train_loss)},
                     {"minibatch_loss", number(p.minibatch_loss)},
                     {"lr", p.lr},
                     {"seconds", p.seconds}});
  }
  RunConfig resolved = config;
  resolved.resolve_defaults_and_validate();
  return {
      {"status", to_string(r.status)},
      {"iterations", r.iterations},
      {"iterations_to_l_star", r.iterations_to_l_star >= 0 ? nlohmann::json(r.iterations_to_l_star) : nullptr},
      {"test_accuracy", number(r.test_accuracy)},
      {"test_loss", number(r.test_loss)},
      {"train_loss", number(r.train_loss)},
      {"final_full_train_loss", number(r.final_full_train_loss)},
      {"wall_seconds", r.wall_seconds},
      {"step_seconds", r.step_seconds},
      {"samples_per_second", r.samples_per_second},
      {"samples_processed", r.samples_processed},
      {"epochs", r.epochs},
      {"train_size", r.train_size},
      {"test_size", r.test_size},
      {"parameters", r.parameters},
      {"seed", resolved.seed},
      {"loss_measure", to_string(resolved.loss_measure)},
      {"dataset_source", r.dataset_source},
      {"config", to_json(resolved)},
      {"environment", r.environment},
      {"libtorch_version", r.environment.value("libtorch_version", "")},
      {"device", r.environment.value("device", "")},
      {"curve", curve},
  };
}

}  // namespace nesgd::train
