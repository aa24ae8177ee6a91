// Minibatch streams: independence of B and B', exact epoch coverage,
// reproducibility from the seed, the i.i.d. mode, and keras mode's short last
// batch with its checkpoint round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "nesgd/data/batch_stream.h"
#include "nesgd/error.h"

using nesgd::data::BatchStream;
using nesgd::data::derive_seed;
using nesgd::data::Sampling;

namespace {

std::vector<int64_t> draw(BatchStream& s, int batches) {
  std::vector<int64_t> all;
  for (int i = 0; i < batches; ++i) {
    const auto& b = s.next();
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

}  // namespace

TEST(BatchStream, EpochModeCoversEveryIndexExactlyOncePerEpoch) {
  const int64_t n = 1000, batch = 100;
  BatchStream s(n, batch, derive_seed(7, nesgd::data::kStreamB), Sampling::kEpoch);
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto all = draw(s, static_cast<int>(n / batch));
    std::sort(all.begin(), all.end());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(all[static_cast<size_t>(i)], i) << "epoch " << epoch;
    EXPECT_EQ(s.epoch(), epoch + 1);
  }
}

TEST(BatchStream, EpochModeDropsRemainderAndReshuffles) {
  // n = 250, B = 100: two batches per epoch, 50 samples dropped, never a short batch.
  BatchStream s(250, 100, 3, Sampling::kEpoch);
  EXPECT_EQ(s.batches_per_epoch(), 2);
  std::vector<std::vector<int64_t>> epochs;
  for (int e = 0; e < 4; ++e) {
    auto all = draw(s, 2);
    ASSERT_EQ(all.size(), 200u);
    EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 200u) << "index repeated within an epoch";
    epochs.push_back(all);
  }
  EXPECT_NE(epochs[0], epochs[1]) << "each epoch must reshuffle";
}

TEST(BatchStream, StreamsBAndBPrimeAreIndependent) {
  const int64_t n = 10000, batch = 500;
  const uint64_t seed = 42;
  BatchStream b(n, batch, derive_seed(seed, nesgd::data::kStreamB), Sampling::kEpoch);
  BatchStream bp(n, batch, derive_seed(seed, nesgd::data::kStreamBPrime), Sampling::kEpoch);
  const auto xb = b.next();
  const auto xbp = bp.next();
  EXPECT_NE(xb, xbp);
  // Two independent uniform batches of 500 out of 10000 overlap in B^2/n = 25
  // samples on average (hypergeometric, sd ~4.8); 25 +- 20 is > 4 sd wide.
  std::set<int64_t> sb(xb.begin(), xb.end());
  int overlap = 0;
  for (auto i : xbp) overlap += static_cast<int>(sb.count(i));
  EXPECT_GT(overlap, 5);
  EXPECT_LT(overlap, 45);
}

TEST(BatchStream, DrawingBPrimeDoesNotShiftB) {
  // No shared generator state: B's sequence is the same whether or not B' is drawn.
  BatchStream alone(5000, 100, derive_seed(1, nesgd::data::kStreamB), Sampling::kEpoch);
  BatchStream with(5000, 100, derive_seed(1, nesgd::data::kStreamB), Sampling::kEpoch);
  BatchStream other(5000, 100, derive_seed(1, nesgd::data::kStreamBPrime), Sampling::kEpoch);
  for (int i = 0; i < 120; ++i) {
    other.next();
    ASSERT_EQ(alone.next(), with.next()) << "batch " << i;
  }
}

TEST(BatchStream, ReproducibleFromSeedAndDifferentAcrossSeeds) {
  for (Sampling mode : {Sampling::kKeras, Sampling::kEpoch, Sampling::kIid}) {
    BatchStream a(3000, 64, derive_seed(5, 1), mode), b(3000, 64, derive_seed(5, 1), mode),
        c(3000, 64, derive_seed(6, 1), mode);
    auto xa = draw(a, 100), xb = draw(b, 100), xc = draw(c, 100);
    EXPECT_EQ(xa, xb);
    EXPECT_NE(xa, xc);
  }
  EXPECT_NE(derive_seed(5, 1), derive_seed(5, 2));
  EXPECT_NE(derive_seed(5, 1), derive_seed(6, 1));
}

