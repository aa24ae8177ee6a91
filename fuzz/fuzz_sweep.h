// fuzz/fuzz_sweep.h - the part of the sweep targets after the file is parsed:
// what `nesgd sweep --config FILE --dry-run` does with it.
#pragma once

#include <string>

#include "fuzz_support.h"
#include "nesgd/exp/grid.h"
#include "nesgd/exp/sweep_file.h"
#include "nesgd/exp/run_id.h"

namespace nesgd::fuzz {

inline void sweep_file(const std::string& path) {
  expect_only_nesgd_errors([&] {
    const exp::SweepSpec spec = exp::sweep_spec_from_file(path);
    (void)exp::to_json(spec).dump();
    const auto runs = exp::expand(spec);
    if (runs.size() != spec.size()) std::abort();
    // Run ids hash the resolved configuration; a few suffice.
    for (size_t i = 0; i < runs.size() && i < 4; ++i) (void)exp::run_id(runs[i]);
  });
}

}  // namespace nesgd::fuzz
