#include "nesgd/data/batch_stream.h"

#include <algorithm>
#include <sstream>

#include "nesgd/error.h"

namespace nesgd::data {

std::string to_string(Sampling s) {
  switch (s) {
    case Sampling::kKeras: return "keras";
    case Sampling::kEpoch: return "epoch";
    case Sampling::kIid: return "iid";
  }
  return "unknown";
}

const NameList& sampling_names() {
  static const NameList names{to_string(Sampling::kKeras), to_string(Sampling::kEpoch), to_string(Sampling::kIid)};
  return names;
}

Sampling sampling_from_string(const std::string& s) {
  if (s == "keras") return Sampling::kKeras;
  if (s == "epoch") return Sampling::kEpoch;
  if (s == "iid") return Sampling::kIid;
  throw Error("unknown sampling '" + s +
              "': use 'keras' (reshuffled passes of ceil(n/B) batches, the last one short), 'epoch' (reshuffled "
              "passes of floor(n/B) full batches) or 'iid' (independent uniform batches)");
}

uint64_t derive_seed(uint64_t seed, uint64_t stream_id) {
  // splitmix64 applied twice: a good mixer, so nearby seeds give unrelated streams.
  auto mix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  return mix(mix(seed) ^ (stream_id * 0xd1b54a32d192ed03ULL));
}

BatchStream::BatchStream(int64_t dataset_size, int64_t batch_size, uint64_t seed, Sampling sampling)
    : n_(dataset_size), batch_size_(batch_size), sampling_(sampling), rng_(seed) {
  if (batch_size_ <= 0) throw Error("batch size must be positive, got " + std::to_string(batch_size_));
  if (batch_size_ > n_) {
    throw Error("batch size " + std::to_string(batch_size_) + " exceeds the " + std::to_string(n_) +
                " training samples: lower --batch-size or raise --train-subset");
  }
  order_.resize(static_cast<size_t>(n_));
  for (int64_t i = 0; i < n_; ++i) order_[static_cast<size_t>(i)] = i;
  batch_.resize(static_cast<size_t>(batch_size_));
  if (sampling_ != Sampling::kIid) reshuffle();
}

int64_t BatchStream::batches_per_epoch() const {
  return sampling_ == Sampling::kKeras ? (n_ + batch_size_ - 1) / batch_size_ : n_ / batch_size_;
}

void BatchStream::reshuffle() {
  // Fisher-Yates spelled out: the permutation is then fixed by the engine and
  // one uniform draw per slot, the same on every run with the same library.
  for (int64_t i = n_ - 1; i > 0; --i) {
    std::uniform_int_distribution<int64_t> pick(0, i);
    std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(pick(rng_))]);
  }
  cursor_ = 0;
  ++epoch_;
}

const std::vector<int64_t>& BatchStream::next() {
  if (sampling_ == Sampling::kKeras) {
    // With n % B == 0 this is kEpoch's sequence exactly: the same permutations,
    // cut at the same places.
    if (cursor_ >= n_) reshuffle();
    const int64_t size = std::min(batch_size_, n_ - cursor_);
    batch_.assign(order_.begin() + cursor_, order_.begin() + cursor_ + size);
    cursor_ += size;
  } else if (sampling_ == Sampling::kEpoch) {
    if (cursor_ + batch_size_ > n_) reshuffle();
    std::copy(order_.begin() + cursor_, order_.begin() + cursor_ + batch_size_, batch_.begin());
    cursor_ += batch_size_;
  } else {
    // Partial Fisher-Yates: the first batch_size_ slots become a uniform
    // sample without replacement; order_ stays a permutation for the next draw.
    for (int64_t i = 0; i < batch_size_; ++i) {
      std::uniform_int_distribution<int64_t> pick(i, n_ - 1);
      std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(pick(rng_))]);
    }
    std::copy(order_.begin(), order_.begin() + batch_size_, batch_.begin());
    epoch_ = (drawn_ + 1) / std::max<int64_t>(1, batches_per_epoch());
  }
  ++drawn_;
  return batch_;
}

std::string BatchStream::save_state() const {
  std::ostringstream out;
  out << "nesgd-stream-v1 " << n_ << ' ' << batch_size_ << ' ' << to_string(sampling_) << ' ' << cursor_ << ' '
      << epoch_ << ' ' << drawn_ << '\n'
      << rng_ << '\n';
  for (int64_t v : order_) out << v << ' ';
  return out.str();
}

void BatchStream::load_state(const std::string& state) {
  // A checkpoint may be damaged: everything is read into locals and checked
  // (positions in range, the order a permutation, a generator that is not
  // stuck) before the stream changes, so a bad state leaves it as it was and
  // can never make next() read outside the order or loop forever.
  std::istringstream in(state);
  std::string tag, sampling;
  int64_t n = 0, batch = 0, cursor = 0, epoch = 0, drawn = 0;
  in >> tag >> n >> batch >> sampling >> cursor >> epoch >> drawn;
  if (!in || tag != "nesgd-stream-v1") throw Error("checkpoint holds no valid minibatch stream state");
  if (n != n_ || batch != batch_size_ || sampling != to_string(sampling_)) {
    throw Error("checkpointed stream is for " + std::to_string(n) + " samples, batch " + std::to_string(batch) +
                ", " + sampling + " sampling; this run has " + std::to_string(n_) + ", " +
                std::to_string(batch_size_) + ", " + to_string(sampling_));
  }
  if (cursor < 0 || cursor > n_ || epoch < 0 || drawn < 0) {
    throw Error("checkpointed stream state is damaged: position " + std::to_string(cursor) + ", epoch " +
                std::to_string(epoch) + ", batches drawn " + std::to_string(drawn) + " out of range");
  }
  std::mt19937_64 rng;
  in >> rng;
  std::vector<int64_t> order(static_cast<size_t>(n_));
  for (auto& v : order) in >> v;
  if (!in) throw Error("checkpointed stream state is truncated");
  std::vector<bool> seen(static_cast<size_t>(n_), false);
  for (int64_t v : order) {
    if (v < 0 || v >= n_ || seen[static_cast<size_t>(v)]) {
      throw Error("checkpointed stream state is damaged: its order is not a permutation of the " +
                  std::to_string(n_) + " samples");
    }
    seen[static_cast<size_t>(v)] = true;
  }
  // The all-zero Mersenne Twister state is the one state that outputs zeros
  // forever (a saved generator never is in it), and uniform_int_distribution
  // would reject those zeros forever: a hang. A non-zero state cannot give a
  // whole twisted block (312 words) of zeros.
  std::mt19937_64 probe = rng;
  bool stuck = true;
  for (size_t i = 0; i < 2 * std::mt19937_64::state_size && stuck; ++i) stuck = probe() == 0;
  if (stuck) throw Error("checkpointed stream state is damaged: its random generator state is all zero");
  rng_ = rng;
  order_ = std::move(order);
  cursor_ = cursor;
  epoch_ = epoch;
  drawn_ = drawn;
}

}  // namespace nesgd::data
