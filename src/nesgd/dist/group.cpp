#include "nesgd/dist/group.h"

#include <chrono>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <torch/torch.h>

#if defined(NESGD_WITH_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#if defined(NESGD_WITH_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "nesgd/error.h"
#include "nesgd/runtime/run_info.h"

namespace nesgd::dist {

bool backend_available(const std::string& backend) {
#if defined(NESGD_WITH_GLOO)
  if (backend == "gloo") return true;
#endif
#if defined(NESGD_WITH_NCCL)
  if (backend == "nccl") return true;
#endif
  return false;
}

#if !defined(NESGD_WITH_GLOO)

struct Group::Impl {};
Group::Group(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Group::~Group() = default;
std::shared_ptr<Group> Group::join(const LaunchInfo&, const GroupOptions&) {
  throw Error(
      "this nesgd was built without PyTorch's distributed engine (c10d with Gloo): install the Gloo headers "
      "(Debian: libgloo-dev; scripts/setup.sh does) and rebuild, with a LibTorch built with USE_DISTRIBUTED");
}
int Group::rank() const { return 0; }
int Group::size() const { return 1; }
const std::string& Group::backend() const {
  static const std::string none = "none";
  return none;
}
const LaunchInfo& Group::launch() const {
  static const LaunchInfo none;
  return none;
}
void Group::all_reduce_sum(at::Tensor&) {}
void Group::check_same(const std::string&, const std::string&) {}

#else

namespace {

using std::chrono::milliseconds;

milliseconds to_ms(double seconds) { return milliseconds(static_cast<int64_t>(seconds * 1000.0)); }

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

}  // namespace

struct Group::Impl {
  LaunchInfo launch;
  GroupOptions options;
  std::string backend;
  c10::intrusive_ptr<c10d::Store> store;
  // One of the two (held by their own types: a c10d::ProcessGroup on LibTorch
  // 1.x, a c10d::Backend on 2.x).
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#if defined(NESGD_WITH_NCCL)
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  int64_t agreements = 0;
  bool failed = false;

  std::string where() const { return fmt::format("{}:{}", launch.master_addr, launch.master_port); }

  // After a failed collective: every survivor marks itself alive and waits a
  // short while for the others; the ranks that never answer are the lost ones.
  // Rank 0 hosts the store, so it waits the whole window before it may exit.
  std::string lost_ranks() {
    const auto window = std::min(to_ms(options.timeout_seconds), milliseconds(10000));
    try {
      store->set(fmt::format("nesgd/alive/{}", launch.rank), std::vector<uint8_t>{'1'});
      const auto deadline = std::chrono::steady_clock::now() + window;
      std::vector<int> missing;
      do {
        missing.clear();
        for (int r = 0; r < launch.world_size; ++r) {
          if (!store->check({fmt::format("nesgd/alive/{}", r)})) missing.push_back(r);
        }
        if (missing.empty()) break;
        std::this_thread::sleep_for(milliseconds(100));
      } while (std::chrono::steady_clock::now() < deadline);
      if (missing.empty()) return "";
      std::string out;
      for (int r : missing) out += (out.empty() ? "" : ", ") + std::to_string(r);
      return out;
    } catch (const std::exception&) {
      return fmt::format("0 (it hosts the rendezvous at {})", where());
    }
  }

  [[noreturn]] void fail(const std::string& what, const std::string& detail) {
    failed = true;
    // Drop this rank's connections first: a peer blocked on a message from
    // this rank (not from the lost one) then fails at once and joins the roll
    // call, instead of waiting out its timeout.
    gloo.reset();
#if defined(NESGD_WITH_NCCL)
    nccl.reset();
#endif
    const std::string lost = lost_ranks();
    if (!lost.empty()) {
      throw Error(fmt::format(
          "rank {} of {}: lost rank {} during {} ({}); the run stops here. Run the same command again to resume "
          "from the last checkpoint (--checkpoint)",
          launch.rank, launch.world_size, lost, what, detail));
    }
    throw Error(fmt::format("rank {} of {}: {} failed ({}); every rank answered the roll call afterwards, so the "
                            "cause is not a lost rank; run the same command again to resume from the last checkpoint",
                            launch.rank, launch.world_size, what, detail));
  }
};

Group::Group(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Group::~Group() = default;

std::shared_ptr<Group> Group::join(const LaunchInfo& launch, const GroupOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->launch = launch;
  impl->options = options;
  const bool cuda = runtime::resolve_device(options.device).is_cuda();
  std::string backend = options.backend;
  if (backend == "auto") backend = cuda ? "nccl" : "gloo";
  if (backend != "gloo" && backend != "nccl") {
    throw Error("--dist-backend must be auto, gloo or nccl, not '" + options.backend + "'");
  }
  if (backend == "nccl" && !cuda) {
    throw Error("--dist-backend nccl needs the run on CUDA (--device cuda); use gloo for CPU runs");
  }
  if (!backend_available(backend)) {
    throw Error("this nesgd was built without the " + backend + " backend (NCCL needs a CUDA LibTorch built with it, "
                "and nesgd configured with -DNESGD_NCCL=ON); use --dist-backend gloo");
  }
  impl->backend = backend;
  const auto timeout = to_ms(options.timeout_seconds);
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(launch.master_port);
    so.isServer = launch.rank == 0 && !launch.agent_store;
    so.multiTenant = true;
    so.numWorkers = static_cast<std::size_t>(launch.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, so);
    impl->store = c10::make_intrusive<c10d::PrefixStore>(launch.store_prefix, tcp);
  } catch (const std::exception& e) {
    throw Error(fmt::format(
        "rank {} of {}: cannot meet the other ranks at {} within {:.0f} s ({}): check that every rank was started, "
        "that MASTER_ADDR/--dist-addr names rank 0's host and that the port is free and reachable "
        "(--dist-timeout sets the wait)",
        launch.rank, launch.world_size, impl->where(), options.timeout_seconds, c10::GetExceptionString(e)));
  }
  try {
    if (backend == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      opts->devices.push_back(is_loopback(launch.master_addr)
                                  ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                  : c10d::ProcessGroupGloo::createDefaultDevice());
      impl->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, launch.rank, launch.world_size, opts);
    } else {
#if defined(NESGD_WITH_NCCL)
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      impl->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, launch.rank, launch.world_size, opts);
#endif
    }
  } catch (const std::exception& e) {
    throw Error(fmt::format("rank {} of {}: cannot build the {} process group ({})", launch.rank, launch.world_size,
                            backend, c10::GetExceptionString(e)));
  }
  return std::shared_ptr<Group>(new Group(std::move(impl)));
}

