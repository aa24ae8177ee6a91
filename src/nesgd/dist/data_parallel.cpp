#include "nesgd/dist/data_parallel.h"

#include <algorithm>
#include <cmath>

#include "nesgd/error.h"
#include "nesgd/models/ghost_batch_norm.h"
#include "nesgd/runtime/loss.h"
#include "nesgd/runtime/precision.h"

namespace nesgd::dist {

DataParallelStep::DataParallelStep(Group& group, models::Network& model, const std::string& model_name,
                                   int64_t batch_size, const std::string& config_text, std::string precision,
                                   torch::Device device)
    : group_(group), model_(model), precision_(std::move(precision)), device_(device) {
  int64_t bn_buffers = 0;
  for (const auto& m : model_.modules(/*include_self=*/false)) {
    if (auto* bn = dynamic_cast<models::GhostBatchNorm2dImpl*>(m.get())) {
      bn_.push_back({bn->running_mean, bn->running_var, bn->options.momentum()});
      unit_ = bn->options.ghost_batch_size();
      bn_buffers += 2;
    }
  }
  if (static_cast<int64_t>(model_.buffers().size()) != bn_buffers) {
    throw Error("model " + model_name + " keeps state other than ghost batch norm's (buffers such as batch norm's "
                "running statistics, which each rank would update from its own slice): --distributed cannot train "
                "it; train it in one process");
  }
  check_batch_split(batch_size, unit_, group_.size());
  group_.check_same("run configuration", config_text);
}

torch::Device DataParallelStep::device_of_rank(torch::Device device, const Group* group) {
  if (group && device.is_cuda() && !device.has_index()) {
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(group->launch().local_rank));
  }
  return device;
}

void DataParallelStep::begin_step() {
  snapshots_.clear();
  weights_.clear();
  updates_.clear();
  if (!bn_.empty()) snapshots_.push_back(bn_snapshot());
}

void DataParallelStep::record_forward(double weight, int updates) {
  if (bn_.empty()) return;
  snapshots_.push_back(bn_snapshot());
  weights_.push_back(weight);
  updates_.push_back(updates);
}

std::vector<torch::Tensor> DataParallelStep::bn_snapshot() const {
  std::vector<torch::Tensor> s;
  for (const auto& l : bn_) {
    s.push_back(l.mean.detach().clone());
    s.push_back(l.var.detach().clone());
  }
  return s;
}

torch::Tensor DataParallelStep::share_of_loss(const runtime::TensorSet& train, const std::vector<int64_t>& indices) {
  const int64_t samples = static_cast<int64_t>(indices.size());
  const Slice mine = slice_of_batch(samples, unit_, group_.rank(), group_.size());
  torch::Tensor loss;
  if (mine.size() == 0) {
    loss = torch::zeros({}, train.x.options().requires_grad(true));
  } else {
    const std::vector<int64_t> part(indices.begin() + mine.begin, indices.begin() + mine.end);
    auto [x, y] = runtime::gather(train, part);
    loss = runtime::batch_loss(model_, x, y, precision_, device_, runtime::Reduction::kSum) /
           static_cast<double>(samples);
  }
  record_forward(static_cast<double>(mine.size()) / static_cast<double>(samples), 1);
  return loss;
}

std::pair<torch::Tensor, torch::Tensor> DataParallelStep::share_of_joint_losses(
    const runtime::TensorSet& train, const std::vector<int64_t>& idx_b, const std::vector<int64_t>& idx_b_prime) {
  const int64_t samples = static_cast<int64_t>(idx_b.size());
  if (static_cast<int64_t>(idx_b_prime.size()) != samples) throw Error("joint NE pass: B and B' differ in size");
  const Slice mine = slice_of_batch(samples, unit_, group_.rank(), group_.size());
  std::pair<torch::Tensor, torch::Tensor> shares;
  if (mine.size() == 0) {
    shares = {torch::zeros({}, train.x.options().requires_grad(true)),
              torch::zeros({}, train.x.options().requires_grad(true))};
  } else {
    std::vector<int64_t> part(idx_b.begin() + mine.begin, idx_b.begin() + mine.end);
    part.insert(part.end(), idx_b_prime.begin() + mine.begin, idx_b_prime.begin() + mine.end);
    auto [x, y] = runtime::gather(train, part);
    const auto [sum_b, sum_b_prime] =
        runtime::joint_batch_losses(model_, x, y, mine.size(), precision_, device_, runtime::Reduction::kSum);
    shares = {sum_b / static_cast<double>(samples), sum_b_prime / static_cast<double>(samples)};
  }
  // One forward, two running-statistics updates (B's, then B''s), both with this rank's share.
  record_forward(static_cast<double>(mine.size()) / static_cast<double>(samples), 2);
  return shares;
}

