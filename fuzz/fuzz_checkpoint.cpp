// Fuzz target: the training state a checkpoint carries (`nesgd train
// --checkpoint FILE`): the JSON text stored in the LibTorch archive under
// "nesgd_checkpoint_state", read by train::checkpoint_state_from_text, then
// its stream and noise-scale states restored the way a resumed run restores
// them, and a few batches drawn from the restored streams. The archive around
// it and the tensors in it are LibTorch's (docs/FUZZING.md).
// Seeds: corpus/checkpoint/; dictionary: dict/checkpoint.dict.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "nesgd/data/batch_stream.h"
#include "nesgd/optim/noise_scale.h"
#include "nesgd/train/checkpoint_state.h"

namespace {

using namespace nesgd;

// A resumed run builds its stream from its own configuration and then loads
// the saved state into it. Here the configuration is taken from the state's
// own header when it is small enough to build, so the load gets past the
// "same stream?" check and the rest of the state is exercised.
void restore_stream(const std::string& state, uint64_t stream_id) {
  std::istringstream in(state);
  std::string tag, sampling;
  int64_t n = 0, batch = 0;
  in >> tag >> n >> batch >> sampling;
  if (!in || n < 1 || n > 4096 || batch < 1 || batch > n || (sampling != "epoch" && sampling != "iid")) return;
  fuzz::expect_only_nesgd_errors([&] {
    data::BatchStream stream(n, batch, data::derive_seed(1, stream_id), data::sampling_from_string(sampling));
    stream.load_state(state);
    for (int draw = 0; draw < 3; ++draw) {
      const auto& b = stream.next();
      std::vector<bool> seen(static_cast<size_t>(n), false);
      if (static_cast<int64_t>(b.size()) != batch) std::abort();
      for (int64_t i : b) {
        if (i < 0 || i >= n || seen[static_cast<size_t>(i)]) std::abort();  // in range, no repeats
        seen[static_cast<size_t>(i)] = true;
      }
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  train::CheckpointState state;
  bool parsed = false;
  fuzz::expect_only_nesgd_errors([&] {
    state = train::checkpoint_state_from_text(text, "run.ckpt");
    parsed = true;
  });
  if (!parsed) return 0;
  if (state.iterations < 0 || state.iterations_to_l_star < -1 || state.iterations_to_l_star > state.iterations) {
    std::abort();
  }
  (void)train::to_json(state).dump();
  restore_stream(state.stream_b, data::kStreamB);
  restore_stream(state.stream_b_prime, data::kStreamBPrime);
  fuzz::expect_only_nesgd_errors([&] {
    optim::NoiseScaleTracker tracker;
    tracker.load_state(state.noise_tracker);
    (void)tracker.smoothed();
  });
  return 0;
}
