#include "nesgd/train/run_config.h"

#include <cmath>
#include <limits>
#include <vector>

#include "nesgd/data/batch_stream.h"
#include "nesgd/data/sha256.h"
#include <filesystem>
#include "nesgd/error.h"
#include "nesgd/json_read.h"

namespace nesgd::train {

std::string to_string(LossMeasure m) { return nlohmann::json(m).get<std::string>(); }

LossMeasure loss_measure_from_string(const std::string& s) {
  const auto m = nlohmann::json(s).get<LossMeasure>();
  if (to_string(m) == s) return m;
  throw Error("unknown loss measure '" + s +
              "': use 'epoch-mean' (Keras's running mean of minibatch losses) or 'full' (whole training set)");
}

const NameList& loss_measure_names() {
  static const NameList names{to_string(LossMeasure::kEpochMean), to_string(LossMeasure::kFull)};
  return names;
}

const NameList& precision_names() {
  static const NameList names{"fp32", "fp64", "tf32", "bf16"};
  return names;
}

PaperConfig paper_config(const std::string& model) {
  const models::ModelEntry& e = models::model_entry(model);  // the paper's table of configs: models/catalog.cpp
  return {e.name, e.paper_dataset, e.l_star, e.l_stop};
}

namespace {

// The optimizer's name and NE's controls (optim/noise_control.h): names checked, alpha set from
// match_batch, combinations that cannot run refused.
void resolve_controls(RunConfig& c) {
  if (!is_one_of(c.optimizer.name, optim::optimizer_names())) {
    throw Error("unknown --optimizer '" + c.optimizer.name + "': use " + names_text(optim::optimizer_names(), "or"));
  }
  if (!is_one_of(c.noise, optim::noise_names())) {
    throw Error("unknown --noise '" + c.noise + "': use " + names_text(optim::noise_names(), "or") +
                " (ne: NE's own noise, the default; isotropic: Gaussian noise of the same strength)");
  }
  if (!is_one_of(c.noise_matching, optim::noise_matching_names())) {
    throw Error("unknown --noise-matching '" + c.noise_matching + "': use " +
                names_text(optim::noise_matching_names(), "or") +
                " (whole: one strength for the whole parameter vector, the default; tensor: each tensor's own)");
  }
  if (c.match_batch < 0) {
    throw Error("--match-batch must be >= 0 (0 = alpha as given), got " + std::to_string(c.match_batch));
  }
  if (c.match_batch > 0) {
    const double a =
        optim::alpha_for_matched_batch(static_cast<double>(c.batch_size), static_cast<double>(c.match_batch));
    if (!std::isfinite(a)) {
      throw Error("--match-batch " + std::to_string(c.match_batch) + " cannot be reached at batch size " +
                  std::to_string(c.batch_size) +
                  ": NE's effective batch B / (alpha^2 + (1 - alpha)^2) is at most 2B = " +
                  std::to_string(2 * c.batch_size) + "; use a batch size of at least " +
                  std::to_string((c.match_batch + 1) / 2) + " or a smaller --match-batch");
    }
    c.alpha = a;
  }
  if (c.noise == optim::kNoiseIsotropic && c.cuda_graph) {
    throw Error("--noise isotropic runs eagerly (it reads g_B and g_B' apart): drop --cuda-graph");
  }
  if (c.noise == optim::kNoiseIsotropic && c.log_noise_scale) {
    throw Error("--log-noise-scale measures NE's own gradients; with --noise isotropic the step is no longer g_NE: "
                "drop one");
  }
}

}  // namespace

void RunConfig::resolve_defaults_and_validate() {
  if (models::is_torchscript(model)) {
    const std::string path = models::torchscript_path(model);
    if (path.empty()) throw Error("--model torchscript:PATH needs the path of a TorchScript file after 'torchscript:'");
    // The file's content is part of the run's identity: hashed once, then carried with the config.
    if (model_sha256.empty()) {
      if (!std::filesystem::is_regular_file(path)) {
        throw Error("TorchScript model " + path + " does not exist: save one with torch.jit.save(torch.jit.script(net), "
                    "PATH), then pass --model torchscript:PATH");
      }
      model_sha256 = data::sha256_file(path);
    }
    if (l_star < 0) l_star = kOwnModelLStar;
    if (l_stop < 0) l_stop = kOwnModelLStop;
  } else {
    const PaperConfig& paper = paper_config(model);
    if (l_star < 0) l_star = paper.l_star;
    if (l_stop < 0) l_stop = paper.l_stop;
    if (!model_sha256.empty()) throw Error("model_sha256 belongs to torchscript:PATH models only, not " + model);
  }
  if (!is_one_of(init, models::init_names())) {
    throw Error("unknown --init '" + init + "': use " + names_text(models::init_names(), "or") +
                " (glorot: weights drawn from the seed, the default; file: a TorchScript model's saved weights)");
  }
  if (init == "file" && !models::is_torchscript(model)) {
    throw Error("--init file keeps a TorchScript model's saved weights; " + model +
                " is built by nesgd and drawn from the seed: use --init glorot (the default)");
  }
  if (!(l_stop > 0.0) || !(l_star > 0.0)) throw Error("--l-star and --l-stop must be positive");
  if (l_stop > l_star) {
    throw Error("--l-stop (" + std::to_string(l_stop) + ") must not exceed --l-star (" + std::to_string(l_star) +
                "): the LR is halved at L* on the way down to L**");
  }
  if (batch_size <= 0) throw Error("--batch-size must be positive, got " + std::to_string(batch_size));
  if (!std::isfinite(alpha)) throw Error("--alpha must be a finite number");
  if (train_subset < 0) throw Error("--train-subset must be >= 0 (0 = the whole training set)");
  if (test_subset < 0) throw Error("--test-subset must be >= 0 (0 = the whole test set)");
  if (eval_every < 0) throw Error("--eval-every must be >= 0 (0 = once per epoch)");
  if (max_iterations < 0) throw Error("--max-iterations must be >= 0 (0 = no cap)");
  if (threads < 0 || blas_threads < 0) throw Error("--threads and --blas-threads must be >= 0 (0 = default)");
  data::sampling_from_string(sampling);
  if (!is_one_of(bn_convention, models::bn_convention_names())) {
    throw Error("unknown --bn-convention '" + bn_convention +
                "': use keras (momentum 0.99, eps 1e-3; the default) or pytorch (momentum 0.1, eps 1e-5)");
  }
  if (ghost_batch_size <= 0) throw Error("--ghost-batch-size must be positive, got " + std::to_string(ghost_batch_size));
  if (has_ghost_batch_norm() && batch_size % ghost_batch_size != 0) {
    throw Error("--batch-size " + std::to_string(batch_size) + " is not a multiple of the ghost batch size " +
                std::to_string(ghost_batch_size) + ": " + model +
                " normalizes each chunk of that many samples on its own; use a multiple of " +
                std::to_string(ghost_batch_size) + " (or change --ghost-batch-size)");
  }
  // Whether this machine can run it is checked where a run starts (runtime/precision.h):
  // a record written on a GPU or a bf16 CPU stays readable everywhere.
  if (!is_one_of(precision, precision_names())) {
    throw Error("unknown --precision '" + precision +
                "': use fp32 (the default), fp64 (reference runs), tf32 (NVIDIA GPUs) or bf16 (autocast)");
  }
  if (device != "cpu" && device != "cuda" && device != "auto" && device.rfind("cuda:", 0) != 0) {
    throw Error("unknown device '" + device + "': use cpu, cuda, cuda:N or auto");
  }
  if (!is_one_of(ne_pass, optim::ne_pass_names())) {
    throw Error("unknown --ne-pass '" + ne_pass + "': use " + names_text(optim::ne_pass_names(), "or") +
                " (joint: one pass over [B; B'], the default; split: a pass per batch)");
  }
  resolve_controls(*this);
  if (cuda_graph && device == "cpu") {
    throw Error("--cuda-graph replays the step on a GPU: use it with --device cuda (or auto), or leave it off");
  }
  if (cuda_graph && log_noise_scale) {
    throw Error("--cuda-graph and --log-noise-scale do not go together (the noise scale reads the gradients "
                "between the two backward passes, inside the graph): drop one");
  }
}

void RunConfig::validate_for_training_set(int64_t n_train) const {
  if (batch_size > n_train) {
    throw Error("batch size " + std::to_string(batch_size) + " exceeds the " + std::to_string(n_train) +
                " training samples of " + dataset + ": drop it from the batch sizes or raise --train-subset");
  }
  const int64_t short_batch = n_train % batch_size;
  if (has_ghost_batch_norm() && data::sampling_from_string(sampling) == data::Sampling::kKeras && short_batch != 0 &&
      short_batch % ghost_batch_size != 0) {
    throw Error("--sampling keras ends every epoch of " + std::to_string(n_train) + " samples at batch size " +
                std::to_string(batch_size) + " with a short batch of " + std::to_string(short_batch) +
                ", which is not a multiple of " + model + "'s ghost batch size " + std::to_string(ghost_batch_size) +
                " (Keras fails on it too). Use a batch size that leaves a multiple of " +
                std::to_string(ghost_batch_size) + ", a --train-subset that does, or --sampling epoch (drops the "
                "short batch)");
  }
}

}  // namespace nesgd::train

