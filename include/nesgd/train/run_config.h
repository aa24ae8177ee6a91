// nesgd/train/run_config.h - everything that defines one training run (torch-free).
//
// A RunConfig plus the dataset's content determines a run's result on a given
// machine: it is stored whole with every result (to_json) so any number can be
// traced back and rerun. Defaults are the paper's (Mori & Ueda) or, where the
// paper is silent, Keras's, each named in paper_defaults() / optimizer_config.h.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nesgd/models/catalog.h"
#include "nesgd/models/model_spec.h"
#include "nesgd/names.h"
#include "nesgd/optim/ne_pass.h"
#include "nesgd/optim/noise_control.h"
#include "nesgd/optim/optimizer_config.h"

namespace nesgd::train {

// How "training loss" is measured for the L*/L** rule (the paper does not
// say): the Keras running mean of minibatch losses over the last epoch,
// or the exact mean loss over the whole training set in evaluation mode.
enum class LossMeasure { kEpochMean, kFull };
// The names in JSON, flags and records. (The macro's reader maps an unknown
// name to the first entry; loss_measure_from_string refuses it instead.)
NLOHMANN_JSON_SERIALIZE_ENUM(LossMeasure, {
                                              {LossMeasure::kEpochMean, "epoch-mean"},
                                              {LossMeasure::kFull, "full"},
                                          })
std::string to_string(LossMeasure m);
const NameList& loss_measure_names();  // epoch-mean, full
// The number formats a run may name (runtime/precision.h runs them): fp32, fp64, tf32, bf16.
const NameList& precision_names();
LossMeasure loss_measure_from_string(const std::string& s);  // "epoch-mean" | "full"

struct PaperConfig {
  std::string model;
  std::string dataset;  // the paper's dataset for this model
  double l_star;        // the paper's table of configs
  double l_stop;
};
// F1: 0.01 / 0.001 (Fashion-MNIST); C1: 0.01 / 0.001 (CIFAR-10); C2: 0.02 / 0.001 (CIFAR-100).
// From the model's catalog entry (models/catalog.h); throws nesgd::Error for unknown models.
PaperConfig paper_config(const std::string& model);

// L* and L** of a user's own model (--model torchscript:PATH) unless given: the paper's for F1 and
// C1 (its C2 alone halves at 0.02), the thresholds of its two ten-class configs.
constexpr double kOwnModelLStar = 0.01;
constexpr double kOwnModelLStop = 0.001;

// The minibatch sampling of runs configured before keras sampling became the
// default: a stored record without a "sampling" key reads back as this.
constexpr const char* kLegacySampling = "epoch";

struct RunConfig {
  std::string model = "f1";
  std::string dataset = "fashion-mnist";
  int64_t batch_size = 100;
  double alpha = 1.0;
  uint64_t seed = 0;
  int64_t train_subset = 0;     // first N training samples; 0 = all
  int64_t test_subset = 0;      // first N test samples for the final evaluation; 0 = all (the paper's)
  double l_star = -1.0;         // < 0: the paper's value for the model
  double l_stop = -1.0;         // < 0: the paper's value for the model
  LossMeasure loss_measure = LossMeasure::kEpochMean;
  int64_t eval_every = 0;       // iterations between training-loss checks; 0 = once per epoch
  int64_t max_iterations = 0;   // 0 = no cap
  // keras (Keras's fit: ceil(n/B) steps an epoch, the last batch short) | epoch
  // (floor(n/B) full batches, the remainder dropped) | iid  (data/batch_stream.h)
  std::string sampling = "keras";
  optim::OptimizerConfig optimizer;  // keras-adam by default (optim/optimizer_config.h)
  std::string device = "cpu";   // cpu | cuda | auto
  int threads = 0;              // ATen intra-op threads; 0 = the project's measured default
  int blas_threads = 0;         // OpenBLAS threads; 0 = the project's measured default
  // On CUDA, each full-size step's forward and backward passes replayed as one CUDA graph
  // (train/graph_step.h); the same kernels, so not part of the run's identity, like the threads.
  bool cuda_graph = false;
  // How an NE step forms alpha g_B + (1 - alpha) g_B' (optim/ne_pass.h): joint (one forward and one
  // backward over [B; B'], the default) or split (a pass per batch). The same arithmetic up to the
  // order of summation, so execution only, like cuda_graph; the record says which pass ran.
  std::string ne_pass = optim::kDefaultNEPass;
  // What the step adds to g_B (optim/noise_control.h): ne (NE's (alpha - 1)(g_B - g_B'), the paper's)
  // or isotropic (Gaussian noise of that step's NE strength, the control: optim/isotropic_noise.h,
  // matched over the whole parameter vector or per tensor). Part of the run's identity.
  std::string noise = optim::kNoiseNE;
  std::string noise_matching = optim::kMatchWhole;  // isotropic only: whole | tensor
  // > 0: alpha is set from B so that NE's effective batch B / (alpha^2 + (1 - alpha)^2) is this
  // (optim::alpha_for_matched_batch); resolve_defaults_and_validate fills alpha in. 0: alpha as given.
  int64_t match_batch = 0;
  std::string init_model;       // start from these saved weights (models/serialize.h); empty = Glorot init
  // Initial weights when init_model is empty (models/model_spec.h): glorot (drawn from the seed) or
  // file (a TorchScript model's own saved weights; the seed then varies the data order only).
  std::string init = "glorot";
  // A TorchScript model's SHA-256 (model "torchscript:PATH"), filled in by resolve_defaults_and_validate:
  // the file's content, not only its path, is part of the run's identity.
  std::string model_sha256;
  bool log_noise_scale = false; // add B_simple to every curve point (never changes the trajectory; NE steps then
                                // run the split pass, which reads g_B on its own)
  // Ghost batch norm of C1/C2 (models/ghost_batch_norm.h; ignored by F1). The paper: ghost batches
  // of 100; the BN hyperparameters are not stated, so Keras's (the authors' framework) by default.
  std::string bn_convention = "keras";  // keras (momentum 0.99, eps 1e-3) | pytorch (0.1, 1e-5)
  int64_t ghost_batch_size = 100;       // models::kPaperGhostBatchSize
  // Number format (runtime/precision.h): fp32 (the paper's, and every framework's default), fp64
  // (reference runs: e.g. checking that a pack member follows its single run to 1e-9), tf32
  // (float32 with TF32 matrix products and convolutions; NVIDIA GPUs) or bf16 (float32 weights,
  // forward passes under bf16 autocast; GPUs and CPUs with native bf16). Part of the run's identity.
  std::string precision = "fp32";  // fp32 | fp64 | tf32 | bf16

