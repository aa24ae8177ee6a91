// Whether and how a sweep packs its runs (exp/pack_policy.h).
#include "nesgd/exp/pack_policy.h"

#include <algorithm>
#include <map>

#include "nesgd/error.h"
#include "nesgd/train/pack.h"

namespace nesgd::exp {

int64_t pack_option(const std::string& text, double checkpoint_every_seconds) {
  if (text == "auto") return checkpoint_every_seconds > 0 ? 1 : kAutoPack;
  int64_t k = 0;
  try {
    size_t used = 0;
    k = std::stoll(text, &used);
    if (used != text.size()) k = 0;
  } catch (const std::exception&) {
    k = 0;
  }
  if (k < 1) throw Error("--pack must be 'auto' or a positive integer (1 = one run at a time), got '" + text + "'");
  if (k > 1 && checkpoint_every_seconds > 0) {
    throw Error("--checkpoint-every needs --pack 1: packs keep no checkpoints (a killed pack redoes its unfinished runs)");
  }
  return k;
}

std::vector<std::vector<const PlannedRun*>> work_units(const std::vector<const PlannedRun*>& pending, int64_t pack,
                                                       const AutoPackSize& auto_size) {
  std::vector<std::vector<const PlannedRun*>> units;
  if (pack == 1) {
    for (const PlannedRun* r : pending) units.push_back({r});
    return units;
  }
  std::map<std::string, std::vector<const PlannedRun*>> groups;
  std::vector<std::string> order;
  for (const PlannedRun* r : pending) {
    if (!train::pack_unsupported_reason(r->config).empty()) {
      units.push_back({r});
      continue;
    }
    const std::string key = train::pack_key(r->config) + (r->config.alpha != 1.0 ? "|ne" : "|plain");
    if (groups.find(key) == groups.end()) order.push_back(key);
    groups[key].push_back(r);
  }
  for (const std::string& key : order) {
    const auto& runs = groups[key];
    const int64_t k = pack > 1 ? pack : auto_size(runs.front()->config);
    for (size_t i = 0; i < runs.size(); i += static_cast<size_t>(k)) {
      units.emplace_back(runs.begin() + static_cast<std::ptrdiff_t>(i),
                         runs.begin() + static_cast<std::ptrdiff_t>(std::min(runs.size(), i + static_cast<size_t>(k))));
    }
  }
  std::stable_sort(units.begin(), units.end(),
                   [](const auto& a, const auto& b) { return a.front()->position < b.front()->position; });
  return units;
}

}  // namespace nesgd::exp
