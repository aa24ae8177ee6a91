// nesgd/exp/pack_policy.h - whether and how a sweep trains runs together as
// packs (train/pack.h): the --pack option and the grouping of pending runs
// into units of work (torch-free).
//
// Packs keep no checkpoints, so checkpointed sweeps train one run at a time:
// "auto" then means 1, and an explicit K > 1 beside checkpoints is refused.
// Runs share a pack only when train::pack_key says they may and their alphas
// are both 1 or both not 1 (no member computes a B' it does not use). How
// large an automatic pack is depends on the device and is the caller's
// (train::auto_pack_size). Nothing here trains or prints.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nesgd/exp/plan.h"
#include "nesgd/train/run_config.h"

namespace nesgd::exp {

// SweepOptions::pack for "as large as the device allows".
constexpr int64_t kAutoPack = 0;

// --pack as given ("auto" or a positive integer K) with --checkpoint-every's
// seconds: kAutoPack, or the most runs a pack may hold (1 = one run at a time).
// Throws nesgd::Error naming the flag for anything else, and for K > 1 with checkpoints.
int64_t pack_option(const std::string& text, double checkpoint_every_seconds);

// The pack size for a group of runs like `config` when the option is kAutoPack.
using AutoPackSize = std::function<int64_t(const train::RunConfig& config)>;

// The pending runs as units of work, in grid order: packs of runs that may
// share one, at most `pack` each (kAutoPack: auto_size of the group's first
// run), and single runs (pack 1, or runs a pack cannot hold).
std::vector<std::vector<const PlannedRun*>> work_units(const std::vector<const PlannedRun*>& pending, int64_t pack,
                                                       const AutoPackSize& auto_size);

}  // namespace nesgd::exp
