// A sweep's runs with ids, shard membership and what the store holds (exp/plan.h).
#include "nesgd/exp/plan.h"

#include "nesgd/exp/run_id.h"

namespace nesgd::exp {

std::vector<PlannedRun> plan_sweep(const SweepSpec& spec, const Shard& shard, const ResultStore* store) {
  const std::vector<train::RunConfig> configs = expand(spec);
  std::vector<PlannedRun> plan;
  plan.reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    PlannedRun r;
    r.position = i;
    r.config = configs[i];
    r.id = run_id(configs[i]);
    r.in_shard = shard.contains(i);
    r.done = store != nullptr && store->has_result(r.id);
    plan.push_back(std::move(r));
  }
  return plan;
}

nlohmann::json sweep_description(const SweepSpec& spec, const std::vector<PlannedRun>& plan) {
  nlohmann::json j = to_json(spec);
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& r : plan) ids.push_back(r.id);
  j["run_ids"] = ids;
  return j;
}

}  // namespace nesgd::exp