  // Fills l_star / l_stop from the paper when unset (kOwnModelLStar / LStop for TorchScript models,
  // whose file it hashes into model_sha256 when that is empty) and alpha from match_batch when
  // that is set; validates ranges.
  // Throws nesgd::Error naming the bad field and its allowed values.
  void resolve_defaults_and_validate();

  // Checks what depends on the training-set size n_train (after
  // train_subset): B <= n_train and, for C1/C2 in keras sampling, that each
  // epoch's short last batch (n_train mod B samples) is a whole number of
  // ghost batches. Keras itself fails on such a batch (its ghost batch norm
  // reshapes to [virtual_batch_size, -1, ...]); we refuse it before training
  // starts. Throws nesgd::Error naming the fixes.
  void validate_for_training_set(int64_t n_train) const;

  // Whether the model normalizes in ghost batches (C1, C2; F1 has no batch norm),
  // so that batches must consist of whole ghost batches.
  bool has_ghost_batch_norm() const {
    const models::ModelEntry* e = models::find_model(model);
    return e != nullptr && e->ghost_batch_norm;
  }
  // The smallest piece a batch may be cut into: a ghost batch, or one sample.
  int64_t batch_unit() const { return has_ghost_batch_norm() ? ghost_batch_size : 1; }
};

nlohmann::json to_json(const RunConfig& c);
// Missing keys keep the defaults, except the two whose default changed: a
// record without "sampling" reads as kLegacySampling and one without an
// optimizer name as optim::kLegacyOptimizerName, the behaviour of the runs
// written before (every record so far carries both keys; this keeps it so).
// Throws nesgd::Error for a value of the wrong type or out of range (a stored
// run or sweep file may have been edited).
RunConfig run_config_from_json(const nlohmann::json& j);

}  // namespace nesgd::train
