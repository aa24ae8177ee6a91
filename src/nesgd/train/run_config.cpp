#include "nesgd/train/run_config.h"

#include <cmath>
#include <vector>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/json_read.h"

namespace nesgd::train {

std::string to_string(LossMeasure m) { return m == LossMeasure::kEpochMean ? "epoch-mean" : "full"; }

LossMeasure loss_measure_from_string(const std::string& s) {
  if (s == "epoch-mean") return LossMeasure::kEpochMean;
  if (s == "full") return LossMeasure::kFull;
  throw Error("unknown loss measure '" + s +
              "': use 'epoch-mean' (Keras's running mean of minibatch losses) or 'full' (whole training set)");
}

const PaperConfig& paper_config(const std::string& model) {
  // The paper's study (Mori & Ueda, arXiv 2009.13094): L* (halve LR once) and L** (stop) per config.
  static const std::vector<PaperConfig> configs{
      {"f1", "fashion-mnist", 0.01, 0.001},
      {"c1", "cifar10", 0.01, 0.001},
      {"c2", "cifar100", 0.02, 0.001},
  };
  for (const auto& c : configs) {
    if (c.model == model) return c;
  }
  throw Error("unknown model '" + model + "': use f1, c1 or c2");
}

void RunConfig::resolve_defaults_and_validate() {
  const PaperConfig& paper = paper_config(model);
  if (l_star < 0) l_star = paper.l_star;
  if (l_stop < 0) l_stop = paper.l_stop;
  if (!(l_stop > 0.0) || !(l_star > 0.0)) throw Error("--l-star and --l-stop must be positive");
  if (l_stop > l_star) {
    throw Error("--l-stop (" + std::to_string(l_stop) + ") must not exceed --l-star (" + std::to_string(l_star) +
                "): the LR is halved at L* on the way down to L**");
  }
  if (batch_size <= 0) throw Error("--batch-size must be positive, got " + std::to_string(batch_size));
  if (!std::isfinite(alpha)) throw Error("--alpha must be a finite number");
  if (train_subset < 0) throw Error("--train-subset must be >= 0 (0 = the whole training set)");
  if (eval_every < 0) throw Error("--eval-every must be >= 0 (0 = once per epoch)");
  if (max_iterations < 0) throw Error("--max-iterations must be >= 0 (0 = no cap)");
  if (threads < 0 || blas_threads < 0) throw Error("--threads and --blas-threads must be >= 0 (0 = default)");
  data::sampling_from_string(sampling);
  if (bn_convention != "keras" && bn_convention != "pytorch") {
    throw Error("unknown --bn-convention '" + bn_convention +
                "': use keras (momentum 0.99, eps 1e-3; the default) or pytorch (momentum 0.1, eps 1e-5)");
  }
  if (ghost_batch_size <= 0) throw Error("--ghost-batch-size must be positive, got " + std::to_string(ghost_batch_size));
  if (model != "f1" && batch_size % ghost_batch_size != 0) {
    throw Error("--batch-size " + std::to_string(batch_size) + " is not a multiple of the ghost batch size " +
                std::to_string(ghost_batch_size) + ": " + model +
                " normalizes each chunk of that many samples on its own; use a multiple of " +
                std::to_string(ghost_batch_size) + " (or change --ghost-batch-size)");
  }
  if (precision != "fp32" && precision != "fp64") {
    throw Error("unknown --precision '" + precision + "': use fp32 (the default) or fp64 (reference runs)");
  }
  if (device != "cpu" && device != "cuda" && device != "auto" && device.rfind("cuda:", 0) != 0) {
    throw Error("unknown device '" + device + "': use cpu, cuda, cuda:N or auto");
  }
}

void RunConfig::validate_for_training_set(int64_t n_train) const {
  if (batch_size > n_train) {
    throw Error("batch size " + std::to_string(batch_size) + " exceeds the " + std::to_string(n_train) +
                " training samples of " + dataset + ": drop it from the batch sizes or raise --train-subset");
  }
  const int64_t short_batch = n_train % batch_size;
  if (model != "f1" && data::sampling_from_string(sampling) == data::Sampling::kKeras && short_batch != 0 &&
      short_batch % ghost_batch_size != 0) {
    throw Error("--sampling keras ends every epoch of " + std::to_string(n_train) + " samples at batch size " +
                std::to_string(batch_size) + " with a short batch of " + std::to_string(short_batch) +
                ", which is not a multiple of " + model + "'s ghost batch size " + std::to_string(ghost_batch_size) +
                " (Keras fails on it too). Use a batch size that leaves a multiple of " +
                std::to_string(ghost_batch_size) + ", a --train-subset that does, or --sampling epoch (drops the "
                "short batch)");
  }
}

nlohmann::json to_json(const RunConfig& c) {
  return {
      {"model", c.model},
      {"dataset", c.dataset},
      {"batch_size", c.batch_size},
      {"alpha", c.alpha},
      {"seed", c.seed},
      {"train_subset", c.train_subset},
      {"l_star", c.l_star},
      {"l_stop", c.l_stop},
      {"loss_measure", to_string(c.loss_measure)},
      {"eval_every", c.eval_every},
      {"max_iterations", c.max_iterations},
      {"sampling", c.sampling},
      {"optimizer",
       {{"name", c.optimizer.name},
        {"lr", c.optimizer.lr},
        {"beta1", c.optimizer.beta1},
        {"beta2", c.optimizer.beta2},
        {"eps", c.optimizer.eps},
        {"momentum", c.optimizer.momentum},
        {"weight_decay", c.optimizer.weight_decay}}},
      {"device", c.device},
      {"threads", c.threads},
      {"blas_threads", c.blas_threads},
      {"init_model", c.init_model},
      {"log_noise_scale", c.log_noise_scale},
      {"bn_convention", c.bn_convention},
      {"ghost_batch_size", c.ghost_batch_size},
      {"precision", c.precision},
  };
}

RunConfig run_config_from_json(const nlohmann::json& j) {
  // Stored runs, checkpoints and sweep files are read back through here, so
  // every value is type- and range-checked (json_read.h), never converted blindly.
  namespace jr = json_read;
  const std::string what = "run configuration";
  jr::object(j, what);
  RunConfig c;
  c.sampling = kLegacySampling;
  c.optimizer.name = optim::kLegacyOptimizerName;
  jr::get(j, "model", c.model, what);
  jr::get(j, "dataset", c.dataset, what);
  jr::get(j, "batch_size", c.batch_size, what);
  jr::get(j, "alpha", c.alpha, what);
  jr::get(j, "seed", c.seed, what);
  jr::get(j, "train_subset", c.train_subset, what);
  jr::get(j, "l_star", c.l_star, what);
  jr::get(j, "l_stop", c.l_stop, what);
  if (const auto* m = jr::find(j, "loss_measure")) {
    c.loss_measure = loss_measure_from_string(jr::string(*m, what + ": 'loss_measure'"));
  }
  jr::get(j, "eval_every", c.eval_every, what);
  jr::get(j, "max_iterations", c.max_iterations, what);
  jr::get(j, "sampling", c.sampling, what);
  if (const auto* o = jr::find(j, "optimizer")) {
    const std::string owhat = what + ": optimizer";
    jr::object(*o, owhat);
    jr::get(*o, "name", c.optimizer.name, owhat);
    jr::get(*o, "lr", c.optimizer.lr, owhat);
    jr::get(*o, "beta1", c.optimizer.beta1, owhat);
    jr::get(*o, "beta2", c.optimizer.beta2, owhat);
    jr::get(*o, "eps", c.optimizer.eps, owhat);
    jr::get(*o, "momentum", c.optimizer.momentum, owhat);
    jr::get(*o, "weight_decay", c.optimizer.weight_decay, owhat);
  }
  jr::get(j, "device", c.device, what);
  jr::get(j, "threads", c.threads, what);
  jr::get(j, "blas_threads", c.blas_threads, what);
  jr::get(j, "init_model", c.init_model, what);
  jr::get(j, "log_noise_scale", c.log_noise_scale, what);
  jr::get(j, "bn_convention", c.bn_convention, what);
  jr::get(j, "ghost_batch_size", c.ghost_batch_size, what);
  jr::get(j, "precision", c.precision, what);
  return c;
}

}  // namespace nesgd::train
