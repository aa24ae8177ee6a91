// nesgd/dist/group.h - the process group of a data-parallel run, on
// PyTorch's c10d: a TCPStore hosted by rank 0 for the rendezvous, Gloo for
// CPU tensors, NCCL for CUDA tensors (where LibTorch was built with it).
//
// Failures are bounded and named: every collective waits at most the group's
// timeout; when one fails (a peer died, hung or closed its connection), the
// surviving ranks hold a short roll call through the store and throw
// nesgd::Error naming the ranks that did not answer. The header is
// torch-free (at::Tensor is only declared).
#pragma once

#include <memory>
#include <string>

#include "nesgd/dist/launch.h"

namespace at {
class Tensor;
}

namespace nesgd::dist {

struct GroupOptions {
  std::string backend = "auto";  // auto (gloo on CPU, nccl on CUDA), gloo, nccl
  double timeout_seconds = kDefaultTimeoutSeconds;
  std::string device = "cpu";    // the run's --device; a CUDA run uses device `local_rank`
};

// Whether this build of nesgd can use `backend` ("gloo", "nccl").
bool backend_available(const std::string& backend);

class Group {
 public:
  // Joins (rank 0: hosts) the rendezvous and builds the process group.
  // Every rank of the launch must call it within the timeout.
  static std::shared_ptr<Group> join(const LaunchInfo& launch, const GroupOptions& options);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const;
  int size() const;
  const std::string& backend() const;
  const LaunchInfo& launch() const;

  // Sums `tensor` over all ranks, in place; every rank receives the same bits.
  void all_reduce_sum(at::Tensor& tensor);

  // Every rank passes its own `text` (e.g. its configuration as JSON); unless
  // all are equal, every rank throws nesgd::Error naming `what`, the ranks
  // that differ from rank 0 and (for JSON objects) the fields.
  void check_same(const std::string& what, const std::string& text);

 private:
  struct Impl;
  explicit Group(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nesgd::dist
