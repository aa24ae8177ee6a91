// optimizer_state.h (private to src/nesgd/optim) - what nesgd's own torch::optim optimizers
// share: the key of a parameter's state and the archive reads of their options and states.
#pragma once

#include <torch/torch.h>

#include <sstream>
#include <string>
#include <type_traits>

namespace nesgd::optim::detail {

// The key under which torch::optim::Optimizer keeps a parameter's state, the
// one torch's own optimizers and its serialize() use: the address of the
// tensor's impl, as text ("0x...", ostream's form) in LibTorch 1.x and as the
// pointer itself in 2.x. Save and load only find the state under that key.
template <typename Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << static_cast<const void*>(p.unsafeGetTensorImpl());
    return os.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

inline c10::IValue read_value(torch::serialize::InputArchive& archive, const char* key) {
  c10::IValue v;
  archive.read(key, v);
  return v;
}

// The state of parameter p in `state` (an Optimizer's state_), made by `make` on first use.
template <typename State, typename Map, typename Make>
State& state_of(Map& state, const torch::Tensor& p, Make make) {
  using Key = typename std::decay_t<Map>::key_type;
  const Key key = state_key<Key>(p);
  auto it = state.find(key);
  if (it == state.end()) it = state.emplace(key, make()).first;
  return static_cast<State&>(*it->second);
}

}  // namespace nesgd::optim::detail
