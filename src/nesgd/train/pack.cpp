#include "nesgd/train/pack.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"
#include "nesgd/models/packed.h"
#include "nesgd/models/registry.h"
#include "nesgd/optim/noise_enhancement.h"
#include "nesgd/optim/pack_optimizer.h"
#include "nesgd/runtime/run_info.h"
#include "nesgd/runtime/tensors.h"
#include "nesgd/runtime/loss.h"
#include "nesgd/runtime/threads.h"
#include "nesgd/train/run_course.h"
#include "nesgd/train/run_setup.h"
#include "nesgd/numeric.h"
#include "nesgd/clock.h"

namespace nesgd::train {
namespace {

// Steps between two reads of the losses when checks are further apart than
// this: bounds the device-side loss history.
constexpr int64_t kMaxStepsBetweenReads = 2048;
// Share of the device's memory that --pack auto fills.
constexpr double kAutoPackMemoryShare = 0.5;
// Activations kept per layer output for the backward pass (layer output, the
// activation function's, batch-norm statistics, pooling indices): an estimate.
constexpr double kSavedTensorsPerActivation = 6.0;


// One member: everything a single run holds except the weights and the
// optimizer state, which live in the pack's stacked tensors (slot `slot`).
struct Member {
  size_t index = 0;  // position in the configs
  RunConfig config;
  std::optional<data::BatchStream> stream_b, stream_b_prime;
  std::optional<RunCourse> course;  // the protocol, as a single run's (train/run_course.h)
  double last_minibatch_loss = kNaN;
  RunResult result;
  bool needs_b_prime = false;
  bool done = false;

  explicit Member(RunConfig c) : config(std::move(c)) {}
};

class PackRun {
 public:
  PackRun(std::vector<RunConfig> configs, const data::DatasetSplits& data, const PackHooks& hooks)
      : hooks_(hooks), t_start_(Clock::now()) {
    if (configs.empty()) throw Error("a pack needs at least one run");
    for (auto& c : configs) c.resolve_defaults_and_validate();
    const std::string key = pack_key(configs.front());
    for (const auto& c : configs) {
      const std::string why = pack_unsupported_reason(c);
      if (!why.empty()) throw Error(why);
      if (pack_key(c) != key) {
        throw Error("runs of one pack must share everything but seed, alpha and learning rate:\n  " + key + "\n  " +
                    pack_key(c));
      }
    }
    const RunConfig& c0 = configs.front();
    // The set-up of a single run (train/run_setup.h). Members differ only in what pack_key leaves
    // out (seed, alpha, LR), none of which the training-set check reads: c0's check covers them all.
    RunData run_data = prepare_run(c0, data, runtime::resolve_device(c0.device));
    device_ = run_data.device;
    dtype_ = run_data.dtype;
    precision_ = c0.precision;
    train_ = run_data.train;
    test_ = run_data.test;
    spec_ = run_data.spec;
    const int64_t n = run_data.train_size;

    std::vector<std::shared_ptr<models::Network>> nets;
    std::vector<double> lrs;
    for (size_t i = 0; i < configs.size(); ++i) {
      Member m(configs[i]);
      m.index = i;
      // Exactly train_run's draws: init from the init stream, B and B' each from their own.
      nets.push_back(initial_network(m.config, run_data));
      lrs.push_back(m.config.optimizer.lr);
      m.needs_b_prime = optim::needs_second_batch(optim::NoiseEnhancementOptions(m.config.alpha));
      RunStreams streams = make_streams(m.config, n, m.needs_b_prime);
      m.stream_b = std::move(streams.b);
      m.stream_b_prime = std::move(streams.b_prime);
      m.course.emplace(m.config, m.stream_b->batches_per_epoch());
      m.result.train_size = n;
      m.result.test_size = run_data.test_size;
      m.result.parameters = models::count_parameters(*nets.back());
      m.result.dataset_source = data.source;
      m.result.pack_size = static_cast<int64_t>(configs.size());
      m.result.pack_index = static_cast<int64_t>(i);
      members_.push_back(std::move(m));
      slots_.push_back(i);
    }
    pack_.emplace(nets);
    optimizer_.emplace(pack_->parameters(), c0.optimizer, lrs);
    scratch_ = nets.front();  // a single network to evaluate members in (its weights are overwritten)
    nets.clear();

    loss_measure_ = c0.loss_measure;
    max_iterations_ = c0.max_iterations;
    upload_alphas();
    // The joint pass (optim/ne_pass.h) where some member draws B' and no member's running statistics
    // must be put back between the two batches: that is, unless members at alpha = 1 share the pack
    // with batch norm. Decided once, for the pack's life; each member's record says which ran.
    joint_ = any_b_prime_ && c0.ne_pass == optim::kNEPassJoint && (all_b_prime_ || !pack_->has_batch_norm());
    for (auto& m : members_) {
      m.result.ne_pass = !m.needs_b_prime ? optim::kNEPassSingle : joint_ ? optim::kNEPassJoint : optim::kNEPassSplit;
    }
  }

