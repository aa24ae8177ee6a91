#include "nesgd/train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "nesgd/data/batch_stream.h"
#include "nesgd/data/sha256.h"
#include "nesgd/dist/data_parallel.h"
#include "nesgd/dist/group.h"
#include "nesgd/durable_write.h"
#include "nesgd/error.h"
#include "nesgd/models/ghost_batch_norm.h"
#include "nesgd/models/network.h"
#include "nesgd/models/serialize.h"
#include "nesgd/optim/isotropic_noise.h"
#include "nesgd/optim/noise_enhancement.h"
#include "nesgd/optim/noise_scale.h"
#include "nesgd/optim/optimizers.h"
#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/tensors.h"
#include "nesgd/runtime/threads.h"
#include "nesgd/train/checkpoint_state.h"
#include "nesgd/train/graph_step.h"
#include "nesgd/train/noise_scale_log.h"
#include "nesgd/train/run_course.h"
#include "nesgd/train/run_setup.h"
#include "nesgd/runtime/loss.h"
#include "nesgd/numeric.h"
#include "nesgd/clock.h"

namespace nesgd::train {
namespace {

constexpr const char* kCheckpointStateKey = "nesgd_checkpoint_state";


nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }


// Everything one run holds. Reads top to bottom: set-up in the constructor,
// then step() until the protocol stops, then finish().
class TrainingRun {
 public:
  TrainingRun(RunConfig config, const data::DatasetSplits& data, const TrainHooks& hooks, const RunFiles& files,
              dist::Group* group)
      : config_(std::move(config)), hooks_(hooks), files_(files), group_(group), t_start_(Clock::now()),
        device_(dist::DataParallelStep::device_of_rank(runtime::resolve_device(config_.device), group)),
        ne_(config_.alpha) {
    RunData run_data = prepare_run(config_, data, device_);  // train/run_setup.h, as every pack member
    train_ = std::move(run_data.train);
    test_ = std::move(run_data.test);
    spec_ = run_data.spec;
    const int64_t n = run_data.train_size;
    if (config_.init_model.empty()) {
      model_ = initial_network(config_, run_data);
    } else {
      model_ = load_initial_model();
      model_->to(device_, run_data.dtype);
    }
    model_->train();
    params_ = model_->parameters();
    optimizer_ = optim::make_optimizer(params_, config_.optimizer);

    // B' exists only when the step needs it, or when the noise scale asks for it at alpha = 1.
    RunStreams streams = make_streams(config_, n, optim::needs_second_batch(ne_) || config_.log_noise_scale);
    stream_b_ = std::move(streams.b);
    stream_b_prime_ = std::move(streams.b_prime);
    // One epoch of the stream: ceil(n / B) steps in keras sampling (Keras's
    // epoch), floor(n / B) otherwise. The epoch-mean loss averages over it and
    // is checked at its end, as Keras reports `loss` at the end of each epoch.
    course_.emplace(config_, stream_b_->batches_per_epoch());
    // The joint pass wherever the step has B', nothing reads g_B on its own (the noise scale does,
    // between the split pass's two backward passes), and the network is nesgd's own: a TorchScript
    // model's batch norm (or any batch-wide operation of its own) would mix B and B' in one
    // forward, which only ghost batch norm's segments keep apart.
    // The isotropic control reads g_B on its own too (optim/isotropic_noise.h).
    joint_ = optim::needs_second_batch(ne_) && config_.ne_pass == optim::kNEPassJoint && !config_.log_noise_scale &&
             !models::is_torchscript(config_.model) && config_.noise == optim::kNoiseNE;
    if (config_.noise == optim::kNoiseIsotropic) {
      isotropic_.emplace(optim::IsotropicNoiseOptions{
          config_.alpha, config_.noise_matching, data::derive_seed(config_.seed, optim::kStreamIsotropicNoise)});
    }
    result_.ne_pass = !optim::needs_second_batch(ne_) ? optim::kNEPassSingle
                      : joint_                        ? optim::kNEPassJoint
                                                      : optim::kNEPassSplit;

    if (group_) join_group();

    result_.train_size = n;
    result_.test_size = run_data.test_size;
    result_.parameters = models::count_parameters(*model_);
    result_.dataset_source = data.source;
    if (!config_.init_model.empty()) result_.init_model_sha256 = data::sha256_file(config_.init_model);

    if (!files_.checkpoint.empty() && std::filesystem::exists(files_.checkpoint)) load_checkpoint();
    set_up_cuda_graph();  // after the checkpoint: the graph captures the resumed weights' tensors
    if (group_) {
      group_->check_same("checkpoint to resume from (it must lie on a file system every rank sees)",
                         std::to_string(result_.iterations));
    }
    last_checkpoint_ = Clock::now();
  }