// Ghost batch norm's running statistics. A forward k over a batch updates
// them as R_k = keep R_(k-1) + (1 - keep) m_k, with m_k the mean over the
// batch's ghosts of their statistics. A rank that sees a share w of those
// ghosts moves its own copy by w^-1 times its part of (1 - keep) m_k, so the
// single run's R_F after F forwards is
//   keep^F R_0 + sum_k keep^(F-k) sum_ranks w_k (r_k - keep r_(k-1)),
// linear in each rank's own snapshots r_k: one sum over ranks restores it.
// A joint NE forward makes u_k = 2 updates (B's segment, then B''s) with the
// same share w_k; with U_k the updates up to forward k and U = U_F, the sum is
//   keep^U R_0 + sum_k keep^(U - U_k) sum_ranks w_k (r_k - keep^(u_k) r_(k-1)),
// which is the line above where every u_k = 1.
bool DataParallelStep::all_reduce(const std::vector<torch::Tensor>& params, optim::NEBackwardResult& r,
                                  bool stop_requested) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (torch::Tensor p : params) {  // a handle: its .grad() is the parameter's
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    parts.push_back(p.grad().reshape(-1));
  }
  const double loss_b_prime = r.used_b_prime ? r.loss_b_prime : 0.0;
  parts.push_back(torch::tensor({r.loss_b, loss_b_prime, stop_requested ? 1.0 : 0.0}, torch::dtype(torch::kFloat64))
                      .to(params.front().options()));
  const size_t forwards = weights_.size();
  int updates = 0;  // U
  for (int u : updates_) updates += u;
  for (size_t i = 0; i < 2 * bn_.size(); ++i) {
    const double keep = bn_[i / 2].keep;
    torch::Tensor term = torch::zeros_like(snapshots_[0][i]);
    int through = 0;  // U_k
    for (size_t k = 1; k <= forwards; ++k) {
      const int u = updates_[k - 1];
      through += u;
      const double w = weights_[k - 1] * std::pow(keep, static_cast<double>(updates - through));
      if (w != 0.0) term.add_(snapshots_[k][i] - std::pow(keep, static_cast<double>(u)) * snapshots_[k - 1][i], w);
    }
    if (group_.rank() == 0) term.add_(snapshots_[0][i], std::pow(keep, static_cast<double>(updates)));
    parts.push_back(term.reshape(-1));
  }
  torch::Tensor flat = torch::cat(parts);
  group_.all_reduce_sum(flat);

  int64_t at = 0;
  auto take = [&](torch::Tensor dst) {
    const int64_t n = dst.numel();
    dst.copy_(flat.narrow(0, at, n).view_as(dst));
    at += n;
  };
  for (const auto& p : params) take(p.grad());
  const torch::Tensor scalars = flat.narrow(0, at, 3).to(torch::kCPU, torch::kFloat64);
  at += 3;
  r.loss_b = scalars[0].item<double>();
  if (r.used_b_prime) r.loss_b_prime = scalars[1].item<double>();
  for (const auto& l : bn_) {
    take(l.mean);
    take(l.var);
  }
  return scalars[2].item<double>() > 0.0;
}

// Each rank evaluates a share of whole chunks (the chunks a single run's evaluate() forms, so only
// the final sum's order differs) and one all-reduce adds the sums up; every rank gets the same result.
runtime::EvalResult DataParallelStep::evaluate(const runtime::TensorSet& set) {
  runtime::AutocastScope autocast(precision_, device_);  // evaluations in the run's precision too
  constexpr int64_t kChunk = runtime::kEvalChunk;
  const int64_t n = set.x.size(0);
  const int64_t units = (n + kChunk - 1) / kChunk;
  const int64_t w = group_.size(), r = group_.rank();
  const int64_t begin = std::min(n, r * units / w * kChunk), end = std::min(n, (r + 1) * units / w * kChunk);
  double loss_sum = 0.0, correct = 0.0;
  if (end > begin) {
    const runtime::TensorSet part{set.x.narrow(0, begin, end - begin), set.y.narrow(0, begin, end - begin)};
    const runtime::EvalResult e = runtime::evaluate(model_, part, kChunk);
    loss_sum = e.loss * static_cast<double>(end - begin);
    correct = std::round(e.accuracy * static_cast<double>(end - begin));
  }
  torch::Tensor sums = torch::tensor({loss_sum, correct}, torch::dtype(torch::kFloat64)).to(device_);
  group_.all_reduce_sum(sums);
  sums = sums.to(torch::kCPU);
  runtime::EvalResult out;
  out.loss = n > 0 ? sums[0].item<double>() / static_cast<double>(n) : 0.0;
  out.accuracy = n > 0 ? sums[1].item<double>() / static_cast<double>(n) : 0.0;
  return out;
}

}  // namespace nesgd::dist