  std::vector<RunResult> run() {
    for (int64_t it = 1; !slots_.empty(); ++it) {
      if (hooks_.should_stop && hooks_.should_stop()) {
        interrupt(it - 1);
        break;
      }
      step();
      const bool check = members_.front().course->is_check(it);  // the same steps for every member (pack_key)
      if (check || it == max_iterations_ || pending_steps() >= kMaxStepsBetweenReads) read_and_decide(it, check);
      report_progress(it, check);
    }
    std::vector<RunResult> results;
    for (auto& m : members_) results.push_back(std::move(m.result));
    return results;
  }

 private:
  Member& at_slot(size_t s) { return members_[slots_[s]]; }
  int64_t pending_steps() const { return static_cast<int64_t>(window_batch_sizes_.size()); }

  void upload_alphas() {
    std::vector<double> w_b, w_b_prime;
    bool any_b_prime = false, all_b_prime = true;
    for (size_t s = 0; s < slots_.size(); ++s) {
      const Member& m = at_slot(s);
      const optim::NEWeights w = optim::ne_weights(m.config.alpha);
      w_b.push_back(w.b);
      w_b_prime.push_back(w.b_prime);
      any_b_prime = any_b_prime || m.needs_b_prime;
      all_b_prime = all_b_prime && m.needs_b_prime;
    }
    auto opts = torch::TensorOptions().dtype(dtype_).device(device_);
    w_b_ = torch::tensor(w_b, torch::kFloat64).to(opts);
    w_b_prime_ = torch::tensor(w_b_prime, torch::kFloat64).to(opts);
    any_b_prime_ = any_b_prime;
    all_b_prime_ = all_b_prime;
    std::vector<uint8_t> mask;
    for (size_t s = 0; s < slots_.size(); ++s) mask.push_back(at_slot(s).needs_b_prime ? 1 : 0);
    b_prime_mask_ = torch::tensor(std::vector<int64_t>(mask.begin(), mask.end())).to(device_).to(torch::kBool);
  }

  // Minibatch indices of every running member, stacked: [K * b].
  std::vector<int64_t> draw(bool b_prime, int64_t& batch) {
    std::vector<int64_t> all;
    batch = -1;
    for (size_t s = 0; s < slots_.size(); ++s) {
      Member& m = at_slot(s);
      // A member at alpha = 1 never draws B' (as in its single run); its B'
      // slot repeats B and enters the step with weight 1 - alpha = 0.
      const std::vector<int64_t>& idx =
          b_prime ? (m.needs_b_prime ? m.stream_b_prime->next() : last_b_[s]) : m.stream_b->next();
      if (!b_prime) last_b_[s] = idx;
      if (batch < 0) batch = static_cast<int64_t>(idx.size());
      if (static_cast<int64_t>(idx.size()) != batch) throw Error("pack members drew batches of different sizes");
      all.insert(all.end(), idx.begin(), idx.end());
    }
    return all;
  }

  // Host indices -> a device tensor without a host synchronization: on CUDA the
  // copy goes through pinned memory, asynchronously (a copy from pageable
  // memory would wait for the device's queue first, every step).
  torch::Tensor to_device(const std::vector<int64_t>& indices) const {
    torch::Tensor host = torch::tensor(indices, torch::kInt64);
    if (!device_.is_cuda()) return host;
    return host.pin_memory().to(device_, /*non_blocking=*/true);
  }