  RunResult run() {
    for (int64_t it = result_.iterations + 1; course_->protocol().status() == RunStatus::kRunning; ++it) {
      // Data-parallel ranks stop together: each one's request travels with the
      // step's all-reduce, and all stop after that step.
      if (!group_ && hooks_.should_stop && hooks_.should_stop()) {
        course_->protocol().interrupt(it - 1);
        if (!files_.checkpoint.empty()) save_checkpoint();
        break;
      }
      step(it);
      if (group_ && stop_requested_by_any_ && course_->protocol().status() == RunStatus::kRunning) {
        course_->protocol().interrupt(it);
        if (!files_.checkpoint.empty()) save_checkpoint();
        break;
      }
      if (!files_.checkpoint.empty() && course_->protocol().status() == RunStatus::kRunning &&
          seconds_since(last_checkpoint_) >= files_.checkpoint_every_seconds) {
        save_checkpoint();
      }
    }
    return finish();
  }

 private:
  std::shared_ptr<models::Network> load_initial_model() {
    models::LoadedModel loaded = models::load_model(config_.init_model);
    const auto& s = loaded.spec;
    if (s.name != spec_.name || s.in_channels != spec_.in_channels || s.height != spec_.height ||
        s.width != spec_.width || s.num_classes != spec_.num_classes) {
      throw Error("--load-model " + config_.init_model + " holds a " + s.name + " for " +
                  std::to_string(s.in_channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width) +
                  " inputs and " + std::to_string(s.num_classes) + " classes; this run needs a " + spec_.name +
                  " for the dataset's " + std::to_string(spec_.in_channels) + "x" + std::to_string(spec_.height) +
                  "x" + std::to_string(spec_.width) + " inputs and " + std::to_string(spec_.num_classes) + " classes");
    }
    if (config_.has_ghost_batch_norm() &&
        (s.bn_convention != spec_.bn_convention || s.ghost_batch_size != spec_.ghost_batch_size)) {
      throw Error("--load-model " + config_.init_model + " has " + s.bn_convention + " ghost batch norm of " +
                  std::to_string(s.ghost_batch_size) + "; this run asks for " + spec_.bn_convention + " of " +
                  std::to_string(spec_.ghost_batch_size) + ": pass --bn-convention " + s.bn_convention +
                  " --ghost-batch-size " + std::to_string(s.ghost_batch_size));
    }
    return loaded.net;
  }

  // --cuda-graph: full-size steps replay the captured forward and backward
  // passes (train/graph_step.h); a keras epoch's short batch runs eagerly on
  // the same gradient tensors. Both streams draw as in an eager step.
  optim::NEBackwardResult graphed_backward(int64_t& samples_b, int64_t& samples_b_prime) {
    const bool two = optim::needs_second_batch(ne_);
    const std::vector<int64_t> idx_b = stream_b_->next();
    const std::vector<int64_t> idx_b_prime = two ? stream_b_prime_->next() : std::vector<int64_t>{};
    samples_b = static_cast<int64_t>(idx_b.size());
    samples_b_prime = static_cast<int64_t>(idx_b_prime.size());
    optim::NEBackwardResult r;
    if (samples_b == config_.batch_size && (!two || samples_b_prime == config_.batch_size)) {
      const auto [loss_b, loss_b_prime] = graph_->run(idx_b, idx_b_prime);
      r.loss_b = loss_b.item<double>();
      r.used_b_prime = two;
      r.loss_b_prime = two ? loss_b_prime.item<double>() : kNaN;
      return r;
    }
    graph_->zero_grads_in_place();
    if (joint_) return optim::ne_backward_joint([&] { return joint_losses_of(idx_b, idx_b_prime); }, ne_);
    auto on = [this](const std::vector<int64_t>& indices) -> optim::MinibatchLoss {
      return [this, &indices]() {
        auto [x, y] = runtime::gather(train_, indices);
        return runtime::batch_loss(*model_, x, y, config_.precision, device_);
      };
    };
    return optim::ne_backward(on(idx_b), two ? on(idx_b_prime) : optim::MinibatchLoss{}, ne_);
  }

