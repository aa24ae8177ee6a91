// A sweep's grid (exp/grid.h): the lists checked, crossed and validated into runs.
#include "nesgd/exp/grid.h"

#include <set>
#include <sstream>

#include "nesgd/error.h"

namespace nesgd::exp {
namespace {

template <typename T>
void check_unique(const std::vector<T>& values, const std::string& what) {
  if (values.empty()) throw Error(what + ": the list is empty; give at least one value");
  std::set<T> seen;
  for (const T& v : values) {
    if (!seen.insert(v).second) {
      std::ostringstream os;
      os << v;
      throw Error(what + ": " + os.str() + " appears twice; each value must appear once (a run is done once)");
    }
  }
}

// The product is checked factor by factor: it must not overflow on the way.
void check_sweep_size(const SweepSpec& spec) {
  size_t runs_total = 1;
  for (size_t n : {spec.configs.size(), spec.batch_sizes.size(), spec.alphas.size(), spec.seeds.size(),
                   std::max<size_t>(1, spec.optimizers.size()), std::max<size_t>(1, spec.noises.size())}) {
    if (n > kMaxSweepRuns / runs_total) {
      throw Error("the sweep has more than " + std::to_string(kMaxSweepRuns) + " runs (" +
                  std::to_string(spec.configs.size()) + " configs x " + std::to_string(spec.batch_sizes.size()) +
                  " batch sizes x " + std::to_string(spec.alphas.size()) + " alphas x " +
                  std::to_string(spec.seeds.size()) + " seeds x " +
                  std::to_string(std::max<size_t>(1, spec.optimizers.size())) + " optimizers x " +
                  std::to_string(std::max<size_t>(1, spec.noises.size())) +
                  " noises): check the lists, or split it into several sweeps");
    }
    runs_total *= n;
  }
}

// One run of the grid: the base with the paper config's model and dataset and the crossed values.
train::RunConfig grid_run(const SweepSpec& spec, const train::PaperConfig& paper, uint64_t seed,
                          const std::string& optimizer, const std::string& noise, double alpha, int64_t b) {
  train::RunConfig c = spec.base;
  c.optimizer.name = optimizer;
  c.noise = noise;
  if (c.model != paper.model) c.model_sha256.clear();  // the base's hash is of another model's file
  c.model = paper.model;
  c.dataset = spec.dataset_override.empty() ? paper.dataset : spec.dataset_override;
  c.batch_size = b;
  c.alpha = alpha;
  c.seed = seed;
  c.resolve_defaults_and_validate();
  if (c.train_subset > 0 && b > c.train_subset) {
    throw Error("batch size " + std::to_string(b) + " exceeds --train-subset " + std::to_string(c.train_subset) +
                ": drop it from the batch sizes or raise the subset");
  }
  return c;
}

}  // namespace

std::vector<train::RunConfig> expand(const SweepSpec& spec) {
  check_unique(spec.configs, "configs");
  check_unique(spec.batch_sizes, "batch sizes");
  check_unique(spec.alphas, "alphas");
  check_unique(spec.seeds, "seeds");
  const std::vector<std::string> optimizers =
      spec.optimizers.empty() ? std::vector<std::string>{spec.base.optimizer.name} : spec.optimizers;
  const std::vector<std::string> noises = spec.noises.empty() ? std::vector<std::string>{spec.base.noise} : spec.noises;
  check_unique(optimizers, "optimizers");
  check_unique(noises, "noises");
  if (spec.base.match_batch > 0 && spec.alphas.size() > 1) {
    throw Error("--match-batch " + std::to_string(spec.base.match_batch) +
                " sets each run's alpha from its batch size: give no --alphas list");
  }
  check_sweep_size(spec);
  std::vector<train::RunConfig> runs;
  runs.reserve(spec.size());
  for (const std::string& config : spec.configs) {
    // A TorchScript model has no paper config: the dataset comes from --dataset, L*/L** from the
    // base (train::kOwnModelLStar / LStop unless given).
    if (models::is_torchscript(config) && spec.dataset_override.empty()) {
      throw Error("sweep: " + config + " is your own model, with no paper dataset: pass --dataset (e.g. npz:PATH)");
    }
    const train::PaperConfig paper = models::is_torchscript(config)
                                         ? train::PaperConfig{config, spec.dataset_override, train::kOwnModelLStar,
                                                              train::kOwnModelLStop}
                                         : train::paper_config(config);  // throws for unknown configs
    for (uint64_t seed : spec.seeds) {
      for (const std::string& optimizer : optimizers) {
        for (const std::string& noise : noises) {
          for (double alpha : spec.alphas) {
            for (int64_t b : spec.batch_sizes) runs.push_back(grid_run(spec, paper, seed, optimizer, noise, alpha, b));
          }
        }
      }
    }
  }
  return runs;
}

nlohmann::json to_json(const SweepSpec& s) {
  return {{"name", s.name},
          {"configs", s.configs},
          {"batch_sizes", s.batch_sizes},
          {"alphas", s.alphas},
          {"seeds", s.seeds},
          {"optimizers", s.optimizers},
          {"noises", s.noises},
          {"dataset", s.dataset_override},
          {"base", train::to_json(s.base)},
          {"runs", s.size()}};
}

}  // namespace nesgd::exp