  void step() {
    const auto t_step = Clock::now();
    const int64_t k = static_cast<int64_t>(slots_.size());
    last_b_.resize(slots_.size());
    int64_t b = 0;
    const std::vector<int64_t> idx_b = draw(false, b);
    auto gather_k = [&](const torch::Tensor& index) {
      std::vector<int64_t> shape{k, b};
      for (int64_t d = 1; d < train_.x.dim(); ++d) shape.push_back(train_.x.size(d));
      return std::make_pair(train_.x.index_select(0, index).view(shape), train_.y.index_select(0, index).view({k, b}));
    };

    optimizer_->zero_grad();
    torch::Tensor loss_b, loss_b_prime;
    if (joint_ && any_b_prime_) {
      // One forward over every member's [B; B'] ([K, 2b, ...]): ghost BN takes B and B' as two
      // segments, updating the running statistics as the split pass's two calls do.
      int64_t b2 = 0;
      const std::vector<int64_t> idx_bp = draw(true, b2);
      auto [xb, yb] = gather_k(to_device(idx_b));
      auto [xp, yp] = gather_k(to_device(idx_bp));
      runtime::AutocastScope autocast(precision_, device_);
      const torch::Tensor logits = pack_->forward(torch::cat({xb, xp}, 1), true, {b, b});  // [K, 2b, classes]
      loss_b = runtime::member_cross_entropy(logits.narrow(1, 0, b), yb);
      loss_b_prime = runtime::member_cross_entropy(logits.narrow(1, b, b), yp);
    } else {
      auto [x, y] = gather_k(to_device(idx_b));
      runtime::AutocastScope autocast(precision_, device_);  // bf16: forward passes under autocast
      loss_b = runtime::member_cross_entropy(pack_->forward(x, true), y);
      if (any_b_prime_) {
        // B' is its own forward call, as in a single run: ghost BN updates its
        // running statistics once per call, and each batch's gradient is
        // formed on its own and then summed, as LibTorch accumulates the two
        // backward passes of a single run. Members at alpha = 1 have no B'
        // pass in their single run: their running statistics are put back.
        std::vector<torch::Tensor> saved;
        if (!all_b_prime_ && pack_->has_batch_norm()) {
          for (const auto& buf : pack_->buffers()) saved.push_back(buf.clone());
        }
        int64_t b2 = 0;
        const std::vector<int64_t> idx_bp = draw(true, b2);
        auto [xp, yp] = gather_k(to_device(idx_bp));
        loss_b_prime = runtime::member_cross_entropy(pack_->forward(xp, true), yp);
        if (!saved.empty()) {
          torch::NoGradGuard no_grad;
          const auto& bufs = pack_->buffers();
          for (size_t i = 0; i < bufs.size(); ++i) {
            std::vector<int64_t> shape(static_cast<size_t>(bufs[i].dim()), 1);
            shape[0] = k;
            bufs[i].copy_(torch::where(b_prime_mask_.view(shape), bufs[i], saved[i]));
          }
        }
      }
    }
    // NE: alpha * L_B + (1 - alpha) * L_B' per member; the gradient of the sum
    // with respect to member k's weights is member k's g_NE alone.
    optim::ne_objective(loss_b, w_b_, loss_b_prime, w_b_prime_).backward();
    optimizer_->step();

    const torch::Tensor detached = loss_b.detach();
    window_losses_.push_back(detached);
    window_batch_sizes_.push_back(b);
    for (size_t s = 0; s < slots_.size(); ++s) window_epochs_.push_back(at_slot(s).stream_b->epoch());
    step_seconds_ += seconds_since(t_step);
    samples_ += b * k + (any_b_prime_ ? b * k : 0);
  }

  // Mean loss of every running member over the whole training set in evaluation mode.
  std::vector<double> full_train_losses() {
    torch::NoGradGuard no_grad;
    const int64_t k = static_cast<int64_t>(slots_.size());
    const int64_t n = train_.x.size(0);
    constexpr int64_t kChunk = runtime::kEvalChunk;
    runtime::AutocastScope autocast(precision_, device_);
    torch::Tensor sums = torch::zeros({k}, torch::TensorOptions().dtype(torch::kFloat64).device(device_));
    for (int64_t start = 0; start < n; start += kChunk) {
      const int64_t len = std::min(kChunk, n - start);
      std::vector<int64_t> shape{k};
      for (int64_t d = 0; d < train_.x.dim(); ++d) shape.push_back(d == 0 ? len : train_.x.size(d));
      const torch::Tensor x = train_.x.narrow(0, start, len).unsqueeze(0).expand(shape);
      const torch::Tensor y = train_.y.narrow(0, start, len).unsqueeze(0).expand({k, len});
      sums += runtime::member_cross_entropy(pack_->forward(x, false), y, runtime::Reduction::kSum).to(torch::kFloat64);
    }
    const torch::Tensor host = sums.to(torch::kCPU);
    std::vector<double> out;
    for (int64_t s = 0; s < k; ++s) out.push_back(host[s].item<double>() / static_cast<double>(n));
    return out;
  }