// The key lists, once: to_json writes every field under its own name (keys
// sorted by nlohmann::json, so the text, and the run id hashed from it, does
// not depend on this order). Defined here, not in the header, so that no
// other code reads a RunConfig through the macros' unchecked from_json:
// run_config_from_json below checks every value first.
namespace nesgd::optim {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OptimizerConfig, name, lr, beta1, beta2, eps, momentum, weight_decay,
                                                beta0)
}  // namespace nesgd::optim

namespace nesgd::train {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(RunConfig, model, dataset, batch_size, alpha, seed, train_subset, test_subset,
                                                l_star, l_stop, loss_measure, eval_every, max_iterations, sampling,
                                                optimizer, device, threads, blas_threads, cuda_graph, ne_pass, noise, noise_matching, match_batch, init_model, init, model_sha256,
                                                log_noise_scale, bn_convention, ghost_batch_size, precision)

namespace {

std::string key_what(const std::string& what, const std::string& key) { return what + ": '" + key + "'"; }

// Checks every value of `j` whose key `like` has against the JSON type the
// field writes (as it appears in `like`, a default config's JSON), through
// json_read.h, and returns `j` with integers as JSON integers. The macros'
// from_json reads with json::value(), which answers a wrong type with
// nlohmann's own exception and converts an out-of-range floating-point number
// to an integer with undefined behaviour (1e300 as a batch size); a stored run
// or sweep file may have been edited, so nothing reaches it unchecked.
nlohmann::json checked(const nlohmann::json& j, const nlohmann::json& like, const std::string& what) {
  namespace jr = json_read;
  nlohmann::json out = j;
  for (const auto& [key, model] : like.items()) {
    const nlohmann::json* v = jr::find(j, key);
    if (v == nullptr) continue;
    const std::string kw = key_what(what, key);
    if (model.is_object()) {
      jr::object(*v, what + ": " + key);
      out[key] = checked(*v, model, what + ": " + key);
    } else if (model.is_string()) {
      jr::string(*v, kw);
    } else if (model.is_boolean()) {
      jr::boolean(*v, kw);
    } else if (model.is_number_unsigned()) {
      out[key] = jr::unsigned_integer(*v, kw);
    } else if (model.is_number_integer()) {
      out[key] = jr::integer(*v, kw);
    } else {
      jr::number(*v, kw);
    }
  }
  return out;
}

// After reading: an integer that did not survive the conversion to its field
// was out of that field's range. Every integer field narrower than 64 bits is
// an int (threads, blas_threads), hence the range in the message. (`j` holds
// integers only: the conversion wraps, it is not undefined.)
void check_integers_kept(const nlohmann::json& j, const nlohmann::json& read, const std::string& what) {
  for (const auto& [key, v] : j.items()) {
    const auto it = read.find(key);
    if (it == read.end()) continue;
    if (v.is_object() && it->is_object()) {
      check_integers_kept(v, *it, what + ": " + key);
    } else if (it->is_number_integer() && v != *it) {
      throw Error(key_what(what, key) + " must be in [" + std::to_string(std::numeric_limits<int>::min()) + ", " +
                  std::to_string(std::numeric_limits<int>::max()) + "], got " + v.dump());
    }
  }
}

}  // namespace

nlohmann::json to_json(const RunConfig& c) { return c; }

RunConfig run_config_from_json(const nlohmann::json& j) {
  const std::string what = "run configuration";
  json_read::object(j, what);
  nlohmann::json filled = checked(j, to_json(RunConfig{}), what);
  if (const auto* m = json_read::find(j, "loss_measure")) loss_measure_from_string(m->get<std::string>());
  // Missing keys keep RunConfig's defaults (the macro's WITH_DEFAULT), except
  // the two whose default changed: a record written before keras sampling and
  // keras-adam has neither key and ran the earlier protocol. The macro cannot
  // express a second set of defaults, so they are filled in here.
  if (!filled.contains("sampling")) filled["sampling"] = kLegacySampling;
  if (!filled.contains("ne_pass")) filled["ne_pass"] = optim::kLegacyNEPass;  // records before the joint pass
  if (!filled.contains("optimizer")) filled["optimizer"] = nlohmann::json::object();
  if (!filled["optimizer"].contains("name")) filled["optimizer"]["name"] = optim::kLegacyOptimizerName;
  RunConfig c = filled.get<RunConfig>();
  check_integers_kept(filled, to_json(c), what);
  return c;
}

}  // namespace nesgd::train