int Group::rank() const { return impl_->launch.rank; }
int Group::size() const { return impl_->launch.world_size; }
const std::string& Group::backend() const { return impl_->backend; }
const LaunchInfo& Group::launch() const { return impl_->launch; }

void Group::all_reduce_sum(at::Tensor& tensor) {
  if (impl_->failed) throw Error("the process group failed before; the run cannot go on");
  std::vector<at::Tensor> tensors{tensor};
  std::string detail;
  try {
#if defined(NESGD_WITH_NCCL)
    auto work = impl_->gloo ? impl_->gloo->allreduce(tensors) : impl_->nccl->allreduce(tensors);
#else
    auto work = impl_->gloo->allreduce(tensors);
#endif
    if (work->wait(to_ms(impl_->options.timeout_seconds))) return;
    detail = "aborted";
  } catch (const std::exception& e) {
    detail = c10::GetExceptionString(e);
  }
  // Keep the first line: Gloo's messages carry a stack trace after it.
  detail = detail.substr(0, detail.find('\n'));
  impl_->fail("an all-reduce", detail);
}

void Group::check_same(const std::string& what, const std::string& text) {
  Impl& s = *impl_;
  const std::string prefix = fmt::format("agree/{}/", s.agreements++);
  std::vector<std::string> texts(static_cast<size_t>(s.launch.world_size));
  try {
    s.store->set(prefix + std::to_string(s.launch.rank), std::vector<uint8_t>(text.begin(), text.end()));
    for (int r = 0; r < s.launch.world_size; ++r) {
      const auto bytes = s.store->get(prefix + std::to_string(r));  // waits up to the timeout
      texts[static_cast<size_t>(r)] = std::string(bytes.begin(), bytes.end());
    }
  } catch (const std::exception& e) {
    std::string detail = c10::GetExceptionString(e);
    s.fail("the start-up check of the " + what, detail.substr(0, detail.find('\n')));
  }
  std::string differ, fields;
  for (int r = 1; r < s.launch.world_size; ++r) {
    if (texts[static_cast<size_t>(r)] == texts[0]) continue;
    differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    if (fields.empty()) fields = differing_fields(texts[0], texts[static_cast<size_t>(r)]);
  }
  if (differ.empty()) return;
  throw Error(fmt::format(
      "rank {} of {}: the ranks disagree on the {}: rank(s) {} differ from rank 0{}. Every rank must be started with "
      "the same command and flags",
      s.launch.rank, s.launch.world_size, what, differ, fields.empty() ? "" : " in: " + fields));
}

#endif  // NESGD_WITH_GLOO

}  // namespace nesgd::dist