  void set_up_cuda_graph() {
    if (!config_.cuda_graph) return;
    if (!device_.is_cuda()) {
      throw Error("--cuda-graph needs a CUDA device; this run resolved to " + device_.str() + ": leave it off");
    }
    if (group_) throw Error("--cuda-graph is for single-process runs; drop it with --distributed");
    auto loss_of = [this](const torch::Tensor& idx) {
      const torch::Tensor x = train_.x.index_select(0, idx), y = train_.y.index_select(0, idx);
      return runtime::batch_loss(*model_, x, y, config_.precision, device_);
    };
    GraphedBackward::JointLossOf joint_of;
    if (joint_) {
      joint_of = [this](const torch::Tensor& idx) {  // idx: [B; B'], 2 * batch_size entries
        const torch::Tensor x = train_.x.index_select(0, idx), y = train_.y.index_select(0, idx);
        return runtime::joint_batch_losses(*model_, x, y, config_.batch_size, config_.precision, device_);
      };
    }
    graph_ = std::make_unique<GraphedBackward>(loss_of, params_, model_->buffers(), config_.batch_size, ne_.alpha(),
                                               optim::needs_second_batch(ne_), device_, joint_of);
  }

  // The loss of the stream's next batch; `samples` receives its size (B, or
  // n mod B for the short last batch of a keras epoch).
  optim::MinibatchLoss minibatch_loss(data::BatchStream& stream, int64_t& samples) {
    return [this, &stream, &samples]() {
      const std::vector<int64_t>& indices = stream.next();
      samples = static_cast<int64_t>(indices.size());
      if (dp_) return dp_->share_of_loss(train_, indices);  // this rank's share of the mean
      auto [x, y] = runtime::gather(train_, indices);  // x: [samples, C, H, W]
      return runtime::batch_loss(*model_, x, y, config_.precision, device_);  // mean over the batch
    };
  }

  // The joint pass's L_B and L_B' from one forward over [B; B'] (runtime/loss.h);
  // data-parallel, over this rank's slice of each.
  std::pair<torch::Tensor, torch::Tensor> joint_losses_of(const std::vector<int64_t>& idx_b,
                                                          const std::vector<int64_t>& idx_b_prime) {
    if (dp_) return dp_->share_of_joint_losses(train_, idx_b, idx_b_prime);
    std::vector<int64_t> both(idx_b);
    both.insert(both.end(), idx_b_prime.begin(), idx_b_prime.end());
    auto [x, y] = runtime::gather(train_, both);  // x: [|B| + |B'|, C, H, W]
    return runtime::joint_batch_losses(*model_, x, y, static_cast<int64_t>(idx_b.size()), config_.precision,
                                       device_);
  }

  // The step's gradient, g_NE in the parameters' .grad(), by the run's NE pass
  // (optim/ne_pass.h); data-parallel, summed over the ranks.
  // With --noise isotropic, g_B plus isotropic noise of NE's strength instead (optim/isotropic_noise.h).
  optim::NEBackwardResult eager_backward(int64_t it, int64_t& samples_b, int64_t& samples_b_prime) {
    optimizer_->zero_grad();
    if (dp_) dp_->begin_step();
    optim::NEBackwardResult r;
    if (joint_) {
      r = optim::ne_backward_joint(
          [&] {
            const std::vector<int64_t> idx_b = stream_b_->next(), idx_b_prime = stream_b_prime_->next();
            samples_b = static_cast<int64_t>(idx_b.size());
            samples_b_prime = static_cast<int64_t>(idx_b_prime.size());
            return joint_losses_of(idx_b, idx_b_prime);
          },
          ne_);
    } else {
      const auto loss_b = minibatch_loss(*stream_b_, samples_b);
      const auto loss_b_prime =
          optim::needs_second_batch(ne_) ? minibatch_loss(*stream_b_prime_, samples_b_prime) : optim::MinibatchLoss{};
      if (isotropic_) {
        r = optim::isotropic_backward(params_, loss_b, loss_b_prime, *isotropic_, it).losses;
      } else {
        r = optim::ne_backward(loss_b, loss_b_prime, ne_,
                               config_.log_noise_scale ? noise_log_.capture(params_) : std::function<void()>{});
      }
    }
    if (dp_) stop_requested_by_any_ = dp_->all_reduce(params_, r, hooks_.should_stop && hooks_.should_stop());
    if (config_.log_noise_scale) {
      noise_log_.measure(params_, model_->buffers(), config_.alpha, samples_b, [this] {
        auto [x, y] = runtime::gather(train_, stream_b_prime_->next());  // alpha = 1: a B' of its own
        return runtime::batch_loss(*model_, x, y, config_.precision, device_);
      });
    }
    return r;
  }