  // The protocol of every running member over the steps since the last read,
  // exactly as train_run applies it step by step; stopped members leave.
  void read_and_decide(int64_t it, bool check) {
    const int64_t rows = pending_steps();
    const int64_t k = static_cast<int64_t>(slots_.size());
    const torch::Tensor losses = torch::stack(window_losses_).to(torch::kCPU, torch::kFloat64).contiguous();  // [rows, K]
    const auto acc = losses.accessor<double, 2>();
    std::vector<double> full;
    if (check && loss_measure_ == LossMeasure::kFull) full = full_train_losses();

    std::vector<size_t> stopped;
    for (int64_t s = 0; s < k; ++s) {
      Member& m = at_slot(static_cast<size_t>(s));
      for (int64_t r = 0; r < rows && m.course->protocol().status() == RunStatus::kRunning; ++r) {
        const int64_t step_it = it - rows + 1 + r;
        const double loss = acc[r][s];
        const int64_t b = window_batch_sizes_[static_cast<size_t>(r)];
        m.result.samples_processed += b * (m.needs_b_prime ? 2 : 1);
        m.result.iterations = step_it;
        m.result.epochs = window_epochs_[static_cast<size_t>(r * k + s)];
        m.last_minibatch_loss = loss;
        // Reads happen at every check, so only the window's last step can be one.
        const CheckOutcome c =
            m.course->after_step(step_it, loss, b, [&] { return full.empty() ? kNaN : full[static_cast<size_t>(s)]; });
        if (c.scale_lr) optimizer_->set_lr(s, optimizer_->lr(s) * m.course->lr_factor());
        if (c.checked) record_check(m, s, step_it, c.measured);
      }
      if (m.course->protocol().status() != RunStatus::kRunning) stopped.push_back(static_cast<size_t>(s));
    }
    window_losses_.clear();
    window_batch_sizes_.clear();
    window_epochs_.clear();
    if (!stopped.empty()) retire(stopped);
  }

  void record_check(Member& m, int64_t slot, int64_t it, double measured) {
    CurvePoint p;
    p.iteration = it;
    p.train_loss = measured;
    p.minibatch_loss = m.last_minibatch_loss;
    p.lr = optimizer_->lr(slot);
    p.seconds = seconds_since(t_start_);
    p.b_simple = p.g_squared = p.trace_sigma = kNaN;
    m.result.curve.push_back(p);
  }

  // Freezes the stopped members: final evaluation on their own weights, the
  // record, the hook; then the pack shrinks to the others.
  void retire(const std::vector<size_t>& stopped) {
    for (size_t s : stopped) {
      Member& m = at_slot(s);
      pack_->copy_member_to(static_cast<int64_t>(s), *scratch_);
      finish(m, *scratch_);
      if (hooks_.on_member_done) hooks_.on_member_done(m.index, m.result);
    }
    std::vector<int64_t> keep;
    std::vector<size_t> slots;
    for (size_t s = 0; s < slots_.size(); ++s) {
      if (std::find(stopped.begin(), stopped.end(), s) == stopped.end()) {
        keep.push_back(static_cast<int64_t>(s));
        slots.push_back(slots_[s]);
      }
    }
    slots_ = std::move(slots);
    if (slots_.empty()) return;
    std::vector<std::vector<int64_t>> last_b;
    for (int64_t s : keep) last_b.push_back(last_b_[static_cast<size_t>(s)]);
    last_b_ = std::move(last_b);
    pack_->keep(keep);
    optimizer_->keep(keep, pack_->parameters());
    upload_alphas();
  }

  void finish(Member& m, models::Network& net) {
    RunResult& r = m.result;
    r.status = m.course->protocol().status();
    r.iterations_to_l_star = m.course->protocol().iterations_to_l_star();
    r.train_loss = m.course->last_train_loss();
    if (r.status != RunStatus::kInterrupted) {
      runtime::AutocastScope autocast(precision_, device_);
      const runtime::EvalResult te = runtime::evaluate(net, test_);
      r.test_accuracy = te.accuracy;
      r.test_loss = te.loss;
      r.final_full_train_loss = runtime::evaluate(net, train_).loss;
    }
    r.step_seconds = step_seconds_;
    r.samples_per_second = step_seconds_ > 0 ? static_cast<double>(r.samples_processed) / step_seconds_ : 0.0;
    r.environment = runtime::environment_record(device_);
    r.wall_seconds = seconds_since(t_start_);
    m.done = true;
  }

