// What a sweep did, counted (exp/sweep_summary.h): as it runs, or afterwards from the store.
#include "nesgd/exp/sweep_summary.h"

#include <map>
#include <set>

namespace nesgd::exp {

void count_run(SweepSummary& summary, const std::string& status) {
  ++summary.ran_here;
  summary.converged += status == "converged" ? 1 : 0;
  summary.not_converged += status == "not_converged" ? 1 : 0;
  summary.diverged += status == "diverged" ? 1 : 0;
}

SweepSummary recount_sweep(const std::vector<PlannedRun>& plan, const std::vector<nlohmann::json>& records) {
  std::set<std::string> stored_before;
  SweepSummary sum;
  sum.grid_size = plan.size();
  for (const auto& r : plan) {
    if (!r.in_shard) continue;
    ++sum.shard_size;
    if (r.done) stored_before.insert(r.id);
  }
  sum.already_done = stored_before.size();
  std::map<std::string, std::string> status_of;
  std::set<std::string> pack_starts;
  for (const auto& rec : records) {
    const std::string id = rec.value("run_id", std::string());
    status_of[id] = rec.value("status", std::string());
    if (rec.contains("pack") && rec["pack"].value("index", -1) == 0) pack_starts.insert(id);
  }
  for (const auto& r : plan) {
    if (!r.in_shard || stored_before.count(r.id) > 0) continue;
    const auto it = status_of.find(r.id);
    if (it == status_of.end()) {
      ++sum.missing;
      continue;
    }
    count_run(sum, it->second);
    sum.packs += pack_starts.count(r.id);
  }
  return sum;
}

}  // namespace nesgd::exp