TEST(BatchStream, IidBatchesHaveDistinctIndicesAndUniformCoverage) {
  const int64_t n = 100, batch = 10;
  BatchStream s(n, batch, 11, Sampling::kIid);
  std::vector<int> counts(n, 0);
  const int batches = 20000;
  for (int i = 0; i < batches; ++i) {
    const auto& b = s.next();
    ASSERT_EQ(std::set<int64_t>(b.begin(), b.end()).size(), static_cast<size_t>(batch));
    for (auto k : b) ++counts[static_cast<size_t>(k)];
  }
  // Each index appears batches*batch/n = 2000 times on average, sd ~42; allow 6 sd.
  for (int c : counts) {
    EXPECT_GT(c, 2000 - 260);
    EXPECT_LT(c, 2000 + 260);
  }
}

TEST(BatchStream, RejectsBadSizes) {
  EXPECT_THROW(BatchStream(10, 0, 1, Sampling::kEpoch), nesgd::Error);
  try {
    BatchStream(10, 20, 1, Sampling::kEpoch);
    FAIL() << "expected an error";
  } catch (const nesgd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nesgd::data::sampling_from_string("random"), nesgd::Error);
  for (Sampling mode : {Sampling::kKeras, Sampling::kEpoch, Sampling::kIid}) {
    EXPECT_EQ(nesgd::data::sampling_from_string(nesgd::data::to_string(mode)), mode);
  }
}

// ---- keras sampling: ceil(n / B) batches per epoch, the last one short ----------------------------

TEST(BatchStream, KerasModeCoversEveryIndexOncePerEpochWithAShortLastBatch) {
  // n = 1003, B = 100: ceil = 11 batches per epoch, ten of 100 and one of 3.
  const int64_t n = 1003, batch = 100;
  BatchStream s(n, batch, derive_seed(7, nesgd::data::kStreamB), Sampling::kKeras);
  EXPECT_EQ(s.batches_per_epoch(), 11);
  std::vector<std::vector<int64_t>> epochs;
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> all;
    for (int i = 0; i < 11; ++i) {
      const auto& b = s.next();
      ASSERT_EQ(static_cast<int64_t>(b.size()), i < 10 ? 100 : 3) << "epoch " << epoch << ", batch " << i;
      all.insert(all.end(), b.begin(), b.end());
      EXPECT_EQ(s.epoch(), epoch + 1) << "the short batch still belongs to epoch " << epoch + 1;
    }
    epochs.push_back(all);
    std::sort(all.begin(), all.end());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(all[static_cast<size_t>(i)], i) << "epoch " << epoch;
  }
  EXPECT_NE(epochs[0], epochs[1]) << "each epoch must reshuffle";
  EXPECT_EQ(s.batches_drawn(), 33);
}

TEST(BatchStream, KerasModeSizesForSmallCases) {
  // n = 10, B = 4: 4, 4, 2 per epoch. n = 10, B = 10: one full batch. n = 10, B = 3: 3, 3, 3, 1.
  struct Case {
    int64_t n, batch;
    std::vector<size_t> sizes;
  };
  for (const Case& c : {Case{10, 4, {4, 4, 2}}, Case{10, 10, {10}}, Case{10, 3, {3, 3, 3, 1}}}) {
    BatchStream s(c.n, c.batch, 5, Sampling::kKeras);
    EXPECT_EQ(s.batches_per_epoch(), static_cast<int64_t>(c.sizes.size())) << "n " << c.n << ", B " << c.batch;
    for (int epoch = 0; epoch < 2; ++epoch) {
      for (size_t expected : c.sizes) EXPECT_EQ(s.next().size(), expected) << "n " << c.n << ", B " << c.batch;
    }
  }
}

TEST(BatchStream, KerasModeIsEpochModeWhenBDividesN) {
  // Same permutations, cut at the same places: sampling only matters when n % B != 0.
  BatchStream keras(1000, 200, derive_seed(3, nesgd::data::kStreamB), Sampling::kKeras);
  BatchStream epoch(1000, 200, derive_seed(3, nesgd::data::kStreamB), Sampling::kEpoch);
  EXPECT_EQ(keras.batches_per_epoch(), epoch.batches_per_epoch());
  for (int i = 0; i < 23; ++i) ASSERT_EQ(keras.next(), epoch.next()) << "batch " << i;
}

TEST(BatchStream, KerasModeBAndBPrimeReachTheirShortBatchTogether) {
  // NE's B and B' streams: the same n and B, so both have batches_per_epoch()
  // batches per epoch and every step pairs batches of equal size.
  BatchStream b(250, 100, derive_seed(9, nesgd::data::kStreamB), Sampling::kKeras);
  BatchStream bp(250, 100, derive_seed(9, nesgd::data::kStreamBPrime), Sampling::kKeras);
  for (int i = 0; i < 12; ++i) {
    const size_t size_b = b.next().size();
    EXPECT_EQ(size_b, bp.next().size()) << "step " << i;
    EXPECT_EQ(size_b, i % 3 == 2 ? 50u : 100u) << "step " << i;
  }
}

