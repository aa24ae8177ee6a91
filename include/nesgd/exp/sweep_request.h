// nesgd/exp/sweep_request.h - a sweep as a command line asks for it, merged into one SweepSpec (torch-free).
//
// `nesgd sweep` takes a preset, a sweep file, crossed lists and any `nesgd
// train` flag. Precedence, lowest first: RunConfig's defaults, the preset, the
// sweep file (which may name the preset itself), the train flags given on the
// command line, and for the crossed fields the lists (--batch-sizes ...) or
// their single-value flags (--batch-size ...). The caller says which flags
// were given; a flag at its default value that was not given never overrides
// the file. Nothing here parses flags or prints.
#pragma once

#include <set>
#include <string>

#include "nesgd/exp/grid.h"
#include "nesgd/train/run_config.h"

namespace nesgd::exp {

struct SweepRequest {
  std::string preset;       // a preset name; empty: none
  std::string config_file;  // a sweep file (.json or .toml); empty: none
  bool quick = false;       // the preset's short variant
  std::string name;         // recorded sweep name; empty: the preset's, the file's or "custom"
  // The crossed lists in parse_number_list syntax ("100,200", "1..11"); empty: not given.
  std::string configs, batch_sizes, alphas, seeds;
  // Comma-separated names ("keras-adam,adapnm", "ne,isotropic"); empty: not given.
  std::string optimizers, noises;
  // The train flags as parsed (RunConfig's defaults where not given), and the
  // names of those given, as `nesgd train` spells them ("--lr", "--batch-size").
  train::RunConfig flags;
  std::set<std::string> given_flags;
};

// The sweep the request describes. Throws nesgd::Error, naming the flags, for
// a preset named differently by the file and the request, --quick without a
// preset, a list given with its single-value flag, a given flag that sets no
// run-configuration key, and whatever sweep_spec_from_json refuses in the
// file (prefixed with the file's name).
SweepSpec sweep_spec_from_request(const SweepRequest& request);

// The `nesgd train` flag that sets a run-configuration key: "--weight-decay"
// for "weight_decay", "--load-model" for "init_model", "--optimizer" for the
// optimizer's "name".
std::string flag_for_config_key(const std::string& key);

}  // namespace nesgd::exp