  void step(int64_t it) {
    const auto t_step = Clock::now();
    int64_t samples_b = 0, samples_b_prime = 0;
    const optim::NEBackwardResult r =
        graph_ ? graphed_backward(samples_b, samples_b_prime) : eager_backward(it, samples_b, samples_b_prime);
    optimizer_->step();
    result_.step_seconds += seconds_since(t_step);
    result_.samples_processed += samples_b + samples_b_prime;  // 0 for B' when alpha = 1
    result_.iterations = it;

    const CheckOutcome check =
        course_->after_step(it, r.loss_b, samples_b, [this] { return evaluate_set(train_).loss; });
    if (check.scale_lr) {
      optim::scale_lr(*optimizer_, course_->lr_factor());
      // The weights the L* check judged, before any step at the halved LR.
      if (!files_.save_model_at_l_star.empty()) models::save_model(*model_, spec_, files_.save_model_at_l_star);
    }
    if (check.checked) {
      const auto ns = config_.log_noise_scale ? noise_log_.smoothed() : optim::NoiseScaleEstimate{kNaN, kNaN, kNaN};
      result_.curve.push_back({it, check.measured, r.loss_b, optim::get_lr(*optimizer_), elapsed(), ns.b_simple,
                               ns.g_squared, ns.trace_sigma});
    }
    report_progress(it, r.loss_b, check.checked);
  }

  void report_progress(int64_t it, double minibatch_loss, bool is_check) {
    const double now = elapsed();
    const bool stopping = course_->protocol().status() != RunStatus::kRunning;
    if (!hooks_.on_progress || !(is_check || stopping || now - last_progress_ >= hooks_.progress_interval_seconds)) {
      return;
    }
    last_progress_ = now;
    Progress p;
    p.iteration = it;
    p.epoch = stream_b_->epoch();
    p.train_loss = course_->last_train_loss();
    p.minibatch_loss = minibatch_loss;
    p.lr = optim::get_lr(*optimizer_);
    p.samples_per_second = result_.step_seconds > 0 ? result_.samples_processed / result_.step_seconds : 0.0;
    p.seconds = now;
    p.is_check = is_check;
    hooks_.on_progress(p);
  }

  double elapsed() const { return elapsed_before_ + seconds_since(t_start_); }

  RunResult finish() {
    result_.status = course_->protocol().status();
    result_.iterations_to_l_star = course_->protocol().iterations_to_l_star();
    result_.epochs = stream_b_->epoch();
    result_.train_loss = course_->last_train_loss();
    const runtime::EvalResult te = evaluate_set(test_);
    result_.test_accuracy = te.accuracy;
    result_.test_loss = te.loss;
    result_.final_full_train_loss = evaluate_set(train_).loss;
    result_.samples_per_second =
        result_.step_seconds > 0 ? result_.samples_processed / result_.step_seconds : 0.0;
    result_.environment = runtime::environment_record(device_);
    if (group_) {
      result_.world_size = group_->size();
      result_.dist_backend = group_->backend();
    }
    result_.wall_seconds = elapsed();
    if (!files_.save_model.empty()) models::save_model(*model_, spec_, files_.save_model);
    return result_;
  }

  // -- checkpoints: model, optimizer, both streams, protocol and curve ----------------------------------
  CheckpointState checkpoint_state() const {
    CheckpointState s;
    s.config = to_json(config_);
    s.iterations = result_.iterations;
    s.iterations_to_l_star = course_->protocol().iterations_to_l_star();
    s.samples_processed = result_.samples_processed;
    s.step_seconds = result_.step_seconds;
    s.elapsed = elapsed();
    s.last_train_loss = course_->last_train_loss();
    s.epoch_mean = course_->epoch_mean_values();
    s.epoch_mean_weights = course_->epoch_mean_weights();
    s.stream_b = stream_b_->save_state();
    s.stream_b_prime = stream_b_prime_ ? stream_b_prime_->save_state() : std::string();
    s.noise_tracker = noise_log_.save_state();
    s.curve = result_.curve;
    return s;
  }

