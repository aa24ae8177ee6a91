// nesgd/exp/grid.h - what a sweep is: a base run configuration and the lists
// it is crossed over, expanded into the ordered list of runs (torch-free).
//
// A SweepSpec is plain data. expand() turns it into the ordered list of runs
// (one train::RunConfig each, validated, paper defaults filled). Where specs
// come from: exp/presets.h (the paper's studies), exp/sweep_file.h (TOML or
// JSON files), exp/lists.h (the "1..11" list syntax), exp/sweep_request.h (a
// command line). exp/shard.h splits the list among processes. Nothing here
// trains, reads data or touches the result store.
//
// Run order: config, then seed, then optimizer, then noise, then alpha, then batch size. A sweep stopped
// early therefore holds whole curves (every B and alpha) for its first seeds
// rather than ten seeds of its first batch sizes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nesgd/train/run_config.h"

#include "nesgd/text.h"

namespace nesgd::exp {

// The most runs one sweep may hold: a larger one is a typo or a hostile sweep
// file, refused before it is built. The paper's largest study has 520 runs.
constexpr size_t kMaxSweepRuns = 100000;

struct SweepSpec {
  std::string name;                   // e.g. "f1-fig2", "f1-fig2-quick" or "custom"; recorded in the store
  train::RunConfig base;              // every option but the crossed ones; l_star/l_stop < 0 = per config
  std::vector<std::string> configs;   // paper configs by model name: "f1", "c1", "c2", or "torchscript:PATH"
  std::vector<int64_t> batch_sizes;
  std::vector<double> alphas;
  std::vector<uint64_t> seeds;
  // Crossed too where given (empty: the base's one value): optimizer names (optim/optimizer_config.h)
  // and noises (optim/noise_control.h), to set NE beside its controls under one protocol.
  std::vector<std::string> optimizers;
  std::vector<std::string> noises;
  std::string dataset_override;       // non-empty: use this dataset for every config (else the paper's)

  size_t size() const {
    return configs.size() * batch_sizes.size() * alphas.size() * seeds.size() * std::max<size_t>(1, optimizers.size()) *
           std::max<size_t>(1, noises.size());
  }
};

// The runs of a sweep in the documented order. Each config gets its paper
// dataset (unless dataset_override) and its paper L*/L** (unless the base
// sets them); every run is validated. Throws nesgd::Error on an empty list, a
// duplicate value, more than kMaxSweepRuns runs, a base with match_batch crossed over several alphas
// (match_batch sets alpha) or a bad configuration, naming the field.
// A config name as a list gives it: the paper's names in lower case ("F1" -> "f1"), a
// "torchscript:PATH" as written (a path keeps its case).
inline std::string config_name(const std::string& item) {
  const std::string t = trim(item);
  return models::is_torchscript(t) ? t : lower(t);
}

std::vector<train::RunConfig> expand(const SweepSpec& spec);

nlohmann::json to_json(const SweepSpec& spec);

}  // namespace nesgd::exp
