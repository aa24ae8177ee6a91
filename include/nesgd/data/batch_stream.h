// nesgd/data/batch_stream.h - one seeded stream of minibatch indices.
//
// NE needs two minibatches B and B' per step that are independent of each
// other (the paper: a second minibatch B' of the same size, independent of B).
// Each BatchStream owns its own generator, seeded from (seed, stream id), so
// the streams share no state: drawing from B' never shifts B, and the run with
// alpha = 1 (which never draws B') sees exactly the same B as any other alpha.
//
// Three sampling modes:
//   kKeras (the default of runs): what Keras's `fit(x, y, batch_size=B,
//     shuffle=True)` does, the protocol the paper's authors most likely ran
//     (PAPER.md). Each epoch is a fresh permutation cut into ceil(n / B)
//     batches: floor(n / B) of B samples, then one of n mod B when that is
//     nonzero. Every sample is seen exactly once per epoch. The paper's
//     Table 2 times are consistent with it: each is a mean of whole epochs of
//     ceil(N / B) steps (C2 at B = 600: 5292 = 8.4 x 84 steps, not x 83).
//   kEpoch: the same reshuffled passes with the remainder dropped (TF's
//     drop_remainder, PyTorch's drop_last): floor(n / B) full batches per
//     epoch, so every step sees exactly B samples. With n % B != 0 the dropped
//     samples differ from epoch to epoch because each epoch reshuffles.
//     With n % B == 0 it yields exactly the batches of kKeras.
//   kIid: every batch is B indices drawn uniformly without replacement from
//     the whole set, independently of every other batch (the textbook model
//     behind the noise covariance C(w)/B).
// Two streams of the same n and B in kKeras mode reach their short batch at
// the same step (both start an epoch every ceil(n / B) draws), so NE's B and B'
// always have the same size.
// Torch-free: it yields int64 indices; the trainer gathers the samples.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nesgd/names.h"

namespace nesgd::data {

enum class Sampling { kKeras, kEpoch, kIid };

std::string to_string(Sampling s);
Sampling sampling_from_string(const std::string& s);
// The names sampling_from_string accepts: keras, epoch, iid.
const NameList& sampling_names();  // "keras" | "epoch" | "iid"; throws nesgd::Error

// Derives the seed of stream `stream_id` from the run seed (splitmix64 of both),
// so streams of one run are decorrelated and streams of different seeds differ.
uint64_t derive_seed(uint64_t seed, uint64_t stream_id);

// Stream ids used by the trainer; named so tests and tools agree.
constexpr uint64_t kStreamB = 1;       // the minibatch B
constexpr uint64_t kStreamBPrime = 2;  // NE's second minibatch B'
constexpr uint64_t kStreamInit = 3;    // weight initialization

class BatchStream {
 public:
  BatchStream(int64_t dataset_size, int64_t batch_size, uint64_t seed, Sampling sampling);

  // The next batch of distinct indices in [0, dataset_size): `batch_size` of
  // them, except the last batch of each kKeras epoch, which holds n mod B.
  const std::vector<int64_t>& next();

  int64_t batch_size() const { return batch_size_; }
  int64_t dataset_size() const { return n_; }
  // ceil(n / B) in kKeras mode, floor(n / B) otherwise.
  int64_t batches_per_epoch() const;
  // Epochs started so far (kKeras, kEpoch), or batches drawn / batches_per_epoch (kIid).
  int64_t epoch() const { return epoch_; }
  int64_t batches_drawn() const { return drawn_; }
  Sampling sampling() const { return sampling_; }

  // The whole stream state (generator, permutation, position) as text, so a
  // checkpointed run resumes with exactly the batches it would have drawn.
  std::string save_state() const;
  // Restores a state saved by a stream of the same size and batch size;
  // throws nesgd::Error if it does not fit.
  void load_state(const std::string& state);

 private:
  void reshuffle();

  int64_t n_;
  int64_t batch_size_;
  Sampling sampling_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;  // current epoch's permutation (kKeras, kEpoch) or scratch (kIid)
  std::vector<int64_t> batch_;
  int64_t cursor_ = 0;
  int64_t epoch_ = 0;
  int64_t drawn_ = 0;
};

}  // namespace nesgd::data