  void save_checkpoint() {
    if (group_ && group_->rank() != 0) {  // rank 0 writes for all: their states are the same
      last_checkpoint_ = Clock::now();
      return;
    }
    torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
    model_->save(model_archive);
    optimizer_->save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write(kCheckpointStateKey, c10::IValue(to_json(checkpoint_state()).dump()));
    // A crash mid-write leaves the previous checkpoint intact.
    write_file_durable(files_.checkpoint, [&](std::ostream& out) { archive.save_to(out); });
    last_checkpoint_ = Clock::now();
  }

  void load_checkpoint() {
    const std::string& path = files_.checkpoint;
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    c10::IValue state_value;
    try {
      archive.load_from(path, device_);
      if (!archive.try_read(kCheckpointStateKey, state_value) || !state_value.isString()) {
        throw Error(path + " is not an nesgd checkpoint");
      }
      archive.read("model", model_archive);
      archive.read("optimizer", optimizer_archive);
    } catch (const c10::Error& e) {
      throw Error("cannot read checkpoint " + path + " (" + e.what_without_backtrace() +
                  "): delete it to start the run afresh");
    }
    // nesgd's own part of the file: every field checked (checkpoint_state.h).
    const CheckpointState state = checkpoint_state_from_text(state_value.toStringRef(), path);
    // Read back as a stored record is (run_config_from_json), a checkpoint written before a key
    // existed holds that key's default. The NE pass may change across a resume: the same arithmetic
    // up to summation order.
    auto comparable = [&path](const nlohmann::json& j) {
      nlohmann::json c;
      try {
        c = to_json(run_config_from_json(j));
      } catch (const Error& e) {
        throw Error("checkpoint " + path + " holds a configuration this nesgd cannot read (" + e.what() +
                    "): delete it to start the run afresh");
      }
      c.erase("ne_pass");
      return c;
    };
    if (comparable(state.config) != comparable(to_json(config_))) {
      throw Error("checkpoint " + path + " belongs to another run configuration:\n  checkpoint: " +
                  state.config.dump() + "\n  this run:   " + to_json(config_).dump() +
                  "\nuse another --checkpoint path, or delete it to start afresh");
    }
    course_->restore(state.iterations_to_l_star, state.last_train_loss, state.epoch_mean, state.epoch_mean_weights,
                     path);
    // The text states first (they are checked against this run), the tensors after.
    stream_b_->load_state(state.stream_b);
    if (stream_b_prime_) stream_b_prime_->load_state(state.stream_b_prime);
    noise_log_.load_state(state.noise_tracker);
    model_->load(model_archive);
    optimizer_->load(optimizer_archive);
    result_.iterations = state.iterations;
    result_.resumed_from_iteration = result_.iterations;
    // Optimizer::load restores the LR on LibTorch 2.x but not on 1.x: set the
    // LR the run had at the checkpoint, halved if L* was already reached.
    optim::set_lr(*optimizer_, config_.optimizer.lr * course_->lr_multiplier());
    result_.samples_processed = state.samples_processed;
    result_.step_seconds = state.step_seconds;
    elapsed_before_ = state.elapsed;
    result_.curve = state.curve;
  }

  // -- data parallelism (train_run's `group`; the step's share and all-reduce: dist/data_parallel.h) --
  // Loss and accuracy over a whole set in evaluation mode (data-parallel: dist/data_parallel.h).
  runtime::EvalResult evaluate_set(const runtime::TensorSet& set) {
    if (dp_) return dp_->evaluate(set);
    runtime::AutocastScope autocast(config_.precision, device_);  // evaluations in the run's precision too
    return runtime::evaluate(*model_, set);
  }

