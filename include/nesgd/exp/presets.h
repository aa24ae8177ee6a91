// nesgd/exp/presets.h - the paper's studies as ready sweeps (torch-free).
//
// f1-fig2, c1-fig1, c2-fig2 cross the paper's 13 batch sizes with its alphas;
// f1-table3, c1-table3, c2-table3 raise alpha at B = 5000. Each has a --quick
// variant with the same shape at a size that runs in minutes. A preset is
// only a SweepSpec: nothing here trains or reads data.
#pragma once

#include <string>
#include <vector>

#include "nesgd/exp/grid.h"

namespace nesgd::exp {

// Seeds per point in the paper: each point is repeated 10 times from
// different random initializations.
constexpr int kPaperSeeds = 10;
// Seeds per point in the --quick presets: enough for a standard deviation.
constexpr int kQuickSeeds = 3;

struct PresetInfo {
  std::string name;         // "f1-fig2"
  std::string description;  // one line
};
// f1-fig2, c1-fig1, c2-fig2 (B grid x alpha grid) and f1-table3, c1-table3,
// c2-table3 (B = 5000, alpha = 1..11 or 1..7), all with 10 seeds.
const std::vector<PresetInfo>& presets();

// The preset's spec; `quick` gives its reduced variant (name + "-quick"): a
// training subset, a few batch sizes, two alphas (fig) or a short alpha grid
// (table3), 3 seeds and an iteration cap. A name ending in "-quick" is the
// quick variant too. Throws nesgd::Error for unknown names.
SweepSpec preset(const std::string& name, bool quick);

}  // namespace nesgd::exp
