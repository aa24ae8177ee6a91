// nesgd/optim/ne_pass.h - how an NE step computes its two gradients (torch-free).
//
// g_NE = alpha g_B + (1 - alpha) g_B' is the gradient of one per-sample
// weighted loss over the 2B samples of [B; B']:
//
//     sum_{i in B} (alpha / |B|) l_i  +  sum_{j in B'} ((1 - alpha) / |B'|) l_j
//
// so it can come from one forward and one backward pass over [B; B'] (joint,
// the default) or from a pass over each batch, LibTorch accumulating the two
// backward passes (split). The arithmetic is the same up to the order of
// summation, so the pass is execution only: not part of a run's identity,
// recorded with its result. Ghost batch norm stays exact in the joint pass:
// B and B' are separate segments of whole ghost batches
// (models/ghost_batch_norm.h).
#pragma once

#include "nesgd/names.h"

namespace nesgd::optim {

constexpr const char* kNEPassJoint = "joint";
constexpr const char* kNEPassSplit = "split";
// The default: one pass over 2B rows runs nearer the machine's ceiling at small B
// and launches each kernel once on a GPU (docs/PERFORMANCE.md).
constexpr const char* kDefaultNEPass = kNEPassJoint;
// What a stored record without the key ran: every run before the joint pass existed.
constexpr const char* kLegacyNEPass = kNEPassSplit;

inline const NameList& ne_pass_names() {
  static const NameList names{kNEPassJoint, kNEPassSplit};
  return names;
}

// What a run's record says it executed: the joint or the split pass, or
// "single" where no step needed B' (alpha = 1: one pass over B, whatever was asked).
constexpr const char* kNEPassSingle = "single";

}  // namespace nesgd::optim