  void interrupt(int64_t it) {
    if (pending_steps() > 0) read_and_decide(it, false);  // steps taken count; no check
    for (size_t s = 0; s < slots_.size(); ++s) {
      Member& m = at_slot(s);
      m.course->protocol().interrupt(it);
      finish(m, *scratch_);
    }
    slots_.clear();
  }

  void report_progress(int64_t it, bool check) {
    const double now = seconds_since(t_start_);
    if (!hooks_.on_progress || !(check || now - last_progress_ >= hooks_.progress_interval_seconds)) return;
    last_progress_ = now;
    PackProgress p;
    p.iteration = it;
    p.members = members_.size();
    p.running = slots_.size();
    p.min_train_loss = kNaN;
    p.max_train_loss = kNaN;
    for (size_t s = 0; s < slots_.size(); ++s) {
      const double l = at_slot(s).course->last_train_loss();
      if (std::isnan(l)) continue;
      p.min_train_loss = std::isnan(p.min_train_loss) ? l : std::min(p.min_train_loss, l);
      p.max_train_loss = std::isnan(p.max_train_loss) ? l : std::max(p.max_train_loss, l);
    }
    p.samples_per_second = step_seconds_ > 0 ? static_cast<double>(samples_) / step_seconds_ : 0.0;
    p.seconds = now;
    p.is_check = check;
    hooks_.on_progress(p);
  }

  const PackHooks& hooks_;
  Clock::time_point t_start_;
  torch::Device device_{torch::kCPU};
  torch::ScalarType dtype_ = torch::kFloat32;
  std::string precision_ = "fp32";
  runtime::TensorSet train_, test_;
  models::ModelSpec spec_;
  std::vector<Member> members_;
  std::vector<size_t> slots_;  // slot s of the pack holds members_[slots_[s]]
  std::optional<models::PackedNetwork> pack_;
  std::optional<optim::PackOptimizer> optimizer_;
  std::shared_ptr<models::Network> scratch_;
  torch::Tensor w_b_, w_b_prime_, b_prime_mask_;  // each member's NE weights (optim::ne_weights), [K]
  bool any_b_prime_ = false, all_b_prime_ = true;
  bool joint_ = false;  // NE's joint pass (optim/ne_pass.h)
  std::vector<std::vector<int64_t>> last_b_;
  LossMeasure loss_measure_ = LossMeasure::kEpochMean;
  int64_t max_iterations_ = 0;
  // Since the last read: each step's [K] losses (on the device), batch size, and each member's epoch.
  std::vector<torch::Tensor> window_losses_;
  std::vector<int64_t> window_batch_sizes_;
  std::vector<int64_t> window_epochs_;
  double step_seconds_ = 0.0;
  int64_t samples_ = 0;
  double last_progress_ = -1e9;
};

}  // namespace

std::vector<RunResult> train_pack(std::vector<RunConfig> configs, const data::DatasetSplits& data,
                                  const PackHooks& hooks) {
  return PackRun(std::move(configs), data, hooks).run();
}

int64_t auto_pack_size(const RunConfig& config_in) {
  RunConfig config = config_in;
  config.resolve_defaults_and_validate();
  const torch::Device device = runtime::resolve_device(config.device);
  const double bytes_per_value = config.precision == "fp64" ? 8.0 : 4.0;  // tf32/bf16 keep float32 weights
  if (models::is_torchscript(config.model)) return 1;  // never packed (pack_unsupported_reason)
  // Parameters and activations per sample of one member (models/registry.h), at the paper dataset's shapes.
  const models::ModelCost cost =
      models::model_builder(config.model).cost(models::paper_spec(models::model_entry(config.model)));
  const double params = cost.parameters, activations = cost.activations_per_sample;
  const double passes = config.alpha != 1.0 ? 2.0 : 1.0;
  const double per_member = bytes_per_value * (4.0 * params + passes * static_cast<double>(config.batch_size) *
                                                                  activations * kSavedTensorsPerActivation);
  // On a CPU a pack does the same work per member as its single runs, and on
  // 2 cores measured 0.94-0.97x their speed (docs/PERFORMANCE.md, "Packs"):
  // there auto trains one run at a time.
  if (!device.is_cuda()) return 1;
  const double free = runtime::device_memory_bytes(device);
  const int64_t cap = kMaxAutoPackGpu;
  const auto fit = static_cast<int64_t>(kAutoPackMemoryShare * free / per_member);
  return std::max<int64_t>(1, std::min(cap, fit));
}

}  // namespace nesgd::train