  // Checks that make every rank refuse together, before the first step.
  void join_group() {
    if (isotropic_) {
      throw Error("--noise isotropic sizes its noise from the whole g_B and g_B', which no rank holds before the "
                  "all-reduce: train it in one process");
    }
    if (config_.log_noise_scale) {
      throw Error("--log-noise-scale is not available with --distributed: measure the noise scale in one process");
    }
    // Threads and the device index may differ from rank to rank; nothing else.
    nlohmann::json same = to_json(config_);
    for (const char* k : {"threads", "blas_threads", "device"}) same.erase(k);
    dp_.emplace(*group_, *model_, config_.model, config_.batch_size, same.dump(), config_.precision, device_);
  }

  RunConfig config_;
  const TrainHooks& hooks_;
  const RunFiles& files_;
  dist::Group* group_ = nullptr;
  std::optional<dist::DataParallelStep> dp_;  // data-parallel runs only (dist/data_parallel.h)
  bool stop_requested_by_any_ = false;
  Clock::time_point t_start_;
  Clock::time_point last_checkpoint_;
  double elapsed_before_ = 0.0;  // wall time of the run before it was resumed
  torch::Device device_;
  optim::NoiseEnhancementOptions ne_;
  bool joint_ = false;  // NE's joint pass (optim/ne_pass.h)
  std::optional<optim::IsotropicNoiseOptions> isotropic_;  // --noise isotropic only
  runtime::TensorSet train_, test_;
  models::ModelSpec spec_;
  std::shared_ptr<models::Network> model_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<GraphedBackward> graph_;  // --cuda-graph only
  std::optional<data::BatchStream> stream_b_, stream_b_prime_;
  std::optional<RunCourse> course_;  // the protocol: loss checks, L*, L** (train/run_course.h)
  NoiseScaleLog noise_log_;  // --log-noise-scale (train/noise_scale_log.h)
  double last_progress_ = -1e9;
  RunResult result_;
};

}  // namespace

RunResult train_run(RunConfig config, const data::DatasetSplits& data, const TrainHooks& hooks,
                    const RunFiles& files, dist::Group* group) {
  config.resolve_defaults_and_validate();
  return TrainingRun(std::move(config), data, hooks, files, group).run();
}

nlohmann::json to_json(const RunResult& r, const RunConfig& config) {
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& p : r.curve) {
    nlohmann::json point{{"iteration", p.iteration},
                         {"train_loss", finite_or_null(p.train_loss)},
                         {"minibatch_loss", finite_or_null(p.minibatch_loss)},
                         {"lr", p.lr},
                         {"seconds", p.seconds}};
    if (config.log_noise_scale) {
      point["b_simple"] = finite_or_null(p.b_simple);
      point["g_squared"] = finite_or_null(p.g_squared);
      point["trace_sigma"] = finite_or_null(p.trace_sigma);
    }
    curve.push_back(point);
  }
  RunConfig resolved = config;
  resolved.resolve_defaults_and_validate();
  nlohmann::json record{
      {"status", to_string(r.status)},
      {"iterations", r.iterations},
      {"iterations_to_l_star", r.iterations_to_l_star >= 0 ? nlohmann::json(r.iterations_to_l_star) : nullptr},
      {"test_accuracy", finite_or_null(r.test_accuracy)},
      {"test_loss", finite_or_null(r.test_loss)},
      {"train_loss", finite_or_null(r.train_loss)},
      {"final_full_train_loss", finite_or_null(r.final_full_train_loss)},
      {"wall_seconds", r.wall_seconds},
      {"step_seconds", r.step_seconds},
      {"samples_per_second", r.samples_per_second},
      {"samples_processed", r.samples_processed},
      {"ne_pass", r.ne_pass},
      {"epochs", r.epochs},
      {"train_size", r.train_size},
      {"test_size", r.test_size},
      {"parameters", r.parameters},
      {"resumed_from_iteration", r.resumed_from_iteration},
      {"init_model_sha256", r.init_model_sha256},
      {"seed", resolved.seed},
      {"loss_measure", to_string(resolved.loss_measure)},
      {"dataset_source", r.dataset_source},
      {"config", to_json(resolved)},
      {"environment", r.environment},
      {"libtorch_version", r.environment.value("libtorch_version", "")},
      {"device", r.environment.value("device", "")},
      {"curve", curve},
  };
  if (r.pack_size > 0) record["pack"] = {{"size", r.pack_size}, {"index", r.pack_index}};
  if (!r.dist_backend.empty()) record["distributed"] = {{"world_size", r.world_size}, {"backend", r.dist_backend}};
  return record;
}

}  // namespace nesgd::train