// Checkpoint resume: a stream restored from a saved state draws exactly what
// the original draws next, whether saved mid-epoch, right after the short
// batch (the next draw starts a new epoch) or right before it.
TEST(BatchStream, KerasModeStateRoundTripMidEpochAndAtTheShortBatch) {
  const int64_t n = 250, batch = 100;  // per epoch: 100, 100, 50
  for (int drawn_before_save : {1, 2, 3, 5, 6}) {
    BatchStream original(n, batch, derive_seed(4, nesgd::data::kStreamB), Sampling::kKeras);
    for (int i = 0; i < drawn_before_save; ++i) original.next();
    const std::string state = original.save_state();
    BatchStream restored(n, batch, derive_seed(99, nesgd::data::kStreamB), Sampling::kKeras);  // other seed on purpose
    restored.load_state(state);
    EXPECT_EQ(restored.epoch(), original.epoch());
    EXPECT_EQ(restored.batches_drawn(), original.batches_drawn());
    for (int i = 0; i < 7; ++i) {
      ASSERT_EQ(restored.next(), original.next()) << "saved after " << drawn_before_save << ", draw " << i;
    }
  }
  // A keras state does not load into an epoch-mode stream: the batches would differ.
  BatchStream keras(n, batch, 1, Sampling::kKeras);
  BatchStream epoch(n, batch, 1, Sampling::kEpoch);
  EXPECT_THROW(epoch.load_state(keras.save_state()), nesgd::Error);
}

// Found while writing the checkpoint fuzz target (its seeds
// fuzz/corpus/checkpoint/cursor-out-of-range.json and order-not-a-permutation.json
// reproduce it): load_state took the position and the order
// from the checkpoint unchecked, so a damaged one made next() read before the
// order's start (a negative position) or hand out indices outside the data
// set, and an all-zero generator state would make the next draw loop forever.
// Each is an nesgd::Error, and the stream is left as it was.
TEST(BatchStream, DamagedStateIsRefusedAndLeavesTheStreamAsItWas) {
  BatchStream saved(8, 2, derive_seed(11, 1), Sampling::kEpoch);
  saved.next();
  const std::string good = saved.save_state();
  // "nesgd-stream-v1 n batch sampling cursor epoch drawn\n<generator>\n<order>"
  const size_t line = good.find('\n');
  const size_t gen_end = good.find('\n', line + 1);
  const std::string generator = good.substr(line + 1, gen_end - line - 1);
  const std::string order = good.substr(gen_end + 1);
  auto state = [&](const std::string& header, const std::string& gen, const std::string& ord) {
    return header + "\n" + gen + "\n" + ord;
  };
  std::string zero_generator;
  for (size_t i = 0; i < std::mt19937_64::state_size; ++i) zero_generator += "0 ";
  zero_generator += "312";
  const std::vector<std::pair<std::string, std::string>> damaged{
      {state("nesgd-stream-v1 8 2 epoch -6 1 1", generator, order), "position -6"},
      {state("nesgd-stream-v1 8 2 epoch 9 1 1", generator, order), "position 9"},
      {state("nesgd-stream-v1 8 2 epoch 2 -1 1", generator, order), "epoch -1"},
      {state("nesgd-stream-v1 8 2 epoch 2 1 1", generator, "0 0 1 2 3 4 5 6 "), "not a permutation of the 8 samples"},
      {state("nesgd-stream-v1 8 2 epoch 2 1 1", generator, "0 1 2 3 4 5 6 99 "), "not a permutation"},
      {state("nesgd-stream-v1 8 2 epoch 2 1 1", zero_generator, order), "random generator state is all zero"},
      {state("nesgd-stream-v1 8 2 epoch 2 1 1", generator, "0 1 2"), "truncated"},
  };
  for (const auto& [text, fragment] : damaged) {
    BatchStream fresh(8, 2, derive_seed(11, 1), Sampling::kEpoch);
    BatchStream reference(8, 2, derive_seed(11, 1), Sampling::kEpoch);
    try {
      fresh.load_state(text);
      ADD_FAILURE() << "accepted: " << text.substr(0, 40);
      continue;
    } catch (const nesgd::Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
    EXPECT_EQ(draw(fresh, 6), draw(reference, 6)) << "a refused state changed the stream: " << fragment;
  }
  // The good state still restores exactly.
  BatchStream restored(8, 2, derive_seed(99, 1), Sampling::kEpoch);
  restored.load_state(good);
  EXPECT_EQ(draw(restored, 6), draw(saved, 6));
}
